"""The docs site builds offline (scripts/build_docs.py: Sphinx + myst-nb, notebooks executed) and
renders in headless Chromium: titles, sidebar order, a highlighted code cell and an executed figure
on a notebook page, equations typeset offline by the site's own MathJax, screenshots. (The home
page, nbs/index.ipynb, may have no visible code cell.)

One build per session (module fixture). The build shows the outputs of the notebooks that
scripts/run_nbs.py (the notebook step of scripts/test.sh) executed and kept in the execution cache
(<root>/docs/_exec/); it executes only notebooks without an up-to-date entry. Its log (each step
with its time) is kept next to the output folder, in <out>.build.log. Environment:
  VLARL_DOCS_ROOT           project to build (default: this repository)
  VLARL_DOCS_OUT            HTML output folder (default: <root>/docs/_build/html); screenshots are
                            kept in <out>/_screenshots/
  VLARL_DOCS_REQUIRE_CACHE  1: the build fails at once, naming them, when notebooks have no
                            up-to-date cache entry, instead of executing them (scripts/test.sh sets it)
  VLARL_DOCS_BUILD_TIMEOUT  seconds allowed for the build (default: see build_timeout below)
  CHROMIUM                  browser binary (default: /usr/bin/chromium, Debian package `chromium`,
                            installed by `scripts/setup.sh --dev`)
"""
import json, os, re, shutil, signal, subprocess, sys, tempfile, time
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

REPO = Path(__file__).resolve().parents[1]
ROOT = Path(os.environ.get("VLARL_DOCS_ROOT", REPO)).resolve()
OUT = Path(os.environ.get("VLARL_DOCS_OUT", ROOT / "docs/_build/html")).resolve()
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text()).get("project", {}).get("name", "vlarl")
PREFERRED_PAGE = "01a_action_tokenizer"
# Timeouts guard against hangs only; they are set from measured times with a wide margin.
# Rendering the site from the execution cache (staging, sphinx-build with autodoc, no notebook
# executed) took 90-117 s for 6 notebooks + the full library's 23 API pages on a 2-core machine
# shared with other jobs (load 8); the full site (29 notebooks, all cached) took 29 s alone and 47 s
# beside a busy process inside `make test` on the 2-core machine.
RENDER_TIMEOUT = 1200
# A notebook the build must execute itself (no cache entry) gets twice what the slowest notebook
# measured needed under nbdev-test on the same loaded machine (tutorials/end_to_end: 617 s).
EXEC_TIMEOUT_PER_NOTEBOOK = 1200
# One headless-Chromium call (load, MathJax, dump or screenshot): 3-6 s measured there.
BROWSER_TIMEOUT = 120
sys.path.insert(0, str(REPO / "scripts"))
import build_docs  # noqa: E402  (the execution-cache lookup the build itself uses)


def chromium_bin() -> str:
    for c in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return c
    pytest.fail("chromium not found (/usr/bin/chromium): install the Debian package `chromium` "
                "(`make setup-dev` / `scripts/setup.sh --dev` does it)", pytrace=False)


