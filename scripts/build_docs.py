#!/usr/bin/env python
"""Build the vlarl documentation site offline with Sphinx + myst-nb (no Quarto needed).

    python scripts/build_docs.py [--out docs/_build/html] [--no-exec] [--root PATH] [--jobs N]
                                 [--cache DIR | --no-cache] [--require-cache]

1. Reads `[tool.nbdev]` (nbs_path, lib_path, tst_flags) from <root>/pyproject.toml.
2. Stages the notebooks (nbs/*.ipynb, then nbs/tutorials/*.ipynb) into <root>/docs/_src/,
   translating nbdev cell directives into myst-nb cell tags:
     hide / include: false     -> tag remove-cell     (executed, not shown)
     default_exp               -> cell dropped
     <a tst_flag> / eval: false -> tag skip-execution + a note "not executed in the docs build"
     echo: false               -> tag remove-input;   output: false -> tag remove-output
   and stripping every `#|` line from the shown source. A hidden setup cell is prepended that
   chdir()s to the notebook's original folder (nbdev-test semantics for relative paths).
   A notebook that `scripts/run_nbs.py` (the test step's nbdev-test) has already executed is
   staged from its executed copy in the execution cache (<root>/docs/_exec/, entry key = hash of
   the notebook, the skipped flags and the library) and marked not to be executed again
   (notebook metadata mystnb.execution_mode = "off"); only notebooks without a matching entry
   are executed by the build. --require-cache fails instead, naming them; --no-cache ignores it.
3. Writes the toctree (into a hidden cell of index.ipynb) and one API page per library module.
4. Copies docs/conf.py and docs/_static/ and runs sphinx-build; notebooks without a cache entry
   are executed (nb_execution_mode "force"; "off" when all are cached or with --no-exec) and a
   raising cell fails the build.
Prints each step with its time, then the path of the built index.html; exits non-zero with one
`build_docs: FAILED ...` line.
"""
from __future__ import annotations

import argparse, copy, json, os, re, shutil, subprocess, sys, time
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from itertools import takewhile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import run_nbs as exec_cache  # noqa: E402  (the execution cache's key and layout; imports no nbdev)
DIRECTIVE_RE = re.compile(r"^\s*#\s*\|\s*(.*?)\s*$")
IMG_EXTS = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", "_proc", "_docs", ".git"}


def fail(msg: str, code: int = 1):
    print(f"build_docs: FAILED: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


def say(msg: str):
    print(f"build_docs: {msg}", flush=True)


def nbdev_settings(root: Path) -> dict:
    pp = root / "pyproject.toml"
    if not pp.is_file():
        fail(f"{pp} not found")
    cfg = tomllib.loads(pp.read_text()).get("tool", {}).get("nbdev", {})
    return {
        "nbs_path": cfg.get("nbs_path", "nbs"),
        "lib_path": cfg.get("lib_path", "vlarl"),
        "tst_flags": cfg.get("tst_flags", "notest").split(),  # nbdev's default
    }


# ---------------------------------------------------------------- notebook transformation
def parse_directives(src: str) -> tuple[list[tuple[str, str]], str]:
    """Leading `#| name[:] value` lines of a cell -> ([(name, value)], source without them)."""
    lines = src.splitlines(True)
    head = list(takewhile(lambda l: DIRECTIVE_RE.match(l), lines))
    dirs = []
    for l in head:
        body = DIRECTIVE_RE.match(l).group(1)
        if not body:
            continue
        m = re.match(r"([\w-]+)\s*:?\s*(.*)", body)
        if m:
            dirs.append((m.group(1).lower(), m.group(2).strip()))
    return dirs, "".join(lines[len(head):]).lstrip("\n")


def _falsy(v: str) -> bool:
    return v.strip().strip("'\"").lower() in {"false", "no", "0"}


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _md_cell(text: str, tags=()) -> dict:
    return {"cell_type": "markdown", "metadata": {"tags": list(tags)} if tags else {}, "source": text}


def _code_cell(text: str, tags=()) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {"tags": list(tags)},
            "outputs": [], "source": text}


