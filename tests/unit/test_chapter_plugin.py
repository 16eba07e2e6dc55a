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
