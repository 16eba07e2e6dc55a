"""Build the HTML book strictly and inspect what a reader would get.

The build runs ``jupyter-book build . -W -n --keep-going`` (warnings are
errors, nit-picky references), executing every chapter.  The pages are then
checked for what a strict build does not catch by itself: error output in a
page, images that do not exist, unresolved glue, and anything that would need
the network to render (MathJax must be served from the book itself).  The
build itself is the session fixture ``build`` of ``conftest.py``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
CHAPTERS = [
    "book/part1/latent_variables",
    "book/part1/pullback_metric",
    "book/part1/geodesics",
    "book/part1/stochastic_generators",
    "book/part2/optimal_transport",
    "book/part2/duality",
    "book/part3/gan_dual",
    "book/part3/vae_primal",
]


class _Page(HTMLParser):
    """Collects the resources a page loads and its error-output blocks."""

    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.images: list[str] = []
        self.error_blocks = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class") or ""
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        if tag == "link" and "stylesheet" in (a.get("rel") or ""):
            self.styles.append(a.get("href") or "")
        if tag == "img" and a.get("src"):
            self.images.append(a["src"])
        if any(k in cls.split() for k in ("traceback", "stderr", "error")) and (
            "output" in cls
        ):
            self.error_blocks += 1


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _pages() -> list[Path]:
    return sorted(p for p in HTML.rglob("*.html") if "_static" not in p.parts)


def test_build_succeeds_without_warnings(build):
    if build is None:
        pytest.skip("GMTHEORY_REUSE_BUILD=1: no build ran, so no log to check")
    log = build.stdout + build.stderr
    # Sphinx reports problems as "<where>: WARNING: ..." / "ERROR: ..."; the
    # kernel's own start-up log line ("[IPKernelApp] WARNING | ...") is not one.
    warnings = [ln for ln in log.splitlines()
                if ("WARNING:" in ln or "ERROR" in ln) and "[IPKernelApp]" not in ln]
    assert build.returncode == 0 and not warnings, "\n".join(warnings[-40:]) or log[-4000:]


def test_every_chapter_is_rendered(build):
    for ch in CHAPTERS:
        assert (HTML / f"{ch}.html").exists(), f"{ch}.html was not built"


def test_pages_show_no_error_output(build):
    bad = {str(p.relative_to(HTML)): n for p in _pages()
           if (n := _parse(p).error_blocks)}
    assert not bad, f"pages with error/stderr output blocks: {bad}"


def test_every_image_exists(build):
    missing = []
    for p in _pages():
        for src in _parse(p).images:
            url = urlparse(src)
            if url.scheme == "data":
                continue
            assert not url.scheme, f"{p.name} loads an image from the network: {src}"
            if not (p.parent / unquote(url.path)).resolve().exists():
                missing.append(f"{p.relative_to(HTML)} -> {src}")
    assert not missing, "missing images:\n" + "\n".join(missing)


def test_glue_resolved(build):
    for p in _pages():
        text = p.read_text(encoding="utf-8")
        assert not re.search(r"\{glue:?(text|figure|math|md)?\}", text), (
            f"{p.relative_to(HTML)} shows an unresolved glue role"
        )


def test_nothing_loads_from_the_network(build):
    for p in _pages():
        page = _parse(p)
        for src in page.scripts + page.styles:
            assert not urlparse(src).scheme and not src.startswith("//"), (
                f"{p.relative_to(HTML)} loads {src} from the network"
            )


def test_mathjax_is_served_locally(build):
    mathjax = HTML / "_static" / "mathjax" / "tex-chtml.js"
    assert mathjax.exists(), "MathJax was not copied into _static"
    for ch in CHAPTERS:
        page = _parse(HTML / f"{ch}.html")
        local = [s for s in page.scripts
                 if urlparse(s).path.endswith("mathjax/tex-chtml.js")]  # ?v=hash
        assert local, f"{ch}.html does not load the local MathJax"


def test_mathjax_ships_only_what_the_pages_load(build):
    # the full MathJax 3 copy is 24 MB; _ext/slim_mathjax.py keeps about 3 MB
    # (the browser test fails on any MathJax file the pages then miss)
    mathjax = HTML / "_static" / "mathjax"
    size = sum(p.stat().st_size for p in mathjax.rglob("*") if p.is_file())
    assert size < 5 * 2**20, f"_static/mathjax holds {size / 2**20:.1f} MB"


def test_api_pages_describe_objects_by_their_own_docs(build):
    # a constant's summary once came from its type ("Convert a string or
    # number to a floating point number"): builtin docstrings must not leak
    leaks = ("Convert a string or number", "int([x]) -> integer",
             "Built-in immutable sequence")
    pages = sorted((HTML / "book" / "api").glob("*.html"))
    assert len(pages) >= 4, "the API reference pages were not built"
    bad = [(p.name, s) for p in pages for s in leaks if s in p.read_text(encoding="utf-8")]
    assert not bad, f"builtin docstrings on API pages: {bad}"


def test_chapters_missing_from_the_cache_were_executed_in_parallel(build):
    """``_ext/parallel_execution.py`` executes the chapters before Sphinx reads
    them; MyST-NB must then find every one of them in its cache.  If the two
    ever disagree on a notebook's cache key, each chapter would silently run
    twice: once in parallel, then again, alone, by MyST-NB."""
    if build is None:
        pytest.skip("GMTHEORY_REUSE_BUILD=1: no build log to inspect")
    log = build.stdout + build.stderr
    m = re.search(r"executing (\d+) notebooks, (\d+) at a time", log)
    if m is None:
        pytest.skip("nothing was executed in parallel (every chapter was in "
                    "the execution cache, or this process may use one CPU)")
    assert log.count("seconds (parallel)") == int(m[1])
    assert "Executing notebook using" not in log, (
        "MyST-NB executed a chapter again after the parallel step")
