"""Fixtures shared by the build tests: one strict build of the book per session,
and one headless Chromium.

``test_book_build.py`` inspects the HTML as files, ``test_browser.py`` in a
real browser and ``test_notebooks.py`` the executed notebooks; all of them use
the single build made here.  Set ``GMTHEORY_REUSE_BUILD=1`` to inspect an
existing ``_build`` instead of building again (handy while working on these
tests; the build log is then not checked, and CI never sets it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
INSTALL = ("install Chromium and its driver to run the browser tests: "
           "`sudo apt-get install chromium chromium-driver` (Debian/Ubuntu)")
#: seconds a page may take to load (and typeset its maths)
PAGE_TIMEOUT = 60


@pytest.fixture(scope="session")
def build() -> subprocess.CompletedProcess | None:
    """Run ``jupyter-book build . -W -n --keep-going`` once per session."""
    if os.environ.get("GMTHEORY_REUSE_BUILD") == "1":
        if not (HTML / "index.html").exists():
            pytest.fail("GMTHEORY_REUSE_BUILD=1 but there is no _build/html to reuse")
        return None
    exe = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(exe), "build", str(ROOT), "-W", "-n", "--keep-going"]
    env = dict(os.environ, PYTHONWARNINGS="ignore::DeprecationWarning")
    return subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True,
                          text=True, env=env, timeout=3600)


def _browser_paths() -> tuple[str | None, str | None]:
    chromium = next((p for p in map(shutil.which, (
        "chromium", "chromium-browser", "google-chrome")) if p), None)
    return chromium, shutil.which("chromedriver")


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for all pages, with its console and network logged."""
    chromium, driver_path = _browser_paths()
    if not (chromium and driver_path):
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but no Chromium/chromedriver on PATH: {INSTALL}")
        pytest.skip(f"no Chromium/chromedriver on PATH; {INSTALL}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="gmtheory-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage",
                 "--window-size=1280,1000", f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path),
                              options=opts)
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    driver.set_script_timeout(PAGE_TIMEOUT + 5)
    driver.get("about:blank")
    for log in ("browser", "performance"):  # the browser's own start-up
        driver.get_log(log)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
