"""Write README.md from nbs/index.ipynb (nbdev-readme needs Quarto, which is not available offline).

Markdown cells are copied, code cells become fenced Python blocks, cells whose first line is
`#| hide` are dropped, and links to notebooks are rewritten to point into nbs/.
Usage: python scripts/make_readme.py [--check]   (--check: exit 1 if README.md is out of date)
"""
import json, re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
nb = json.loads((root / "nbs" / "index.ipynb").read_text())
parts = []
for c in nb["cells"]:
    src = "".join(c["source"]).strip()
    if not src or src.startswith("#| hide"): continue
    if c["cell_type"] == "markdown":
        parts.append(re.sub(r"\]\((?!https?:)([\w/.-]+\.(?:ipynb|png|svg|gif|jpg))\)", r"](nbs/\1)", src))
    elif c["cell_type"] == "code":
        code = "\n".join(l for l in src.splitlines() if not l.startswith("#|")).strip()
        if code: parts.append(f"```python\n{code}\n```")
text = "<!-- generated from nbs/index.ipynb by scripts/make_readme.py; edit the notebook -->\n\n" + "\n\n".join(parts) + "\n"
readme = root / "README.md"
if "--check" in sys.argv:
    if not readme.exists() or readme.read_text() != text:
        print("README.md is out of date with nbs/index.ipynb (run: make export)"); sys.exit(1)
else:
    readme.write_text(text)