def front_matter_cell(cell) -> dict | None:
    """nbdev/Quarto front matter in a raw cell (--- title: ... ---) -> a markdown H1 cell."""
    s = _src(cell).strip()
    if cell.get("cell_type") != "raw" or not s.startswith("---"):
        return None
    try:
        import yaml
        fm = yaml.safe_load(s.strip("-").strip()) or {}
    except Exception:
        return None
    if not isinstance(fm, dict) or "title" not in fm:
        return None
    text = f"# {fm['title']}\n"
    if fm.get("description"):
        text += f"\n> {fm['description']}\n"
    return _md_cell(text)


def transform_notebook(nb: dict, flags: list[str], orig_dir: Path, root: Path) -> dict:
    nb = copy.deepcopy(nb)
    cells = []
    setup = (f"import os as _os, sys as _sys\n"
             f"_os.chdir({str(orig_dir)!r})\n"
             f"_sys.path.insert(0, {str(root)!r}) if {str(root)!r} not in _sys.path else None\n"
             f"%matplotlib inline")
    cells.append(_code_cell(setup, ["remove-cell"]))
    for i, cell in enumerate(nb.get("cells", [])):
        cell.pop("id", None)
        ctype = cell.get("cell_type")
        if ctype == "raw":
            fm = front_matter_cell(cell) if i == 0 else None
            if fm:
                cells.append(fm)
            continue  # raw cells (Quarto/nbdev front matter etc.) are not shown
        if ctype != "code":
            cells.append(cell)
            continue
        dirs, body = parse_directives(_src(cell))
        names = {n for n, _ in dirs}
        vals = dict(dirs)
        if "default_exp" in names and not body.strip():
            continue
        tags = list(cell.get("metadata", {}).get("tags", []))
        if "hide" in names or ("include" in vals and _falsy(vals["include"])):
            tags.append("remove-cell")
        if "echo" in vals and _falsy(vals["echo"]):
            tags.append("remove-input")
        if "output" in vals and _falsy(vals["output"]):
            tags.append("remove-output")
        needs = [f for f in flags if f in names]
        if "eval" in vals and _falsy(vals["eval"]):
            needs.append("eval: false")
        if needs:
            tags.append("skip-execution")
            cell["outputs"], cell["execution_count"] = [], None
            if "remove-cell" not in tags:
                why = ", ".join(f"<code>{n}</code>" for n in needs)
                what = "marked" if needs == ["eval: false"] else "needs"
                cells.append(_md_cell(
                    f'<p class="vlarl-skip-note">Not executed in the docs build: {what} {why}.</p>\n'))
        if not body.strip():
            continue  # a directive-only cell
        cell["source"] = body
        cell.setdefault("metadata", {})["tags"] = list(dict.fromkeys(tags))
        cell["outputs"] = cell.get("outputs", []) if "skip-execution" not in tags else []
        cells.append(cell)
    for k, c in enumerate(cells):
        c["id"] = f"vlarl-{k:03d}"
    nb["cells"] = cells
    md = nb.setdefault("metadata", {})
    md["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    md.setdefault("language_info", {"name": "python"})
    nb.setdefault("nbformat", 4)
    nb["nbformat"], nb["nbformat_minor"] = 4, max(nb.get("nbformat_minor", 5), 5)  # 4.5: cell ids
    return nb


def notebook_title(nb: dict) -> str | None:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            m = re.search(r"^#\s+(.+?)\s*$", _src(cell), re.M)
            if m:
                return m.group(1)
    return None


# ---------------------------------------------------------------- staging
def discover_modules(root: Path, lib_path: str) -> list[str]:
    lib = root / lib_path
    pkg = lib.name
    mods = []
    for py in sorted(lib.rglob("*.py")):
        rel = py.relative_to(lib)
        if py.name == "_modidx.py" or any(p in SKIP_DIRS or p.startswith(".") for p in rel.parts):
            continue
        parts = [pkg, *rel.with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
            if not re.search(r"^\s*(async\s+def|def|class)\s", py.read_text(errors="ignore"), re.M):
                continue  # a package __init__ with nothing to document (e.g. just __version__)
        mods.append(".".join(parts))
    return mods


# the sidebar's caption for each group of numbered notebooks: the two-digit prefix follows the package of `vlarl`
# the notebooks export (00 core, 01 models, ...); a prefix not listed here goes under "Notebooks"
PACKAGE_CAPTIONS = {"00": "core", "01": "models", "02": "envs", "03": "algorithms", "04": "rollout", "05": "reward",
                    "06": "training", "07": "distributed", "08": "experiments", "09": "cli"}
TUTORIAL_ORDER = ["at_a_glance", "end_to_end", "paper_figures", "reference", "ablations", "estimators", "implementation_details", "results", "development"]


def site_notebooks(nbs: Path) -> tuple[list[Path], list[Path]]:
    "The site's notebooks: nbs/*.ipynb (file-name order) and nbs/tutorials/*.ipynb (reading order)."
    main = sorted(p for p in nbs.glob("*.ipynb") if not p.name.startswith("."))
    tut_dir = nbs / "tutorials"
    tutorials = sorted(tut_dir.glob("*.ipynb")) if tut_dir.is_dir() else []
    # the course's reading order first; any other tutorial after, alphabetically
    rank = {n: i for i, n in enumerate(TUTORIAL_ORDER)}
    tutorials.sort(key=lambda p: (rank.get(p.stem, len(rank)), p.stem))
    return main, tutorials


def cached_runs(root: Path, cache: Path | None = None) -> dict[Path, dict | None]:
    """Each site notebook -> its executed copy in the execution cache when the entry's key matches
    (the notebook, the skipped `tst_flags`, the library), else None. cache=None: <root>/docs/_exec."""
    root = Path(root).resolve()
    cfg = nbdev_settings(root)
    nbs = (root / cfg["nbs_path"]).resolve()
    cache = Path(cache).resolve() if cache else root / exec_cache.CACHE_DIR
    main, tutorials = site_notebooks(nbs)
    if not cache.is_dir():
        return {p: None for p in main + tutorials}
    lib = exec_cache.lib_digest(root / cfg["lib_path"])
    return {p: exec_cache.read_entry(cache, nbs, p, exec_cache.cache_key(p.read_bytes(), cfg["tst_flags"], lib))
            for p in main + tutorials}


def stage(root: Path, src: Path, flags: list[str], nbs: Path, lib_path: str,
          runs: dict[Path, dict | None] | None = None) -> dict:
    """Stage the notebooks into `src`; `runs` maps a notebook to its executed copy (from the cache),
    which is staged instead, with its outputs and marked not to be executed again."""
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    main, tutorials = site_notebooks(nbs)
    if not any(p.name == "index.ipynb" for p in main):
        fail(f"{nbs}/index.ipynb (the home page) not found")
    titles, cached, to_execute = {}, [], []
    runs = runs or {}
    for nb_path in main + tutorials:
        rel = nb_path.relative_to(nbs)
        executed = runs.get(nb_path)
        try:
            nb = executed if executed is not None else json.loads(nb_path.read_text())
        except Exception as e:
            fail(f"cannot read notebook {nb_path}: {e}")
        out = transform_notebook(nb, flags, nb_path.parent.resolve(), root)
        if executed is not None:
            out["metadata"].pop(exec_cache.META, None)
            out["metadata"]["mystnb"] = {"execution_mode": "off"}  # myst-nb's per-notebook setting
            cached.append(rel.as_posix())
        else:
            to_execute.append(rel.as_posix())
        titles[rel.with_suffix("").as_posix()] = notebook_title(out) or rel.stem
        dest = src / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(out, indent=1, ensure_ascii=False))
    # images that markdown cells may reference by relative path (e.g. nbs/images/x.png)
    for f in nbs.rglob("*"):
        rel = f.relative_to(nbs)
        if f.is_file() and f.suffix.lower() in IMG_EXTS and not any(
                p in SKIP_DIRS or p.startswith(".") for p in rel.parts):
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, src / rel)

    # toctree: a hidden markdown cell appended to the staged index.ipynb
    chapters = [p.stem for p in main if p.name != "index.ipynb"]
    tuts = [f"tutorials/{p.stem}" for p in tutorials]
    modules = discover_modules(root, lib_path)
    def toc(caption, entries):
        if not entries:
            return ""
        return ("```{toctree}\n:hidden:\n:maxdepth: 1\n" + f":caption: {caption}\n\n"
                + "\n".join(entries) + "\n```\n\n")
    groups: dict[str, list[str]] = {}   # caption -> notebooks, in file-name order
    for c in chapters:
        groups.setdefault(PACKAGE_CAPTIONS.get(c[:2], "Notebooks"), []).append(c)
    block = ("".join(toc(cap, entries) for cap, entries in groups.items()) + toc("Tutorials", tuts)
             + toc("API reference", [f"api/{m}" for m in modules]))
    idx = src / "index.ipynb"
    nb = json.loads(idx.read_text())
    if block:
        nb["cells"].append({**_md_cell(block), "id": "vlarl-toctree"})  # hidden toctrees render nothing (no remove-cell:
        # a removed cell would drop the toctree too)
    idx.write_text(json.dumps(nb, indent=1, ensure_ascii=False))

    if modules:
        (src / "api").mkdir()
    for m in modules:
        # reST, not MyST: autodoc emits reST, which a MyST {automodule} block would show raw
        (src / "api" / f"{m}.rst").write_text(
            f"{m}\n{'=' * len(m)}\n\n.. automodule:: {m}\n   :members:\n   :show-inheritance:\n")

    conf_dir = REPO / "docs"
    shutil.copy2(conf_dir / "conf.py", src / "conf.py")
    if (conf_dir / "_static").is_dir():
        shutil.copytree(conf_dir / "_static", src / "_static")
    (src / "_titles.json").write_text(json.dumps(titles, indent=1))  # for tests/tools; not a page
    return {"chapters": chapters, "tutorials": tuts, "modules": modules, "titles": titles,
            "cached": cached, "to_execute": to_execute}


