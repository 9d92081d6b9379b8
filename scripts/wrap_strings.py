"""Break long string literals in the export cells of nbdev notebooks into adjacent literals on two lines.

Adjacent literals are one literal to Python (the module's AST does not change). A literal inside brackets is
split at a space, the rest aligned under its start; a bare string statement (a docstring) is put in
parentheses first. Usage: python wrap_strings.py NB.ipynb ...
"""
import io, json, sys, tokenize

LIMIT = 120


def split_point(prefix: str, body: str, room: int) -> int | None:
    "Index of the last space in `body` that keeps the first part within `room` characters (outside f-string fields)."
    f, depth, best, i = "f" in prefix.lower(), 0, None, 0
    while i < len(body):
        c = body[i]
        if c == "\\": i += 2; continue
        if f and c in "{}" and body[i:i + 2] in ("{{", "}}") and depth == 0: i += 2; continue
        if f and c == "{": depth += 1
        elif f and c == "}": depth = max(0, depth - 1)
        elif c == " " and depth == 0 and i + 1 <= room and i + 1 < len(body): best = i
        i += 1
    return best


def fix_once(src: str) -> str | None:
    "Split the first string that crosses the limit; None when nothing can be split."
    try: toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError): return None
    lines, depth = src.splitlines(True), 0
    for t in toks:
        if t.type == tokenize.OP and t.string in "([{": depth += 1
        elif t.type == tokenize.OP and t.string in ")]}": depth -= 1
        if t.type != tokenize.STRING or t.start[0] != t.end[0] or t.end[1] <= LIMIT: continue
        s = t.string
        k = next(i for i, c in enumerate(s) if c in "'\"")
        prefix, q = s[:k], s[k]
        if s[k:k + 3] in ('"""', "'''") or "b" in prefix.lower(): continue
        body = s[k + 1:-1]
        row, col = t.start[0] - 1, t.start[1]
        line = lines[row]
        bare = depth == 0 and line.strip() == s
        if depth == 0 and not bare: continue
        shift = 1 if bare else 0
        room = LIMIT - col - shift - len(prefix) - 2                    # characters of body the first line can hold
        i = split_point(prefix, body, room)
        if i is None or i < 10: continue
        a, b = prefix + q + body[:i + 1] + q, prefix + q + body[i + 1:] + q
        if bare: new = line[:col] + "(" + a + "\n" + " " * (col + 1) + b + ")" + line[t.end[1]:]
        else: new = line[:col] + a + "\n" + " " * col + b + line[t.end[1]:]
        lines[row] = new
        return "".join(lines)
    return None


def fix_source(src: str) -> tuple[str, int]:
    n = 0
    while n < 500:
        new = fix_once(src)
        if new is None: break
        src, n = new, n + 1
    return src, n


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
