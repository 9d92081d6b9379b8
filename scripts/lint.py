#!/usr/bin/env python
"""Lint gate (make test): ruff's error rules must find nothing in vlarl/, scripts/ and tests/, and the long lines
(> 120 characters) and `;`-joined statements of the generated library, and the notebooks' export cells over 40 lines
(one long definition each: `scripts/split_cells.py --check nbs/*.ipynb` lists them), may not grow beyond the
committed budget.

    python scripts/lint.py            # the gate
    python scripts/lint.py --update   # lower the budget to today's counts (never raises it)

The budget is a ratchet: the code base had 1,037 lines over 120 characters and 232 `;`-joined statements when the
gate was introduced; each change may only keep or lower them, and `--update` records the new counts. The symbol index
`vlarl/_modidx.py` is written by nbdev (one long line per exported name) and is not counted: it grew with every new
export although no line of code got longer (counted without it, the library had 807 long lines on 2026-12-07)."""
import json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET = ROOT / "scripts" / "lint_budget.json"
ERRORS = "E9,F63,F7,F82"                       # syntax errors, invalid comparisons, misplaced statements, undefined names

def ruff(*args) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "ruff"
    return subprocess.run([str(exe), "check", "--no-cache", *args], cwd=ROOT, capture_output=True, text=True)

def counts() -> dict:
    "Violations per budgeted rule in vlarl/ (E501 at 120 characters, E702), the generated symbol index excluded."
    r = ruff("vlarl", "--select", "E501,E702", "--line-length", "120", "--output-format", "json", "--exit-zero",
             "--extend-exclude", "vlarl/_modidx.py")
    out = {"E501": 0, "E702": 0}
    for v in json.loads(r.stdout or "[]"): out[v["code"]] += 1
    out["export_cells_over_40_lines"] = long_export_cells()
    return out

def long_export_cells() -> int:
    "Export cells of the notebooks over 40 lines, counted by scripts/split_cells.py (which splits those it can)."
    sys.path.insert(0, str(ROOT / "scripts"))
    from split_cells import long_cells
    return sum(len(long_cells(json.loads(p.read_text()))) for p in sorted((ROOT / "nbs").rglob("*.ipynb"))
               if ".ipynb_checkpoints" not in p.parts)

def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    r = ruff("vlarl", "scripts", "tests", "--select", ERRORS, "--output-format", "concise")
    if r.returncode != 0:
        print("FAIL: ruff found errors:\n" + r.stdout.strip()); return 1
    now, budget = counts(), json.loads(BUDGET.read_text())
    if "--update" in argv:
        BUDGET.write_text(json.dumps({k: min(now[k], budget[k]) for k in budget}, indent=1) + "\n"); print(f"budget: {now}"); return 0
    over = {k: (now[k], budget[k]) for k in budget if now[k] > budget[k]}
    if over:
        print("FAIL: more long or joined lines in vlarl/ than the budget: " + ", ".join(f"{k} {a} > {b}" for k, (a, b) in over.items())
              + f"  (list them: ruff check vlarl --select {','.join(over)} --line-length 120)"); return 1
    lower = {k: now[k] for k in budget if now[k] < budget[k]}
    print(f"lint: no errors; budget {budget}, now {now}" + (f" (lower it: python scripts/lint.py --update)" if lower else ""))
    return 0

if __name__ == "__main__": sys.exit(main())
