#!/usr/bin/env bash
# Set up vlarl on a fresh machine: Debian GL libraries for headless MuJoCo rendering
# (and Chromium for the docs browser test), a virtual environment in .venv, and the
# pinned packages (pyproject.toml + the lock in constraints.txt). Idempotent: a second
# run with unchanged pins only checks and returns.
#
#   scripts/setup.sh            # runtime (what `make demo` needs)
#   scripts/setup.sh --dev      # + test/docs tooling and Chromium (what `make test` needs)
#
# Environment: PYTHON (default python3, >= 3.10), VENV (default .venv),
# TORCH_INDEX_URL (optional pip index for torch, e.g. a CPU-only wheel index).
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
for a in "$@"; do
  case "$a" in
    --dev) DEV=1 ;;
    *) echo "setup.sh: unknown option '$a' (expected --dev)" >&2; exit 2 ;;
  esac
done

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

# 1. Debian packages, only the missing ones.
pkgs=(libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri libosmesa6)
[ "$DEV" = 1 ] && pkgs+=(chromium)
if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  echo "setup: not a Debian system; make sure EGL/OSMesa (and chromium for tests) are installed" >&2
fi

# 2. The virtual environment, re-installed only when the pins change.
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || { echo "setup: $PYTHON is older than 3.10" >&2; exit 1; }
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)-dev$DEV
stamp="$VENV/.vlarl-setup"
if [ -f "$stamp" ] && { [ "$(cat "$stamp")" = "$want" ] || { [ "$DEV" = 0 ] && [ "$(cat "$stamp")" = "${want%-dev0}-dev1" ]; }; }; then
  echo "setup: $VENV is up to date"
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip >/dev/null
torch_args=()
[ -n "${TORCH_INDEX_URL:-}" ] && torch_args=(--index-url "$TORCH_INDEX_URL")
echo "setup: installing torch==2.13.0"
"${pip[@]}" install "torch==2.13.0" "${torch_args[@]}"
extra=""; [ "$DEV" = 1 ] && extra="[dev]"
echo "setup: installing vlarl$extra with the pinned set (constraints.txt)"
"${pip[@]}" install -c constraints.txt -e ".$extra"
echo "$want" > "$stamp"
echo "setup: done ($VENV)"
