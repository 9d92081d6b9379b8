#!/usr/bin/env python
"""Committed outputs: the notebooks a learner reads carry their printed tables and figures in the repository.

    python scripts/outputs.py refresh     # copy the outputs of the last test run into the notebooks below (then nbdev-clean)
    python scripts/outputs.py check       # the gate: committed outputs equal what the current code produced
    python scripts/outputs.py regex       # run_nbs.py's --file-re for exactly these notebooks

`make outputs` runs the notebooks (scripts/run_nbs.py, which keeps every executed notebook in the execution
cache docs/_exec/) and then `refresh`. `check` runs in `make test` after the notebooks have run: for each
notebook of `WITH_OUTPUTS` every code cell's committed outputs must equal the fresh ones, and every other
notebook must have none. What is compared, per cell: printed text (stdout), and each result's text, markdown
and HTML, with memory addresses, absolute paths and
durations (`3.8 s`, `timing/*` entries) masked; a figure counts as present or not (its pixels are
not compared). Left out: stderr (progress bars, warnings) and cells with a line starting `# output varies` (timings).
"""
from __future__ import annotations

import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS, CACHE = ROOT / "nbs", ROOT / "docs" / "_exec"

WITH_OUTPUTS = [  # the core path of the README, the lessons beside it, and the tutorials with tables and figures
    "01_mdp", "01a_action_tokenizer", "01d_value", "03_ppo", "03a_groups", "03b_curriculum", "03c_critic_warmup",
    "04_rollout", "05_pseudo_labels", "05a_rprm", "06_trainer", "06d_sft", "08_probes",
    "tutorials/at_a_glance", "tutorials/end_to_end", "tutorials/estimators", "tutorials/paper_figures",
    "tutorials/ablations", "tutorials/results",
]
VARIES = "# output varies"
_MASKS = [(re.compile(r"0x[0-9a-fA-F]{6,}"), "0x…"),                    # memory addresses
          (re.compile(r"(?<![\w.])/(?:[\w.+-]+/)+[\w.+-]*"), "/…"),        # absolute paths (temp folders, the checkout)
          (re.compile(r"(?<![\w.])\d+(?:\.\d+)? s\b"), "… s"),              # durations: "3.8 s"
          (re.compile(r"('timing/[\w/]+': )[-+\d.e]+"), r"\1…")]              # timing entries of a metrics row
_TEXT = ("text/plain", "text/markdown", "text/html", "text/latex")


def _text(s) -> str:
    s = "".join(s) if isinstance(s, list) else str(s)
    for rx, rep in _MASKS: s = rx.sub(rep, s)
    return s


def comparable(outputs: list) -> list:
    "What the gate compares of one cell's outputs."
    out = []
    for o in outputs:
        t = o.get("output_type")
        if t == "stream":
            if o.get("name") == "stdout": out.append(("stdout", _text(o.get("text", ""))))
        elif t in ("execute_result", "display_data"):
            d = o.get("data", {})
            out.append((t, tuple((m, _text(d[m])) for m in _TEXT if m in d), any(m.startswith("image/") for m in d)))
        elif t == "error": out.append(("error", o.get("ename", "")))
    return out


def _code(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _src(c) -> str:
    return "".join(c["source"]) if isinstance(c["source"], list) else c["source"]


def fresh(name: str) -> dict:
    "The executed code cells of a notebook by id, from the cache; an error line when missing or of other sources."
    src, ex = NBS / f"{name}.ipynb", CACHE / f"{name}.ipynb"
    if not ex.is_file(): sys.exit(f"error: no executed copy of {name} in {CACHE.relative_to(ROOT)}: run the notebooks first (make outputs)")
    a, b = json.loads(src.read_text()), json.loads(ex.read_text())
    ran = {c.get("id"): c for c in _code(b)}
    if any(c.get("id") not in ran or _src(ran[c.get("id")]).strip() != _src(c).strip() for c in _code(a)):
        sys.exit(f"error: the executed copy of {name} ran other sources than nbs/{name}.ipynb: run the notebooks again")
    return ran


def _pairs(nb: dict, ran: dict):
    "Each code cell of a notebook with its executed twin (same cell id)."
    return [(c, ran[c["id"]]) for c in _code(nb)]


def refresh() -> int:
    for name in WITH_OUTPUTS:
        p = NBS / f"{name}.ipynb"
        nb, ex = json.loads(p.read_text()), fresh(name)
        for c, e in _pairs(nb, ex):
            c["outputs"] = [o for o in e.get("outputs", []) if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    print(f"outputs: {len(WITH_OUTPUTS)} notebooks refreshed from {CACHE.relative_to(ROOT)}")
    return 0


def check() -> int:
    bad = []
    for name in WITH_OUTPUTS:
        nb, ex = json.loads((NBS / f"{name}.ipynb").read_text()), fresh(name)
        for i, (c, e) in enumerate(_pairs(nb, ex)):
            if any(line.strip().startswith(VARIES) for line in _src(c).splitlines()): continue
            if comparable(c.get("outputs", [])) != comparable(e.get("outputs", [])):
                first = _src(c).strip().splitlines()[:1] or [""]
                bad.append(f"{name}: code cell {i} ({first[0][:60]!r}): committed output differs from this run's")
    listed = {f"{n}.ipynb" for n in WITH_OUTPUTS}
    for p in sorted(NBS.rglob("*.ipynb")):
        rel = p.relative_to(NBS).as_posix()
        if rel in listed or ".ipynb_checkpoints" in p.parts: continue
        if any(c.get("outputs") for c in _code(json.loads(p.read_text()))):
            bad.append(f"{rel}: has outputs but is not in scripts/outputs.py WITH_OUTPUTS")
    for b in bad: print("  " + b)
    if bad: print(f"FAIL: {len(bad)} committed outputs out of date: run 'make outputs' and commit")
    else: print(f"outputs: the committed outputs of {len(WITH_OUTPUTS)} notebooks match this run")
    return 1 if bad else 0


def regex() -> int:
    "Print the `--file-re` of run_nbs.py that selects the notebooks of `WITH_OUTPUTS`."
    print("^(" + "|".join(re.escape(n.split("/")[-1]) for n in WITH_OUTPUTS) + r")\.ipynb$")
    return 0


if __name__ == "__main__":
    cmds = {"refresh": refresh, "check": check, "regex": regex}
    if len(sys.argv) != 2 or sys.argv[1] not in cmds: sys.exit(f"usage: {sys.argv[0]} refresh|check|regex")
    sys.exit(cmds[sys.argv[1]]())
