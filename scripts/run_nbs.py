#!/usr/bin/env python
"""Run the notebooks as `nbdev-test` does, and keep each executed notebook for the docs build.

    python scripts/run_nbs.py [nbdev-test's arguments] [--cache DIR] [--no-cache]
    python scripts/run_nbs.py --n-workers 2 --timing          # what scripts/test.sh runs

This IS `nbdev-test` (nbdev.test.nbdev_test is called with the same arguments: the `tst_flags`
cells are skipped unless `--flags` names them, each notebook runs in its own folder in one of
`--n-workers` processes, a failing cell fails the run with the notebook named and exit 1,
`--timing` lists the notebooks slowest first). The one addition: when a notebook passes, the
notebook with its outputs (figures as image/png, nbformat 4 validated) is written to the
execution cache, `<root>/docs/_exec/<path under nbs/>` (git-ignored), so that
`scripts/build_docs.py` shows those outputs instead of executing the notebook a second time.

An entry is used only when its key matches: a hash of the notebook's cell sources, the cells skipped
(`tst_flags` minus `--flags`) and every file of the library folder (`vlarl/`, which
`nbdev-export` generates from all the notebooks, plus its assets and checkpoints). Installed
packages and data files outside the library are not part of the key: after changing those, run
this again (or build the docs with `--no-cache`). A notebook that fails loses its entry.
"""
from __future__ import annotations

import hashlib, json, os, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CACHE_DIR = "docs/_exec"      # default cache folder, relative to the project root
CACHE_FORMAT = 2              # bump when the layout of an entry or the inputs of the key change
META = "vlarl_exec"           # notebook-metadata key that marks a cache entry and holds its key
_ENV = "VLARL_RUN_NBS_"       # settings handed to the worker processes through the environment


# ------------------------------------------------- the cache (no nbdev needed: build_docs uses these)
def lib_digest(lib: Path) -> str:
    "Hash of every file of the library folder `lib` (paths and contents; caches, dot-folders left out)."
    lib = Path(lib)
    h = hashlib.sha256()
    for f in sorted(lib.rglob("*")):
        rel = f.relative_to(lib)
        if (not f.is_file() or f.suffix == ".pyc"
                or any(p == "__pycache__" or p.startswith(".") for p in rel.parts)):
            continue
        h.update(f"{rel.as_posix()}\0{hashlib.sha256(f.read_bytes()).hexdigest()}\n".encode())
    return h.hexdigest()


def cache_key(nb_bytes: bytes, skip_flags, lib: str) -> str:
    "Key of one executed notebook: its cells' sources (not their committed outputs), the flags whose cells were skipped, the library digest."
    h = hashlib.sha256()
    h.update(f"vlarl-exec {CACHE_FORMAT}\nskip {' '.join(sorted(set(skip_flags)))}\nlib {lib}\n".encode())
    try: cells = [(c.get("cell_type"), c.get("source")) for c in json.loads(nb_bytes).get("cells", [])]
    except ValueError: cells = nb_bytes.decode(errors="replace")
    h.update(hashlib.sha256(json.dumps(cells, sort_keys=True).encode()).hexdigest().encode())
    return h.hexdigest()[:32]


def entry_path(cache: Path, nbs: Path, nb_path: Path) -> Path | None:
    "Where the executed copy of `nb_path` lives in `cache` (None for a notebook outside `nbs`)."
    try:
        rel = Path(nb_path).resolve().relative_to(Path(nbs).resolve())
    except ValueError:
        return None
    return Path(cache) / rel


def read_entry(cache: Path, nbs: Path, nb_path: Path, key: str) -> dict | None:
    "The cached executed notebook for `nb_path` when its key is `key`, else None."
    p = entry_path(cache, nbs, nb_path)
    if p is None or not p.is_file():
        return None
    try:
        nb = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return nb if (nb.get("metadata", {}).get(META) or {}).get("key") == key else None


# ------------------------------------------------- worker side: write an entry after a notebook passes
def _settings() -> dict | None:
    if not os.environ.get(_ENV + "CACHE"):
        return None
    return {"cache": Path(os.environ[_ENV + "CACHE"]), "nbs": Path(os.environ[_ENV + "NBS"]),
            "skip": os.environ.get(_ENV + "SKIP", "").split(), "lib": os.environ[_ENV + "LIB"]}


def _to_nbformat(nb) -> dict:
    "An executed notebook (execnb's AttrDict) as a plain, valid nbformat-4 dict."
    from fastcore.nbio import nb2dict
    import nbformat
    d = json.loads(json.dumps(nb2dict(nb)))  # drops nbdev's working attributes (`directives_`, `idx_`)
    for i, c in enumerate(d.get("cells", [])):
        c.get("metadata", {}).pop("execution", None)  # execnb's per-cell timestamps: noise in the cache
        if d.get("nbformat_minor", 0) >= 5:
            c.setdefault("id", f"cell-{i}")
    nbformat.validate(nbformat.from_dict(d))
    return d


