"""Wrap long one-line statements in the export cells of nbdev notebooks with ruff's formatter, statement by statement.

Each physical line over LIMIT characters that is a complete logical line on its own (not a block header,
not `else:`/`except`) is formatted alone by `ruff format --line-length LIMIT` and re-indented; the rest of
the cell is untouched. Usage: python wrap_long.py RUFF NB.ipynb ...
"""
import io, json, subprocess, sys, tempfile, tokenize
from pathlib import Path

LIMIT = 120
SKIP = ("else", "elif", "except", "finally", "@", "case", "match")


def logical_lines(src: str) -> list[tuple[int, int]]:
    "(first, last) 0-based physical lines of every logical line."
    try: toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError): return []
    out, start = [], None
    for t in toks:
        if t.type in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING): continue
        if t.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            if start is not None: out.append((start - 1, t.start[0] - 1))
            start = None
            continue
        if start is None: start = t.start[0]
    return out


def one_line_statements(src: str) -> set:
    "0-based numbers of lines that hold a whole logical line."
    return {a for a, b in logical_lines(src) if a == b}


def fmt(ruff: str, stmt: str, width: int) -> str | None:
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "s.py"; f.write_text(stmt + "\n")
        r = subprocess.run([ruff, "format", "--line-length", str(width), "--isolated", str(f)], capture_output=True, text=True)
        return f.read_text() if r.returncode == 0 else None


def fix_source(ruff: str, src: str) -> tuple[str, int]:
    lines = src.splitlines(True)
    ok = one_line_statements(src if src.endswith("\n") else src + "\n")
    out, n = [], 0
    for i, l in enumerate(lines):
        body = l.rstrip("\n")
        s = body.strip()
        if i not in ok or len(body) <= LIMIT or s.startswith(SKIP) or s.startswith("#") or s.endswith(":"):
            out.append(l); continue
        indent = body[:len(body) - len(body.lstrip())]
        new = fmt(ruff, s, LIMIT - len(indent))
        if new is None or new.strip() == s: out.append(l); continue
        new_lines = [indent + x if x.strip() else "" for x in new.rstrip("\n").split("\n")]
        if max(len(x) for x in new_lines) > LIMIT: out.append(l); continue     # still long: leave the line as it was
        out.append("\n".join(new_lines) + ("\n" if l.endswith("\n") else "")); n += 1
    return "".join(out), n


def fix_multiline(ruff: str, src: str) -> tuple[str, int]:
    "Logical lines over several physical lines with one of them too long: formatted whole (a `def` header with a stub body)."
    lines = src.splitlines(True)
    spans = logical_lines(src if src.endswith("\n") else src + "\n")
    n = 0
    for a, b in reversed(spans):
        if a == b or b >= len(lines) or max(len(l.rstrip("\n")) for l in lines[a:b + 1]) <= LIMIT: continue
        first = lines[a].lstrip()
        if first.startswith(SKIP) or first.startswith("#"): continue
        indent = lines[a][:len(lines[a]) - len(first)]
        stmt = "".join(l[len(indent):] if l.startswith(indent) else l.lstrip() for l in lines[a:b + 1]).rstrip("\n")
        header = stmt.rstrip().endswith(":")
        if header and not first.startswith(("def ", "async def ")): continue
        new = fmt(ruff, stmt + ("\n    pass" if header else ""), LIMIT - len(indent))
        if new is None: continue
        out = new.rstrip("\n").split("\n")
        if header:
            if out[-1].strip() != "pass": continue
            out = out[:-1]
        out = [indent + x if x.strip() else "" for x in out]
        if max(len(x) for x in out) > LIMIT: continue
        lines[a:b + 1] = [x + "\n" for x in out]
        n += 1
    return "".join(lines), n


if __name__ == "__main__":
    ruff, total = sys.argv[1], 0
    for p in sys.argv[2:]:
        nb = json.load(open(p)); ch = 0
        for c in nb["cells"]:
            src = "".join(c["source"])
            if c["cell_type"] != "code" or not src.lstrip().startswith("#| export"): continue
            new, n = fix_source(ruff, src)
            new, m = fix_multiline(ruff, new)
            n += m
            if n: c["source"] = new.splitlines(True); ch += n
        if ch:
            json.dump(nb, open(p, "w"), indent=1, ensure_ascii=False); open(p, "a").write("\n")
        total += ch
        print(p, ch, flush=True)
    print(total)