def run_chromium(*args: str) -> str:
    """Run headless Chromium with a fresh profile; return stdout. Killed (whole process group)
    after BROWSER_TIMEOUT seconds."""
    exe = chromium_bin()
    profile = tempfile.mkdtemp(prefix="vlarl-chromium-")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}",
           # offline: every host name fails at once (MathJax's CDN etc.), nothing hangs on DNS
           "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",
           "--virtual-time-budget=5000", *args]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         errors="replace", start_new_session=True)
    try:
        out, err = p.communicate(timeout=BROWSER_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        pytest.fail(f"chromium took longer than {BROWSER_TIMEOUT} s (measured: 3-6 s) for "
                    f"{' '.join(args)}", pytrace=False)
    finally:
        try:  # helpers chromium may leave behind in its process group
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        shutil.rmtree(profile, ignore_errors=True)
    assert p.returncode == 0, f"chromium exited with {p.returncode}:\n{err[-3000:]}"
    return out


def dump_dom(page: Path) -> BeautifulSoup:
    html = run_chromium("--dump-dom", page.as_uri())
    assert "<html" in html.lower(), f"chromium returned no DOM for {page}"
    return BeautifulSoup(html, "html.parser")


def screenshot(page: Path, name: str) -> Path:
    shots = OUT / "_screenshots"
    shots.mkdir(exist_ok=True)
    png = shots / f"{name}.png"
    png.unlink(missing_ok=True)
    run_chromium(f"--screenshot={png}", "--window-size=1280,1600", page.as_uri())
    assert png.is_file(), f"no screenshot written for {page}"
    assert png.stat().st_size > 10_000, f"screenshot {png} is only {png.stat().st_size} bytes"
    return png


def words(s: str) -> str:
    "Compare titles by their words: markdown/HTML markup, smart quotes and dashes drop out."
    s = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", s)  # [text](url) -> text
    return " ".join(re.findall(r"[A-Za-z0-9]+", s)).lower()


def h1_of_staged(name: str) -> str:
    nb = json.loads((ROOT / "docs/_src" / f"{name}.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            m = re.search(r"^#\s+(.+?)\s*$", src, re.M)
            if m:
                return m.group(1)
    pytest.fail(f"staged notebook {name}.ipynb has no H1 title in a markdown cell")


def has_figure(page: Path) -> bool:
    soup = BeautifulSoup(page.read_text(), "html.parser")
    return any(i.get("src", "").endswith(".png") for i in soup.select("div.cell_output img"))


def build_timeout(n_execute: int) -> tuple[int, str]:
    "Seconds allowed for the docs build when it must execute `n_execute` notebooks, and why."
    if os.environ.get("VLARL_DOCS_BUILD_TIMEOUT"):
        return int(os.environ["VLARL_DOCS_BUILD_TIMEOUT"]), "VLARL_DOCS_BUILD_TIMEOUT"
    return (RENDER_TIMEOUT + EXEC_TIMEOUT_PER_NOTEBOOK * n_execute,
            f"{RENDER_TIMEOUT} s to render + {EXEC_TIMEOUT_PER_NOTEBOOK} s for each of the "
            f"{n_execute} notebooks without a cache entry")


def run_build(cmd: list[str], timeout: int, why: str, log: Path) -> tuple[int, str]:
    """Run the build with stdout and stderr in `log`; return its exit code and output. On a timeout,
    kill its process group (sphinx-build, kernels) and fail with one line naming the running step."""
    steps = []  # (time the step began, its `build_docs: ...` line)
    t0 = time.time()
    with open(log, "w") as f:
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        seen = 0
        while True:
            try:
                p.wait(timeout=2)
                break
            except subprocess.TimeoutExpired:
                pass
            new = log.read_text(errors="replace")[seen:]
            new = new[:new.rfind("\n") + 1]  # complete lines only
            seen += len(new)
            steps += [(time.time(), l.removeprefix("build_docs: ")) for l in new.splitlines()
                      if l.startswith("build_docs: ")]
            if time.time() - t0 > timeout:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                t, step = steps[-1] if steps else (t0, "starting (before staging)")
                pytest.fail(f"docs build took longer than {timeout} s ({why}); slow step, running "
                            f"for {time.time() - t:.0f} s: {step[:300]} (log: {log})", pytrace=False)
    return p.returncode, log.read_text(errors="replace")


@pytest.fixture(scope="module")
def site() -> Path:
    chromium_bin()  # fail early, before the build, when the browser is missing
    cmd = [sys.executable, str(REPO / "scripts/build_docs.py"), "--root", str(ROOT), "--out", str(OUT)]
    if os.environ.get("VLARL_DOCS_REQUIRE_CACHE") == "1":
        cmd.append("--require-cache")
    n_execute = sum(run is None for run in build_docs.cached_runs(ROOT).values())
    timeout, why = build_timeout(n_execute)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    log = OUT.parent / f"{OUT.name}.build.log"
    rc, text = run_build(cmd, timeout, why, log)
    if rc != 0:
        failed = [l for l in text.splitlines() if l.startswith("build_docs: FAILED")]
        first = failed[-1].removeprefix("build_docs: ") if failed else f"exited with {rc}"
        tail = "\n".join([l for l in text.splitlines() if not l.startswith("build_docs: FAILED")][-40:])
        pytest.fail(f"docs build {first} (log: {log})" + (f"\n--- the log's last lines:\n{tail}" if tail else ""),
                    pytrace=False)
    index = OUT / "index.html"
    assert index.is_file() and str(index) in text, f"build did not report {index}:\n{text[-3000:]}"
    return OUT


@pytest.fixture(scope="module")
def notebook_page(site) -> str:
    "01a_action_tokenizer if it has a figure, else the first numbered notebook page that has one."
    pages = sorted(p.stem for p in site.glob("[0-9]*.html"))
    assert pages, f"no numbered notebook pages in {site}"
    for name in [PREFERRED_PAGE] + pages:
        if (site / f"{name}.html").is_file() and has_figure(site / f"{name}.html"):
            return name
    pytest.fail(f"none of the notebook pages {pages} has a figure (an executed matplotlib png)")


# Sphinx wraps each equation in span/div.math.notranslate (MathJax 2 names its own inner boxes
# span.math too, hence .notranslate); typeset output of MathJax 2, MathJax 3 or KaTeX inside it:
SPHINX_MATH = "span.math.notranslate, div.math.notranslate"
TYPESET = ".MathJax, .MathJax_Display, .MathJax_SVG, mjx-container, .katex"
MATH_ERROR = ".merror, .noError, .MathJax_Error, mjx-merror, .katex-error"
RAW_TEX = re.compile(r"\\[()\[\]]|\\(text|mathrm|mathbf|mathcal|frac|sum|in)\b")


def has_math(page: Path) -> bool:
    return bool(BeautifulSoup(page.read_text(), "html.parser").select_one(SPHINX_MATH))


@pytest.fixture(scope="module")
def math_page(site) -> str:
    "01a_action_tokenizer if it has equations, else the first numbered notebook page that has some."
    pages = sorted(p.stem for p in site.glob("[0-9]*.html"))
    for name in [PREFERRED_PAGE] + pages:
        if (site / f"{name}.html").is_file() and has_math(site / f"{name}.html"):
            return name
    pytest.skip(f"no equations ($...$ / $$...$$) in any notebook page {pages}")


def assert_code_cell(soup: BeautifulSoup, page: str):
    cells = [c for c in soup.select("div.cell")
             if c.select_one("div.cell_input div.highlight pre span")]
    assert cells, f"{page}: no rendered code cell (div.cell > div.cell_input with highlighted code)"


def test_home_page(site):
    page = site / "index.html"
    soup = dump_dom(page)
    title = soup.title.get_text() if soup.title else ""
    assert words(PROJECT) in words(title), f"home page title {title!r} lacks {PROJECT!r}"
    h1 = soup.select_one("article h1")
    assert h1 is not None and words(h1_of_staged("index")) in words(h1.get_text()), "home page has no H1 title"
    nav = soup.select("nav.bd-docs-nav a")  # the sidebar, in reading order
    assert nav, "home page has no sidebar navigation"
    numbered = sorted(p.stem for p in site.glob("[0-9]*.html"))
    hrefs = [a.get("href", "").split("#")[0].removesuffix(".html") for a in nav]
    order = [h for h in hrefs if h in numbered]
    assert order == numbered, f"sidebar order {order} != notebook order {numbered}"
    assert soup.select_one("form.bd-search, #pst-search-dialog, .search-button-field"), "no search box"
    screenshot(page, "home")


def test_notebook_page(site, notebook_page):
    page = site / f"{notebook_page}.html"
    soup = dump_dom(page)
    title = soup.title.get_text() if soup.title else ""
    h1 = h1_of_staged(notebook_page)
    assert words(h1) in words(title) and words(PROJECT) in words(title), \
        f"{page.name}: title {title!r}, expected the notebook's H1 {h1!r} and {PROJECT!r}"
    assert_code_cell(soup, page.name)
    imgs = [i for i in soup.select("div.cell_output img") if i.get("src", "").endswith(".png")]
    assert imgs, f"{page.name}: no figure (png <img>) in a cell output"
    for img in imgs:
        png = (page.parent / img["src"]).resolve()
        assert png.is_file() and png.stat().st_size > 0, f"{page.name}: figure {img['src']} missing or empty"
        assert png.parent == (site / "_images").resolve(), f"{img['src']} is not an executed output"
    screenshot(page, notebook_page)


def test_math_typeset(site, math_page):
    """Equations are typeset in an offline browser: the math renderer is served from the site
    itself (no CDN), every equation holds renderer output, and no raw TeX is left in the prose."""
    page = site / f"{math_page}.html"
    static = BeautifulSoup(page.read_text(), "html.parser")
    n_math = len(static.select(SPHINX_MATH))
    scripts = [s.get("src", "") for s in static.select("script[src]")]
    renderer = [s for s in scripts if re.search(r"mathjax|katex", s, re.I)]
    assert renderer, f"{page.name}: no MathJax/KaTeX script among {scripts}"
    remote = [s for s in renderer if "://" in s or s.startswith("//")]
    assert not remote, f"{page.name}: math renderer comes from the network: {remote}"
    for src in renderer:
        js = (page.parent / src.split("?")[0]).resolve()
        assert js.is_file(), f"{page.name}: math renderer {src} is not in the site ({js})"

    soup = dump_dom(page)
    boxes = soup.select(SPHINX_MATH)
    assert len(boxes) == n_math, f"{page.name}: {n_math} equations in the HTML, {len(boxes)} after rendering"
    untypeset = [b for b in boxes if not b.select_one(TYPESET)]
    assert not untypeset, (f"{page.name}: {len(untypeset)} of {n_math} equations not typeset, e.g. "
                           f"{untypeset[0].get_text()[:120]!r}")
    errors = soup.select(MATH_ERROR)
    assert not errors, f"{page.name}: math errors: {[e.get_text()[:80] for e in errors[:3]]}"
    article = soup.select_one("article") or soup.body
    for hidden in article.select("script, style, pre, code, .MJX_Assistive_MathML"):
        hidden.decompose()  # the TeX source MathJax keeps in <script type="math/tex">, code cells
    raw = RAW_TEX.search(article.get_text())
    assert raw is None, (f"{page.name}: raw TeX left in the rendered page: "
                         f"{article.get_text()[max(0, raw.start() - 40):raw.end() + 40]!r}")
    if not (site / "_screenshots" / f"{math_page}.png").is_file():  # test_notebook_page's page
        screenshot(page, math_page)


def test_tutorial_page(site):
    """The end-to-end tutorial renders with its executed figure, and its links to chapter pages resolve."""
    page = site / "tutorials" / "end_to_end.html"
    assert page.is_file(), f"no tutorial page at {page}"
    soup = dump_dom(page)
    h1 = soup.select_one("article h1")
    assert h1 is not None and "tutorial" in h1.get_text().lower(), "tutorial page has no H1 title"
    assert_code_cell(soup, page.name)
    imgs = [i for i in soup.select("div.cell_output img") if i.get("src", "").endswith(".png")]
    assert imgs, "tutorial page: no figure (png <img>) in a cell output"
    for img in imgs:
        png = (page.parent / img["src"]).resolve()
        assert png.is_file() and png.stat().st_size > 0, f"tutorial figure {img['src']} missing or empty"
    local = [a["href"].split("#")[0] for a in soup.select("article a[href]")
             if not a["href"].startswith(("http", "#", "mailto:")) and a["href"].split("#")[0]]
    assert any("06d_sft" in h for h in local), f"tutorial page has no link to the SFT chapter: {local}"
    broken = [h for h in local if not (page.parent / h).resolve().is_file()]
    assert not broken, f"tutorial page: broken links {broken}"
    screenshot(page, "tutorial")
