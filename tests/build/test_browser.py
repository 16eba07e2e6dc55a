"""Open every page of the built book in a real browser (headless Chromium).

The HTML built by the session fixture ``build`` is served on 127.0.0.1 and
one Chromium, driven by Selenium through Debian's ``chromedriver``, visits
every page.  On each page the test asserts what a reader sees and a static
inspection cannot: MathJax typeset every formula without an error node (no raw
TeX delimiters left in the text), every image decoded, the console logged no
error, no request left 127.0.0.1 and none failed.  One chapter is then shown
in dark mode, whose figures must keep a light background, and the search page
must find a chapter by a word of its text.

The browser is the fixture ``browser`` of ``conftest.py``: without Chromium
the tests are skipped with the command that installs it; under ``CI=true``
(where ``.ci/run`` installs it) a missing browser fails.
"""

from __future__ import annotations

import functools
import io
import json
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlparse

import matplotlib.image
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
#: the chapter shown in dark mode, and a word of its text for the search page
DARK_PAGE = "book/part2/optimal_transport.html"
SEARCH_WORD, SEARCH_HIT = "Kantorovich", "book/part2/optimal_transport.html"
#: a figure's own edge, rendered in dark mode: white through the theme's image
#: filter (brightness .8, contrast 1.2) is 0.86; the dark page background 0.07
LIGHT = 0.75
#: seconds a page may take to load and typeset its maths
PAGE_TIMEOUT = 60

# What a page reports once MathJax has finished (or was never needed).
_WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
const t0 = Date.now();
(function poll() {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) {
    mj.startup.promise.then(() => done("typeset"), e => done("failed: " + e));
  } else if (!document.querySelector('script[src*="mathjax"]')) {
    done("no mathjax");
  } else if (Date.now() - t0 > TIMEOUT_MS) {
    done("timeout");
  } else {
    setTimeout(poll, 50);
  }
})();
""".replace("TIMEOUT_MS", str(1000 * PAGE_TIMEOUT))

_INSPECT = r"""
const skip = "script, style, pre, code, textarea, mjx-container, .highlight";
const rawTex = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const delimiters = /\\\(|\\\)|\\\[|\\\]|\$\$|\$[^$\s][^$]*\$/;
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  const el = n.parentElement;
  if (el.closest(skip)) continue;
  const m = n.textContent.match(delimiters);
  if (m) rawTex.push(n.textContent.trim().slice(0, 80));
}
const math = [...document.querySelectorAll(".math")];
return {
  formulas: math.length,
  untypeset: math.filter(e => !e.querySelector("mjx-container"))
                 .map(e => e.textContent.trim().slice(0, 80)),
  typeset: document.querySelectorAll("mjx-container").length,
  mathErrors: [...document.querySelectorAll("mjx-merror, [data-mjx-error]")]
                 .map(e => e.getAttribute("data-mjx-error") || e.textContent),
  rawTex: rawTex,
  images: document.images.length,
  brokenImages: [...document.images]
                 .filter(i => !(i.complete && i.naturalWidth > 0))
                 .map(i => i.getAttribute("src")),
};
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def site(build):
    """Serve ``_build/html`` on 127.0.0.1 for the duration of the module."""
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _pages() -> list[str]:
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if "_static" not in p.parts and "reports" not in p.parts)


def _network(driver) -> tuple[list[str], list[str]]:
    """Requests since the last call: (every URL, URLs answered with an error)."""
    urls, failed = {}, []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        params = msg.get("params", {})
        if msg["method"] == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif msg["method"] == "Network.responseReceived":
            if params["response"]["status"] >= 400:
                failed.append(f'{params["response"]["status"]} {params["response"]["url"]}')
        elif (msg["method"] == "Network.loadingFailed" and not params.get("canceled")
              and params["requestId"] in urls):  # not the browser's own start-up
            url = urls[params["requestId"]]
            failed.append(f'{params.get("errorText")} {url} ({params.get("type")})')
    return list(urls.values()), failed


