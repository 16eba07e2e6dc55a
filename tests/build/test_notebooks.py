"""The chapters as a reader runs them: in JupyterLab, and as downloaded notebooks.

- The README's JupyterLab line starts a server whose contents manager
  (jupytext's) reads every chapter as a notebook with the chapter's cells, and
  that opens ``.md`` files as notebooks rendered by jupyterlab-myst; the server
  is stopped before the test ends.
- Every chapter runs as a plain notebook from a directory other than the
  repository.  The build already executes every chapter with nbclient, and
  ``execute.run_in_temp`` in ``_config.yml`` makes it do so from a fresh
  temporary directory; these tests check that it did, and that each executed
  notebook -- the ``.ipynb`` the chapter page offers for download -- carries
  the outputs of every code cell and no error.  Executing all chapters a
  third time (after nbval and the build) would double the suite's longest
  part, so only the cheapest chapter's downloaded notebook is run again, from
  a temporary directory, and must reproduce the numbers of the build.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
EXECUTED = ROOT / "_build" / "jupyter_execute"
#: the chapter whose downloaded notebook is executed again (the cheapest)
RERUN = "book/part1/latent_variables"
TOKEN = "gmtheory-test"


def _chapters() -> list[str]:
    """Every page of the table of contents that holds code cells.

    Only MyST pages can: the API reference (``book/api/*.rst``) holds none.
    """
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [f for f in files if (ROOT / f"{f}.md").is_file()
            and "{code-cell}" in (ROOT / f"{f}.md").read_text(encoding="utf-8")]


def _code(nb) -> list[str]:
    return [c.source.strip() for c in nb.cells if c.cell_type == "code"]


# --------------------------------------------------------------------------
# JupyterLab


def _readme_lab_command() -> list[str]:
    lines = [ln.strip() for ln in (ROOT / "README.md").read_text().splitlines()
             if re.match(r"\s*\.venv/bin/jupyter lab\b", ln)]
    assert len(lines) == 1, f"README.md should have one JupyterLab line: {lines}"
    argv = shlex.split(lines[0].split("#")[0])
    argv[0] = str(Path(sys.executable).parent / "jupyter")
    return argv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(base: str, path: str):
    req = urllib.request.Request(f"{base}{path}",
                                 headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read().decode()
    return json.loads(body) if body.lstrip().startswith("{") else body


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The README's JupyterLab line, on a free local port, without a browser."""
    home = tmp_path_factory.mktemp("jupyter-home")
    env = dict(os.environ,  # the reader's own Jupyter settings stay out of it
               JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
    # never write a chapter back: opening one marks it modified
    settings = home / "settings" / "@jupyterlab" / "docmanager-extension"
    settings.mkdir(parents=True)
    (settings / "plugin.jupyterlab-settings").write_text('{"autosave": false}')
    port = _free_port()
    argv = _readme_lab_command() + [
        "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={TOKEN}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # CI runs as root
    log = home / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                _get(base, "/api/status")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start: {argv}\n"
                                f"{log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.poll() is not None, "the JupyterLab server is still running"


def test_jupyterlab_reads_every_chapter_as_a_notebook(lab):
    for chapter in _chapters():
        model = _get(lab, f"/api/contents/{chapter}.md?type=notebook&content=1")
        assert model["type"] == "notebook", f"{chapter}.md is not served as a notebook"
        served = nbformat.from_dict(model["content"])
        source = jupytext.read(ROOT / f"{chapter}.md", fmt="md:myst")
        assert len(served.cells) == len(source.cells) and (
            _code(served) == _code(source)), f"{chapter}: cells differ from the .md"
        assert served.metadata["kernelspec"]["name"] == "python3"


def test_jupyterlab_opens_markdown_as_a_notebook_with_myst(lab):
    plugin = _get(lab, "/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    viewers = plugin["schema"]["properties"]["defaultViewers"]["default"]
    assert viewers.get("markdown") == "Jupytext Notebook", (
        f"double-clicking a chapter would not open it as a notebook: {viewers}")
    page = _get(lab, "/lab")
    for ext in ("jupyterlab-myst", "jupyterlab-jupytext"):
        # listed here; that they load and work is the browser test below
        assert f'"name": "{ext}"' in page, f"JupyterLab does not load {ext}"


def test_a_chapter_opens_as_a_notebook_in_the_browser(lab, browser):
    """What the reader sees: a double-clickable chapter is a MyST notebook."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    chapter = "book/part2/duality"
    cells = len(jupytext.read(ROOT / f"{chapter}.md", fmt="md:myst").cells)
    browser.get(f"{lab}/lab/tree/{chapter}.md?token={TOKEN}")
    try:
        WebDriverWait(browser, 120).until(lambda d: len(d.find_elements(
            By.CSS_SELECTOR, ".jp-NotebookPanel .jp-Cell")) == cells)
        # jupyterlab-myst numbers the theorems as the book does
        WebDriverWait(browser, 60).until(lambda d: d.execute_script(
            "return [...document.querySelectorAll('.jp-MarkdownCell a, "
            ".jp-MarkdownCell span')].some(e => /^Theorem \\d+$/.test("
            "e.textContent.trim()))"))
    except TimeoutException as exc:
        shown = len(browser.find_elements(By.CSS_SELECTOR, ".jp-Cell"))
        raise AssertionError(
            f"{chapter}.md did not open as a MyST-rendered notebook of {cells} "
            f"cells ({shown} cells shown)") from exc
    finally:
        browser.get("about:blank")  # leave the kernel-less page before the server stops


# --------------------------------------------------------------------------
# executed notebooks


def test_build_runs_chapters_outside_the_repository(build):
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["run_in_temp"] is True, (
        "_config.yml must set execute.run_in_temp: true")
    if build is not None:
        log = build.stdout + build.stderr
        local = [ln for ln in log.splitlines() if "using local CWD" in ln]
        assert not local, "\n".join(local)


def test_every_chapter_page_offers_its_executed_notebook(build):
    for chapter in _chapters():
        page = (HTML / f"{chapter}.html").read_text(encoding="utf-8")
        assert re.search(rf'href="[./]*_sources/{re.escape(chapter)}\.ipynb"', page), (
            f"{chapter}.html does not link its executed .ipynb")
        nb = nbformat.read(HTML / "_sources" / f"{chapter}.ipynb", as_version=4)
        source = jupytext.read(ROOT / f"{chapter}.md", fmt="md:myst")
        assert _code(nb) == _code(source), f"{chapter}.ipynb is not this chapter's"
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(isinstance(c.execution_count, int) for c in code), (
            f"{chapter}.ipynb has code cells that were not executed")
        outputs = [o for c in code for o in c.outputs]
        assert outputs, f"{chapter}.ipynb carries no output"
        bad = [o for o in outputs if o.output_type == "error" or (
            o.output_type == "stream" and o.name == "stderr")]
        assert not bad, f"{chapter}.ipynb holds errors: {bad[:2]}"
        for cell in code:  # myst-nb's merged-in-place streams repeat the tail
            chunks = [o.text for o in cell.outputs
                      if o.output_type == "stream" and o.name == "stdout"]
            tail = "".join(t.rstrip() + "\n" for t in chunks[1:] if t.rstrip())
            assert not (tail and chunks[0].endswith(tail)), (
                f"{chapter}.ipynb prints text twice in cell:\n{cell.source[:200]}")


def _same_number(a: str, b: str) -> bool:
    """Equal as printed, or as numbers to 1e-6 relative (far below any prose)."""
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-12)
    except ValueError:
        return a == b


def _shown_outputs(nb) -> list[list[str]]:
    """Per code cell, the kinds of output it shows (how a kernel splits printed
    text into stream chunks varies from run to run, so streams count once)."""
    kinds = []
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        shown = [o for o in cell.outputs if not o.get("metadata", {}).get("scrapbook")]
        kinds.append(sorted({f"stream:{o.name}" for o in shown
                             if o.output_type == "stream"})
                     + sorted(o.output_type for o in shown
                              if o.output_type != "stream"))
    return kinds


def test_downloaded_notebook_reproduces_its_numbers(build, tmp_path):
    from nbclient import NotebookClient

    downloaded = nbformat.read(HTML / "_sources" / f"{RERUN}.ipynb", as_version=4)
    fresh = nbformat.read(HTML / "_sources" / f"{RERUN}.ipynb", as_version=4)
    for cell in fresh.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    t0 = time.perf_counter()
    NotebookClient(fresh, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    seconds = time.perf_counter() - t0
    # the glued numbers the page prints, as the build computed them
    glued = json.loads((EXECUTED / f"{RERUN}.glue.json").read_text())
    rerun = {}
    for o in (o for c in fresh.cells if c.cell_type == "code" for o in c.outputs):
        if scrap := o.get("metadata", {}).get("scrapbook"):
            rerun[scrap["name"]] = o.data[scrap["mime_prefix"] + "text/plain"]
    expected = {k: v["data"]["text/plain"] for k, v in glued.items()}
    assert rerun.keys() == expected.keys()
    differ = {k: (expected[k], rerun[k]) for k in expected
              if not _same_number(expected[k], rerun[k])}
    assert not differ, f"numbers (build, re-run) that differ: {differ}"
    assert _shown_outputs(fresh) == _shown_outputs(downloaded)
    exact = sum(expected[k] == rerun[k] for k in expected)
    print(f"{RERUN}.ipynb re-run from {tmp_path} in {seconds:.1f} s: "
          f"{exact} of {len(expected)} glued numbers identical, the rest "
          "within 1e-6")
