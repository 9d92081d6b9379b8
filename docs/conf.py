# Sphinx configuration for the vlarl documentation site (Sphinx + myst-nb; see docs/README.md).
#
# Do not run sphinx-build on this folder directly: `scripts/build_docs.py` stages the notebooks
# into docs/_src/ (nbdev directives turned into myst-nb cell tags, generated toctree and API
# pages), copies this file and docs/_static/ there, and runs sphinx-build on docs/_src.
#
# Environment set by build_docs.py:
#   VLARL_DOCS_ROOT   project root (holds pyproject.toml with [tool.nbdev]); it is put on sys.path
#                     so that autodoc imports the library even when it is not pip-installed.
#
# Working directory of the notebooks: myst-nb runs each notebook in its (staged) source folder
# (nb_execution_in_temp = False). To keep nbdev's semantics (nbdev-test runs a notebook from its
# own folder, so relative paths are relative to nbs/), build_docs.py prepends a removed, hidden
# setup cell to every staged notebook that does os.chdir() to the notebook's ORIGINAL folder
# (nbs/ or nbs/tutorials/) and puts the project root on sys.path. Files a notebook writes land
# where `nbdev-test` would write them.
#
# Nothing is fetched from the network at build time (no intersphinx), and nothing at view time:
# MathJax (v2, from the `jupyter-server-mathjax` package, a dev dependency) is copied into the
# site's _static/mathjax/ so that equations render offline (see "math" below).
import os, sys
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

ROOT = Path(os.environ.get("VLARL_DOCS_ROOT", Path(__file__).resolve().parents[2])).resolve()
sys.path.insert(0, str(ROOT))
_pp = tomllib.loads((ROOT / "pyproject.toml").read_text())
_nbdev = _pp.get("tool", {}).get("nbdev", {})

project = _pp.get("project", {}).get("name") or _nbdev.get("lib_name") or "vlarl"
author = "vlarl developers"
copyright = "vlarl developers"
try:
    from importlib.metadata import version as _v
    release = _v(project)
except Exception:
    release = ""

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
]
root_doc = "index"
exclude_patterns = ["_build", "jupyter_execute", "**/.ipynb_checkpoints", "**/__pycache__"]
templates_path = []

# --- MyST / myst-nb ---------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
nb_execution_mode = "force"          # notebooks are stored without outputs: execute them, except
# those build_docs.py stages from the execution cache (scripts/run_nbs.py, the test step's nbdev-test)
# with their outputs and notebook metadata mystnb.execution_mode = "off"; all cached: "off" globally
nb_execution_raise_on_error = True   # a raising cell fails the build
nb_execution_show_tb = True          # ... and its traceback is printed
nb_execution_timeout = 600           # seconds per cell
nb_execution_allow_errors = False
nb_merge_streams = True
nb_kernel_rgx_aliases = {".*": "python3"}   # whatever kernel a notebook names, use the venv's python3
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]

# --- autodoc ----------------------------------------------------------------------------------
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "description"
# optional heavy extras (see pyproject's optional-dependencies): document the modules even where
# these are not installed
autodoc_mock_imports = ["libero", "vllm"]
# nbdev docstrings use `backticks` for names: in the reST API pages they become code-formatted
# cross-references (unresolved ones are just code, no warning)
default_role = "py:obj"
napoleon_google_docstring = True
napoleon_numpy_docstring = True

# --- HTML -------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"] if (Path(__file__).parent / "_static").is_dir() else []
html_css_files = ["custom.css"] if (Path(__file__).parent / "_static" / "custom.css").is_file() else []

# --- math: MathJax 2 served from the site itself (offline) ------------------------------------
# jupyter-server-mathjax (a dev dependency) ships a TRIMMED MathJax 2.7: the only combined config
# is config/TeX-AMS-MML_HTMLorMML-full.js (config=TeX-AMS-MML_HTMLorMML, the CDN default, is NOT
# there: MathJax.js then loads but never typesets), the only output jax is HTML-CSS and the only
# web font is STIX-Web (no TeX fonts, no image fonts). It is copied into <out>/_static/mathjax/
# after the build (_copy_mathjax below). pydata-sphinx-theme lays out span.math/div.math for
# MathJax 3 (inline-flex), which lifts MathJax-2 inline math off the baseline: _static/mathjax2.css
# undoes that. Without the package, Sphinx's default (MathJax 3 from its CDN) is used.
try:
    import jupyter_server_mathjax as _mj
    _MATHJAX_DIR = Path(_mj.__file__).parent / "static"
    if not (_MATHJAX_DIR / "config" / "TeX-AMS-MML_HTMLorMML-full.js").is_file():
        raise ImportError(f"no MathJax 2 combined config in {_MATHJAX_DIR}")
except ImportError:
    _MATHJAX_DIR = None
if _MATHJAX_DIR is not None:
    mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
    myst_update_mathjax = False   # myst would add a MathJax-3 style window.MathJax object, which MathJax 2 misreads
    mathjax2_config = {
        "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]],
                    "processEscapes": True, "ignoreClass": "tex2jax_ignore|mathjax_ignore|document",
                    "processClass": "tex2jax_process|mathjax_process|math|output_area"},
        # only STIX-Web is shipped: do not look for (absent) TeX web/image fonts or local fonts
        "HTML-CSS": {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web",
                     "imageFont": None, "linebreaks": {"automatic": True}},
        "messageStyle": "none",
    }
    if (Path(__file__).parent / "_static" / "mathjax2.css").is_file():
        html_css_files.append("mathjax2.css")


def _copy_mathjax(app, exception):
    if exception is None and _MATHJAX_DIR is not None and app.builder.format == "html":
        import shutil
        shutil.copytree(_MATHJAX_DIR, Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


def setup(app):
    app.connect("build-finished", _copy_mathjax)


html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "navigation_with_keys": False,
}
html_last_updated_fmt = None
html_show_sourcelink = False
