#!/usr/bin/env python
"""Render the figures shown in markdown (README, course pages) from committed run data into nbs/images/.

    python scripts/figures.py          # make figures

Notebooks are stored without outputs, so a reader of the repository sees these images instead of
running anything. Each figure is drawn by the same library function the notebooks use."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "nbs" / "images"

def main() -> int:
    import matplotlib; matplotlib.use("Agg")
    from vlarl.compare import plot_comparison
    IMAGES.mkdir(parents=True, exist_ok=True)
    data = ROOT / "nbs" / "tutorials" / "data" / "estimators"
    if not any(data.glob("*/seed*/metrics.jsonl")):
        print(f"error: no comparison runs under {data.relative_to(ROOT)} (make compare)", file=sys.stderr); return 2
    out = IMAGES / "estimators.png"
    plot_comparison(data, out)
    print(f"-> {out.relative_to(ROOT)}")
    return 0

if __name__ == "__main__": sys.exit(main())
