"""Every ``literalinclude`` renders as one complete Python definition.

A chapter shows package code with ``literalinclude``; what the reader sees is
whatever lines Sphinx cut out of the file.  This finds those blocks in the
built HTML (the code blocks that are not a notebook cell's input) and parses
each: it must be a single ``def`` or ``class`` once dedented, not three lines
of an unclosed signature, and a chapter must render as many such blocks as
its source has includes.  ``tests/unit/test_book_includes.py`` checks the
same from the sources, without a build.
"""

from __future__ import annotations

import ast
import html
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
CHAPTERS = sorted(p for p in (ROOT / "book").glob("part*/*.md")
                  if "{literalinclude}" in p.read_text("utf-8"))
# a highlighted block; notebook cells are lexed as ipython3, includes are not
_BLOCK = re.compile(r'<div class="highlight-(?P<lang>[\w-]+) notranslate">'
                    r'<div class="highlight"><pre>(?P<code>.*?)</pre>', re.S)
_TAG = re.compile(r"<[^>]+>")


def rendered_includes(page: str) -> list[str]:
    """The text of every code block of ``page`` that is not a cell's input."""
    return [html.unescape(_TAG.sub("", m["code"])) for m in _BLOCK.finditer(page)
            if m["lang"] not in ("ipython3", "ipython")]


def test_chapters_include_code():
    assert len(CHAPTERS) >= 5


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_included_code_is_whole_definitions(build, chapter):
    page = HTML / chapter.relative_to(ROOT).with_suffix(".html")
    assert page.is_file(), f"{page} was not built"
    blocks = rendered_includes(page.read_text(encoding="utf-8"))
    n_includes = chapter.read_text("utf-8").count("```{literalinclude}")
    assert len(blocks) == n_includes, (
        f"{page.name} renders {len(blocks)} code blocks outside cells for "
        f"{n_includes} literalincludes in {chapter.name}")
    for text in blocks:
        try:
            body = ast.parse(textwrap.dedent(text)).body
        except SyntaxError as err:
            pytest.fail(f"{page.name} shows code that does not parse "
                        f"({err.msg}):\n{text}")
        assert len(body) == 1 and isinstance(
            body[0], ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef), (
            f"{page.name} shows code that is not one def or class:\n{text}")
