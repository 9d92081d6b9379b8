"""Collect `vlarl eval --json` results into nbs/tutorials/data/rl/evals.json, the file `vlarl.experiments.report` reads.

Usage:
  python scripts/collect_evals.py runs/evals/D4_spatial.json runs/evals/PP.seed0_spatial.json ...

Each file is named WHO_SUITE.json (WHO: the policy and how it was decoded, e.g. D4, PP.seed0, D4.best4_T0.5);
its result is stored under evals[WHO][SUITE] and read as `evals.WHO.SUITE`. Existing entries are kept unless a
file replaces them.
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEEP = ("success_rate", "ci", "episodes", "mean_length", "seconds", "greedy", "best_of", "scorer", "temperature", "outcomes")


def main(files):
    from vlarl.core.base import atomic_write_text
    if not files: sys.exit("error: give the vlarl eval --json files to collect (WHO_SUITE.json)")
    out = ROOT / "nbs" / "tutorials" / "data" / "rl" / "evals.json"
    ev = json.loads(out.read_text()) if out.exists() else {}
    for f in map(Path, files):
        if "_" not in f.stem: sys.exit(f"error: {f.name} is not named WHO_SUITE.json")
        who, suite = f.stem.rsplit("_", 1)
        try: r = json.loads(f.read_text())
        except (OSError, ValueError) as e: sys.exit(f"error: cannot read {f}: {e}")
        missing = [k for k in KEEP if k not in r]
        if missing: sys.exit(f"error: {f} is not a vlarl eval --json result (no {', '.join(missing)})")
        ev.setdefault(who, {})[suite] = {k: r[k] for k in KEEP}
        print(f"evals.{who}.{suite}: {r['success_rate']:.3f} of {r['episodes']}")
    atomic_write_text(out, json.dumps(ev) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
