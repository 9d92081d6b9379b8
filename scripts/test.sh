#!/usr/bin/env bash
# The project's test command (README, .ci/run): CI's gates, then the notebooks, then pytest.
# Fails when nbdev-clean would change a notebook, when nbdev-export would change the
# library, when a notebook fails under nbdev-test, or when pytest fails or collects nothing.
#
# Each notebook is executed once: step 3 is nbdev-test run through scripts/run_nbs.py, which
# also keeps every executed notebook (with its outputs) in the execution cache docs/_exec/;
# the docs build of tests/test_docs_site.py renders those outputs instead of executing the
# notebooks again (VLARL_DOCS_REQUIRE_CACHE=1: a notebook without an entry fails it at once).
# Prints the time of each step (and at the end, also after a failure, all of them), the
# slowest notebooks (--timing) and the slowest tests (--durations).
set -uo pipefail
cd "$(dirname "$0")/.."
V=${VENV:-.venv}/bin
export MPLBACKEND=Agg PYTHONHASHSEED=0 RAY_AUTH_MODE=disabled
export MUJOCO_GL=${MUJOCO_GL:-egl} PYOPENGL_PLATFORM=${PYOPENGL_PLATFORM:-egl}
# --flags runs flagged cells the docs build skips: the cache keys then differ, let it execute those
if [ -z "${NBDEV_TEST_FLAGS:-}" ]; then export VLARL_DOCS_REQUIRE_CACHE=${VLARL_DOCS_REQUIRE_CACHE:-1}; fi
t0=$(date +%s)
fail=0
snap() { find "$@" -type f \( -name '*.ipynb' -o -name '*.py' \) -not -path '*/.ipynb_checkpoints/*' -print0 2>/dev/null | sort -z | xargs -0 sha256sum; }

times=()            # "name<TAB>seconds" of each finished step
step=""; ts=0
begin() { step=$1; ts=$(date +%s); }
end() { local s=$(( $(date +%s) - ts )); times+=("$step"$'\t'"$s"); echo "   ($step: $s s)"; step=""; }
summary() {
  local rc=$?
  [ -n "$step" ] && times+=("$step"$'\t'"$(( $(date +%s) - ts )) (stopped)")
  echo "== step times (s):"
  for t in "${times[@]}"; do printf '   %-34s %s\n' "${t%%$'\t'*}" "${t#*$'\t'}"; done
  printf '   %-34s %s\n' "total" "$(( $(date +%s) - t0 ))"
  exit "$rc"
}
trap summary EXIT

echo "== gate 1/4: nbdev-clean leaves the notebooks unchanged"
begin "gate 1 (nbdev-clean)"
before=$(snap nbs); "$V/nbdev-clean" >/dev/null || { echo "FAIL: nbdev-clean errored"; exit 1; }
after=$(snap nbs)
if [ "$before" != "$after" ]; then
  echo "FAIL: nbdev-clean changed these notebooks (run 'make clean-nbs' and commit):"
  diff <(echo "$before") <(echo "$after") | grep '^>' | awk '{print "  " $3}'
  fail=1
fi
end

echo "== gate 2/4: nbdev-export leaves the library unchanged, README.md matches nbs/index.ipynb"
begin "gate 2 (nbdev-export, README)"
before=$(snap vlarl); "$V/nbdev-export" || { echo "FAIL: nbdev-export errored"; exit 1; }
after=$(snap vlarl)
if [ "$before" != "$after" ]; then
  echo "FAIL: nbdev-export changed the library (vlarl/ is generated: export and commit):"
  diff <(echo "$before") <(echo "$after") | grep '^[<>]' | awk '{print "  " $3}' | sort -u
  fail=1
fi
"$V/python" scripts/make_readme.py --check || fail=1
end
echo "== gate: ruff (errors in vlarl/, scripts/, tests/; long and joined lines of vlarl/ within scripts/lint_budget.json)"
begin "gate (ruff)"
"$V/python" scripts/lint.py || fail=1
end
[ "$fail" = 0 ] || exit 1

echo "== 3/4: nbdev-test (cells flagged $(grep '^tst_flags' pyproject.toml | cut -d'"' -f2) are skipped; executed notebooks kept in docs/_exec for the docs build)"
begin "3 notebooks (nbdev-test)"
"$V/python" scripts/run_nbs.py --n-workers 2 --timing ${NBDEV_TEST_FLAGS:+--flags "$NBDEV_TEST_FLAGS"} || { echo "FAIL: nbdev-test"; exit 1; }
end
if [ -z "${NBDEV_TEST_FLAGS:-}" ]; then
  echo "== gate: the committed outputs equal this run's (scripts/outputs.py; 'make outputs' refreshes them)"
  begin "gate (committed outputs)"
  "$V/python" scripts/outputs.py check || exit 1
  end
fi

echo "== 4/4: pytest (the docs build renders the notebooks executed in step 3)"
begin "4 pytest"
"$V/python" -m pytest tests -q -p no:cacheprovider --durations=15 --durations-min=1 "$@"
rc=$?
end
if [ "$rc" = 5 ]; then echo "FAIL: pytest collected no tests"; exit 1; fi
[ "$rc" = 0 ] || { echo "FAIL: pytest (exit $rc)"; exit "$rc"; }
echo "== all gates passed in $(( $(date +%s) - t0 )) s"