def _leaves_localhost(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme not in ("data", "blob", "about", "chrome") and (
        parsed.hostname != "127.0.0.1")


def _visit(driver, url: str) -> dict:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    if driver.execute_script(
            "return !!document.querySelector('meta[http-equiv=Refresh i]')"):
        # index.html only redirects: inspect the page it leads to
        WebDriverWait(driver, PAGE_TIMEOUT).until(
            lambda d: d.current_url != url and d.execute_script(
                "return document.readyState") == "complete")
    mathjax = driver.execute_async_script(_WAIT_FOR_MATHJAX)
    report = driver.execute_script(_INSPECT)
    report["mathjax"] = mathjax
    urls, report["failedRequests"] = _network(driver)
    report["external"] = [u for u in urls if _leaves_localhost(u)]
    report["console"] = [e["message"] for e in driver.get_log("browser")
                         if e["level"] == "SEVERE"]
    return report


def test_every_page_renders_in_a_browser(site, browser):
    pages = _pages()
    assert len(pages) > 5, f"only {len(pages)} pages in {HTML}"
    problems, formulas, t0 = {}, 0, time.perf_counter()
    for page in pages:
        r = _visit(browser, f"{site}/{quote(page)}")
        formulas += r["typeset"]
        bad = {k: r[k] for k in ("untypeset", "mathErrors", "rawTex", "brokenImages",
                                 "failedRequests", "external", "console") if r[k]}
        if r["mathjax"] not in ("typeset", "no mathjax"):
            bad["mathjax"] = r["mathjax"]
        if r["mathjax"] == "no mathjax" and r["formulas"]:
            bad["mathjax"] = f'{r["formulas"]} formulas but MathJax is not loaded'
        if bad:
            problems[page] = bad
    seconds = time.perf_counter() - t0
    assert not problems, json.dumps(problems, indent=1)[:6000]
    # the pages hold maths: a MathJax that silently did nothing must not pass
    assert formulas > 100, f"only {formulas} typeset formulas in {len(pages)} pages"
    print(f"{len(pages)} pages, {formulas} formulas typeset in {seconds:.1f} s")


def _luminance(png: bytes) -> np.ndarray:
    rgb = matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3]
    return rgb @ np.array([0.2126, 0.7152, 0.0722])


def test_dark_mode_keeps_figures_light(site, browser):
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    try:
        browser.get(f"{site}/{DARK_PAGE}")
        browser.execute_async_script(_WAIT_FOR_MATHJAX)
        theme = browser.execute_script("return document.documentElement.dataset.theme")
        assert theme == "dark", f"the page did not follow the dark colour scheme: {theme}"
        page = _luminance(browser.get_screenshot_as_png())
        assert page[:, -20:].mean() < 0.3, "the page background is not dark"
        from selenium.webdriver.common.by import By

        figures = browser.find_elements(By.CSS_SELECTOR, ".cell_output img")
        assert figures, f"{DARK_PAGE} shows no figure"
        for img in figures:
            browser.execute_script("arguments[0].scrollIntoView()", img)
            # the figure itself, inside the padding and border the theme adds
            inset = browser.execute_script(
                "const s = getComputedStyle(arguments[0]); return Math.ceil("
                "Math.max(...['Top', 'Right', 'Bottom', 'Left'].map(k => "
                "parseFloat(s['padding' + k]) + parseFloat(s['border' + k + "
                "'Width']))) * window.devicePixelRatio);", img)
            shot = _luminance(img.screenshot_as_png)
            shot = shot[inset:shot.shape[0] - inset, inset:shot.shape[1] - inset]
            border = np.concatenate([shot[:3].ravel(), shot[-3:].ravel(),
                                     shot[:, :3].ravel(), shot[:, -3:].ravel()])
            assert border.mean() > LIGHT, (
                f"a figure of {DARK_PAGE} has a dark background in dark mode "
                f"(border luminance {border.mean():.2f}): {img.get_attribute('src')}")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def test_search_finds_a_chapter(site, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{site}/search.html?q={SEARCH_WORD}")
    links = WebDriverWait(browser, PAGE_TIMEOUT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results li a"))
    hrefs = [a.get_attribute("href") for a in links]
    assert any(SEARCH_HIT in h for h in hrefs), (
        f"searching {SEARCH_WORD!r} does not list {SEARCH_HIT}: {hrefs}")