def _write_entry(nb, nb_path: Path, key: str, seconds: float, s: dict):
    dest = entry_path(s["cache"], s["nbs"], nb_path)
    if dest is None:
        return
    try:
        d = _to_nbformat(nb)
    except Exception as e:  # execution passed; the docs build will execute this notebook itself
        sys.__stderr__.write(f"run_nbs: WARNING: {nb_path.name} executed, but its outputs are not "
                             f"valid nbformat ({str(e).splitlines()[0][:200]}); not cached\n")
        return
    d.setdefault("metadata", {})[META] = {
        "key": key, "notebook": dest.relative_to(s["cache"]).as_posix(), "format": CACHE_FORMAT,
        "skipped_flags": sorted(set(s["skip"])), "lib_digest": s["lib"], "seconds": round(seconds, 1)}
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(d, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, dest)


def _install_cache_writer():
    """Make nbdev's `test_nb` build its shell from a subclass of execnb's CaptureShell that writes the
    executed notebook to the cache once `run_all` returns, i.e. once every cell ran without raising
    (`test_nb` runs with exc_stop=True: a failing cell raises out of `run_all`, nothing is written).
    Nothing else of nbdev-test changes; the source notebook is never written."""
    import nbdev.test as T
    from execnb.shell import CaptureShell
    if getattr(T.CaptureShell, "_vlarl_cache", False):
        return

    class CachingShell(CaptureShell):
        _vlarl_cache = True

        def __init__(self, path=None, *args, **kwargs):
            super().__init__(path, *args, **kwargs)
            self._vlarl = None
            s = _settings()
            if s and path is not None and Path(path).is_file():
                nb_path = Path(path)
                dest = entry_path(s["cache"], s["nbs"], nb_path)
                if dest is not None:
                    dest.unlink(missing_ok=True)  # a notebook that fails now keeps no stale entry
                    self._vlarl = (nb_path, cache_key(nb_path.read_bytes(), s["skip"], s["lib"]), s)

        def run_all(self, nb, *args, **kwargs):
            t0 = time.time()
            super().run_all(nb, *args, **kwargs)
            if self._vlarl is not None and self.exc is None:
                nb_path, key, s = self._vlarl
                _write_entry(nb, nb_path, key, time.time() - t0, s)

    T.CaptureShell = CachingShell


if __name__ == "__mp_main__":  # a worker started with "spawn" (macOS): it re-imports this file
    _install_cache_writer()


# ------------------------------------------------- main
def main() -> int:
    import nbdev.test as T
    from fastcore.script import anno_parser
    from nbdev.config import get_config

    p = anno_parser(T.nbdev_test.__wrapped__, prog="run_nbs.py", pos=["path"])
    p.description = ("nbdev-test (same arguments), keeping each passing notebook with its outputs in "
                     "the execution cache for scripts/build_docs.py")
    p.add_argument("--cache", type=Path, default=None,
                   help=f"execution cache folder (default: <project root>/{CACHE_DIR})")
    p.add_argument("--no-cache", action="store_true", help="plain nbdev-test: write no cache entries")
    a = vars(p.parse_args())
    a.pop("pdb", None), a.pop("xtra", None)
    cache, no_cache, path = a.pop("cache"), a.pop("no_cache"), a.pop("path")

    t0 = time.time()
    if not no_cache:
        cfg = get_config(Path(path).resolve() if path and Path(path).exists() else None)
        root = Path(cfg.config_path)
        skip = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags or [])
        skip = sorted(set(skip) - set((a.get("flags") or "").split()))
        cache = (cache if cache else root / CACHE_DIR).resolve()
        os.environ.update({_ENV + "CACHE": str(cache), _ENV + "NBS": str(Path(cfg.nbs_path).resolve()),
                           _ENV + "SKIP": " ".join(skip),
                           _ENV + "LIB": lib_digest(root / cfg.lib_path)})
        _install_cache_writer()
    T.nbdev_test(path, **a)  # exits 1 (sys.exit) with the failing notebooks named
    if not no_cache:
        n = sum(1 for f in cache.rglob("*.ipynb") if f.stat().st_mtime >= t0 - 1)
        try:
            where = cache.relative_to(Path.cwd())
        except ValueError:
            where = cache
        print(f"run_nbs: {n} executed notebooks kept in {where} for the docs build")
    return 0


if __name__ == "__main__":
    sys.exit(main())
