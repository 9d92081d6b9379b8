"""Split `;`-joined statements in the export cells of nbdev notebooks, one statement per line.

A line `a; b  # c` becomes `a` / `b  # c`; a one-line compound statement `if x: a; b` becomes a header
and an indented body. Lines whose statements cannot be split safely (open brackets, strings with `;`)
are left alone: only top-level `;` tokens are split points.
Usage: python split_semis.py NB.ipynb ...   (rewrites the notebooks in place, prints the count)
"""
import io, json, sys, tokenize, keyword

HEADERS = {"if", "elif", "else", "for", "while", "with", "try", "except", "finally", "def", "class", "async"}


def split_line(line: str):
    "The replacement lines for `line`, or None if it has no top-level `;` or is not a complete logical line."
    try: toks = list(tokenize.generate_tokens(io.StringIO(line).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError): return None
    depth, semis, colon, comment = 0, [], None, None
    first = next((t for t in toks if t.type not in (tokenize.INDENT, tokenize.DEDENT, tokenize.NL, tokenize.NEWLINE)), None)
    if first is None: return None
    compound = first.type == tokenize.NAME and first.string in HEADERS
    for t in toks:
        if t.type == tokenize.OP:
            if t.string in "([{": depth += 1
            elif t.string in ")]}": depth -= 1
            elif t.string == ";" and depth == 0: semis.append(t.start[1])
            elif t.string == ":" and depth == 0 and compound and colon is None and not semis: colon = t.start[1]
        elif t.type == tokenize.COMMENT: comment = t.start[1]
        elif t.type == tokenize.NAME and t.string == "lambda" and compound and colon is None: return None
    if not semis or depth != 0: return None
    body_end = comment if comment is not None else len(line.rstrip("\n"))
    code, tail = line[:body_end].rstrip(), (line[comment:].rstrip("\n") if comment is not None else "")
    indent = line[:len(line) - len(line.lstrip())]
    cuts = [0] + [s + 1 for s in semis if s < len(code)]
    parts = [code[a:b - 1 if b != len(code) + 1 else b] for a, b in zip(cuts, cuts[1:] + [len(code) + 1])]
    parts = [p.strip() for p in parts if p.strip()]
    out = []
    if compound and colon is not None and colon < semis[0]:
        head, first_stmt = code[:colon + 1].strip(), code[colon + 1:semis[0]].strip()
        if not first_stmt: return None
        out.append(indent + head)
        body = [first_stmt] + parts[1:]
        out += [indent + "    " + p for p in body]
    else:
        out += [indent + p for p in parts]
    if tail: out[-1] = out[-1] + "  " + tail
    return [o + "\n" for o in out]


def safe_lines(src: str) -> set:
    "Line numbers (0-based) of logical lines that sit on one physical line and hold a top-level `;`."
    try: toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError): return set()
    out, depth, start, semi = set(), 0, None, False
    for t in toks:
        if t.type in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING): continue
        if t.type == tokenize.NEWLINE or t.type == tokenize.ENDMARKER:
            if start is not None and semi and start == t.start[0]: out.add(start - 1)
            start, semi = None, False
            continue
        if start is None: start = t.start[0]
        if t.type == tokenize.OP:
            if t.string in "([{": depth += 1
            elif t.string in ")]}": depth -= 1
            elif t.string == ";" and depth == 0: semi = True
    return out


def fix_source(src: str) -> tuple[str, int]:
    lines, out, n = src.splitlines(True), [], 0
    ok = safe_lines(src if src.endswith("\n") else src + "\n")
    for i, l in enumerate(lines):
        new = split_line(l if l.endswith("\n") else l + "\n") if i in ok else None
        if new is None: out.append(l); continue
        if not l.endswith("\n"): new[-1] = new[-1].rstrip("\n")
        out += new; n += 1
    return "".join(out), n


if __name__ == "__main__":
    total = 0
    for p in sys.argv[1:]:
        nb = json.load(open(p)); ch = 0
        for c in nb["cells"]:
            src = "".join(c["source"])
            if c["cell_type"] != "code" or not src.lstrip().startswith("#| export"): continue
            new, n = fix_source(src)
            if n: c["source"] = new.splitlines(True); ch += n
        if ch:
            json.dump(nb, open(p, "w"), indent=1, ensure_ascii=False); open(p, "a").write("\n")
        total += ch
    print(total)
