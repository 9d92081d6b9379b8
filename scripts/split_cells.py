"""Split export cells longer than LIMIT lines at top-level statement boundaries into several export cells.

The module nbdev writes is the same code (cells are concatenated in order); a single definition longer than
LIMIT stays whole in its own cell. Usage: python scripts/split_cells.py [--check] NB.ipynb ...
(--check: print the export cells over LIMIT lines and exit 1 if there are any)
"""
import ast, json, sys, uuid

LIMIT = 40


def chunks(src: str) -> list[str] | None:
    "The cell's code cut into pieces of at most LIMIT lines at top-level boundaries (None: cannot parse)."
    lines = src.splitlines(True)
    head = [lines[0]] if lines and lines[0].startswith("#| export") else []
    body = "".join(lines[len(head):])
    try: tree = ast.parse(body)
    except SyntaxError: return None
    starts = [min([n.lineno] + [d.lineno for d in getattr(n, "decorator_list", [])]) - 1 for n in tree.body]
    blines = body.splitlines(True)
    starts = [0] + starts[1:] if starts else [0]
    # each top-level statement owns the lines from its start (and the comments right above it) to the next start
    own = []
    for k, s in enumerate(starts):
        t = s
        while k and t - 1 >= starts[k - 1] + 1 and blines[t - 1].lstrip().startswith("#"): t -= 1
        own.append(t)
    own[0] = 0
    segs = ["".join(blines[a:b]) for a, b in zip(own, own[1:] + [len(blines)])]
    out, cur = [], ""
    for s in segs:
        if cur and len((cur + s).rstrip().splitlines()) + len(head) > LIMIT:
            out.append(cur); cur = ""
        cur += s
    if cur: out.append(cur)
    return ["".join(head) + c.rstrip() for c in out if c.strip()]


def long_cells(nb: dict) -> list[int]:
    return [len("".join(c["source"]).splitlines()) for c in nb["cells"]
            if c["cell_type"] == "code" and "".join(c["source"]).lstrip().startswith("#| export")
            and len("".join(c["source"]).splitlines()) > LIMIT]


if __name__ == "__main__":
    check = "--check" in sys.argv
    paths = [p for p in sys.argv[1:] if p != "--check"]
    total = 0
    for p in paths:
        nb = json.load(open(p))
        if check:
            for n in long_cells(nb): print(f"{p}: an export cell of {n} lines")
            total += len(long_cells(nb)); continue
        cells, ch = [], 0
        for c in nb["cells"]:
            src = "".join(c["source"])
            if c["cell_type"] == "code" and src.lstrip().startswith("#| export") and len(src.splitlines()) > LIMIT:
                parts = chunks(src)
                if parts and len(parts) > 1:
                    for k, part in enumerate(parts):
                        d = dict(c, source=part.splitlines(True), id=c["id"] if k == 0 else uuid.uuid4().hex[:8])
                        cells.append(d)
                    ch += 1; continue
            cells.append(c)
        if ch:
            nb["cells"] = cells
            json.dump(nb, open(p, "w"), indent=1, ensure_ascii=False); open(p, "a").write("\n")
        total += ch
    print(total)
    if check and total: sys.exit(1)
