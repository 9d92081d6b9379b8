#!/usr/bin/env bash
# The project's test command (README, .ci/run): CI's gates, then the notebooks, then pytest.
# Fails when nbdev-clean would change a notebook, when nbdev-export would change the
# library, when a notebook fails under nbdev-test, or when pytest fails or collects nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
V=${VENV:-.venv}/bin
export MPLBACKEND=Agg PYTHONHASHSEED=0 RAY_AUTH_MODE=disabled
export MUJOCO_GL=${MUJOCO_GL:-egl} PYOPENGL_PLATFORM=${PYOPENGL_PLATFORM:-egl}
t0=$(date +%s)
fail=0
snap() { find "$@" -type f \( -name '*.ipynb' -o -name '*.py' \) -not -path '*/.ipynb_checkpoints/*' -print0 2>/dev/null | sort -z | xargs -0 sha256sum; }

echo "== gate 1/4: nbdev-clean leaves the notebooks unchanged"
before=$(snap nbs); "$V/nbdev-clean" >/dev/null || { echo "FAIL: nbdev-clean errored"; exit 1; }
after=$(snap nbs)
if [ "$before" != "$after" ]; then
  echo "FAIL: nbdev-clean changed these notebooks (run 'make clean-nbs' and commit):"
  diff <(echo "$before") <(echo "$after") | grep '^>' | awk '{print "  " $3}'
  fail=1
fi

echo "== gate 2/4: nbdev-export leaves the library unchanged, README.md matches nbs/index.ipynb"
before=$(snap vlarl); "$V/nbdev-export" || { echo "FAIL: nbdev-export errored"; exit 1; }
after=$(snap vlarl)
if [ "$before" != "$after" ]; then
  echo "FAIL: nbdev-export changed the library (vlarl/ is generated: export and commit):"
  diff <(echo "$before") <(echo "$after") | grep '^[<>]' | awk '{print "  " $3}' | sort -u
  fail=1
fi
"$V/python" scripts/make_readme.py --check || fail=1
[ "$fail" = 0 ] || exit 1

echo "== 3/4: nbdev-test (cells flagged $(grep '^tst_flags' pyproject.toml | cut -d'"' -f2) are skipped)"
"$V/nbdev-test" --n-workers 2 --timing ${NBDEV_TEST_FLAGS:+--flags "$NBDEV_TEST_FLAGS"} || { echo "FAIL: nbdev-test"; exit 1; }

echo "== 4/4: pytest"
"$V/python" -m pytest tests -q -p no:cacheprovider "$@"
rc=$?
if [ "$rc" = 5 ]; then echo "FAIL: pytest collected no tests"; exit 1; fi
[ "$rc" = 0 ] || { echo "FAIL: pytest (exit $rc)"; exit "$rc"; }
echo "== all gates passed in $(( $(date +%s) - t0 )) s"
