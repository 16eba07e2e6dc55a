"""The pytest plugin that executes MyST chapters refuses headers without MyST."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("book_plugin", ROOT / "conftest.py")
plugin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plugin)

GOOD = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  name: python3
---
# A chapter
"""


def test_myst_header_accepted(tmp_path):
    p = tmp_path / "ok.md"
    p.write_text(GOOD)
    plugin._check_header(p)


@pytest.mark.parametrize("text", [
    GOOD.replace("format_name: myst", "format_name: markdown"),
    "# no front matter at all\n```{code-cell} ipython3\n1\n```\n",
])
def test_header_without_myst_is_a_collection_error(tmp_path, text):
    p = tmp_path / "bad.md"
    p.write_text(text)
    with pytest.raises(plugin.ChapterFormatError, match="format_name: myst"):
        plugin._check_header(p)


def test_every_book_page_with_code_has_a_myst_header():
    pages = [p for p in (ROOT / "book").rglob("*.md")
             if "{code-cell}" in p.read_text(encoding="utf-8")]
    assert pages, "the book has no executable pages"
    for p in pages:
        plugin._check_header(p)


def test_installed_nbval_reads_through_the_swapped_name():
    # conftest.py runs chapters by swapping nbval.plugin.nbformat for jupytext
    # while one chapter is collected; nbval offers no hook for other formats,
    # so a new nbval that reads notebooks differently must fail here, by name,
    # not as a JSON error in every chapter.
    plugin.check_nbval_hook()


def test_a_myst_chapter_collects_one_item_per_code_cell(pytester):
    pytester.makeconftest((ROOT / "conftest.py").read_text(encoding="utf-8"))
    book = pytester.mkdir("book")
    header = GOOD.replace("  name: python3", "  display_name: Python 3\n  language: python\n  name: python3")
    (book / "tiny.md").write_text(header + "```{code-cell} ipython3\nx = 1\n```\n"
                                  "text\n\n```{code-cell} ipython3\nassert x == 1\n```\n")
    result = pytester.runpytest_inprocess("--nbval-lax", "--collect-only", "-q",
                                          "-p", "no:cacheprovider", str(book / "tiny.md"))
    result.stdout.fnmatch_lines(["*tiny.md::Cell 0", "*tiny.md::Cell 1"])
    assert result.ret == 0


def test_an_incompatible_nbval_is_named(monkeypatch):
    import nbval.plugin

    monkeypatch.delattr(nbval.plugin, "nbformat")
    with pytest.raises(plugin.NbvalIncompatible, match="nbval"):
        plugin.check_nbval_hook()