# ---------------------------------------------------------------- main
def _short(p: Path, root: Path) -> str:
    try:
        return str(p.relative_to(root))
    except ValueError:
        return str(p)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=REPO, help="project root (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=None, help="HTML output folder (default: <root>/docs/_build/html)")
    ap.add_argument("--no-exec", action="store_true", help="execute no notebook (quick look; cached outputs are still shown)")
    ap.add_argument("--jobs", "-j", default="auto",
                    help="sphinx-build parallel readers; notebooks execute in parallel (default: auto)")
    ap.add_argument("--cache", type=Path, default=None,
                    help=f"execution cache written by scripts/run_nbs.py (default: <root>/{exec_cache.CACHE_DIR})")
    ap.add_argument("--no-cache", action="store_true",
                    help="ignore the execution cache: execute every notebook")
    ap.add_argument("--require-cache", action="store_true",
                    help="fail when a notebook has no matching cache entry instead of executing it")
    a = ap.parse_args(argv)
    if a.no_cache and a.require_cache:
        ap.error("--no-cache and --require-cache contradict each other")
    t0 = time.time()
    root = a.root.resolve()
    cfg = nbdev_settings(root)
    nbs = (root / cfg["nbs_path"]).resolve()
    if not nbs.is_dir():
        fail(f"notebook folder {nbs} not found")
    out = (a.out if a.out else root / "docs/_build/html")
    out = (out if out.is_absolute() else Path.cwd() / out).resolve()
    src = root / "docs" / "_src"
    cache = (a.cache if a.cache else root / exec_cache.CACHE_DIR)
    cache = (cache if cache.is_absolute() else Path.cwd() / cache).resolve()
    runs = {} if a.no_cache else cached_runs(root, cache)
    info = stage(root, src, cfg["tst_flags"], nbs, cfg["lib_path"], runs)
    n_nbs = 1 + len(info["chapters"]) + len(info["tutorials"])
    todo = info["to_execute"]
    if a.require_cache and todo:
        fail(f"{len(todo)} of {n_nbs} notebooks have no up-to-date entry in the execution cache {cache}: "
             f"{', '.join(todo)} (run `scripts/run_nbs.py` (the notebook step of scripts/test.sh) first; "
             f"an entry is stale once the notebook, the skipped flags or the library changed)")
    execute = bool(todo) and not a.no_exec
    how = ("executing none" if not todo else f"{len(todo)} without outputs (--no-exec)" if a.no_exec
           else f"executing {len(todo)}: {', '.join(todo)}" if len(todo) <= 6 else f"executing {len(todo)}")
    say(f"staged {n_nbs} notebooks ({len(info['cached'])} with their outputs from the execution cache"
        f"{'' if a.no_cache else ' ' + _short(cache, root)}, {how}) and {len(info['modules'])} API pages "
        f"into {src} in {time.time() - t0:.0f} s")

    env = dict(os.environ)
    env["VLARL_DOCS_ROOT"] = str(root)
    # ipykernel only selects the inline backend when MPLBACKEND is unset: an inherited
    # MPLBACKEND=Agg (scripts/test.sh exports it) would drop every figure from the pages.
    env.pop("MPLBACKEND", None)
    for k, v in {"PYTHONHASHSEED": "0", "RAY_AUTH_MODE": "disabled", "MUJOCO_GL": "egl",
                 "PYOPENGL_PLATFORM": "egl", "TOKENIZERS_PARALLELISM": "false"}.items():
        env.setdefault(k, v)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    doctrees = out.parent / (out.name + ".doctrees")
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", "-T", "-d", str(doctrees),
           "-j", str(a.jobs), str(src), str(out)]
    if not execute:
        cmd[3:3] = ["-D", "nb_execution_mode=off"]
    t1 = time.time()
    say(f"sphinx-build ({f'executing {len(todo)} notebook(s), rendering' if execute else 'rendering, no execution'}) ...")
    # stderr is passed through (minus ipykernel's TCP-transport notice) and scanned for the
    # notebook whose cell raised, so that the last line names it
    p = subprocess.Popen(cmd, env=env, cwd=str(root), stderr=subprocess.PIPE, text=True, errors="replace")
    failed_nb = None
    for line in p.stderr:
        if "Kernel is running over TCP without encryption" in line:
            continue
        m = re.search(r"ExecutionError: (\S+\.ipynb)", line)
        if m and failed_nb is None:
            failed_nb = m.group(1)
        sys.stderr.write(line)
    rc = p.wait()
    say(f"sphinx-build finished (exit {rc}) in {time.time() - t1:.0f} s")
    index = out / "index.html"
    if rc != 0:
        if failed_nb:
            try:
                failed_nb = str((nbs / Path(failed_nb).resolve().relative_to(src.resolve())).relative_to(root))
            except ValueError:
                pass
            fail(f"a cell of {failed_nb} raised while executing (traceback above)")
        fail(f"sphinx-build exited with {rc} (see the messages above)")
    if not index.is_file():
        fail(f"sphinx-build succeeded but {index} is missing")
    say(f"built in {time.time() - t0:.0f} s")
    print(index)
    return 0


if __name__ == "__main__":
    sys.exit(main())
