#!/usr/bin/env python
"""Train the missing runs of the estimator comparison and copy their metrics to nbs/tutorials/data/estimators/.

    python scripts/compare.py [--out runs/compare] [--seeds 0,1,2] [--methods ppo,grpo,...] [--iterations N]

Finished runs (final held-out evaluation written) are skipped, so the command can be stopped and re-run; runs
already committed under nbs/tutorials/data/estimators/ count as finished.
The page nbs/tutorials/estimators.ipynb reads only the copied files."""
import argparse, shutil, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "nbs" / "tutorials" / "data" / "estimators"

def main(argv=None) -> int:
    from vlarl.core.base import VlarlError
    from vlarl.experiments.compare import run_comparison, METHODS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs/compare")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--iterations", type=int)
    ap.add_argument("--copy-only", action="store_true", help="only copy finished runs' metrics into the docs data")
    a = ap.parse_args(argv)
    try:
        seeds = [int(s) for s in a.seeds.split(",")]
        methods = [m.strip() for m in a.methods.split(",") if m.strip()]
        extra = {"iterations": a.iterations} if a.iterations else {}
        for m in methods:                       # committed runs count as finished: the grid resumes where the data ends
            for run in sorted((DATA / m).glob("seed*")) if not a.iterations else []:
                dst = Path(a.out) / m / run.name
                if (run / "wall.json").exists() and not (dst / "wall.json").exists():
                    shutil.rmtree(dst, ignore_errors=True); shutil.copytree(run, dst)
        if not a.copy_only: run_comparison(a.out, seeds, methods, **extra)
    except (VlarlError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr); return 2
    n = 0
    for m in methods:
        for run in sorted((Path(a.out) / m).glob("seed*")):
            if not (run / "wall.json").exists(): continue          # unfinished
            dst = DATA / m / run.name; dst.mkdir(parents=True, exist_ok=True)
            for f in ("metrics.jsonl", "wall.json", "config.yaml"): shutil.copy2(run / f, dst / f)
            n += 1
    print(f"{n} finished runs -> {DATA.relative_to(ROOT)}")
    return 0

if __name__ == "__main__": sys.exit(main())
