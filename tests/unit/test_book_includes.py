"""Every ``literalinclude`` of package code in the book names a file and an
object that exist.

Moving a module or renaming a method otherwise fails only in the strict HTML
build; this parses the chapter sources and the included files with ``ast``
and runs in well under a second.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
_INCLUDE = re.compile(r"^```\{literalinclude\}\s+(\S+)\s*\n((?::[\w-]+:.*\n)*)", re.MULTILINE)


def _includes():
    for chapter in sorted(BOOK.rglob("*.md")):
        if "_build" in chapter.parts:
            continue
        for m in _INCLUDE.finditer(chapter.read_text(encoding="utf-8")):
            options = dict(re.findall(r"^:([\w-]+):\s*(.*)$", m.group(2), re.MULTILINE))
            yield pytest.param(chapter, m.group(1), options,
                               id=f"{chapter.stem}:{options.get('pyobject', m.group(1))}")


def _defines(tree: ast.Module, dotted: str) -> bool:
    body = tree.body
    for name in dotted.split("."):
        hit = [n for n in body if isinstance(n, ast.FunctionDef | ast.ClassDef)
               and n.name == name]
        if not hit:
            return False
        body = hit[0].body
    return True


INCLUDES = list(_includes())


def test_the_book_includes_package_code():
    assert len(INCLUDES) >= 8


@pytest.mark.parametrize(("chapter", "target", "options"), INCLUDES)
def test_include_resolves(chapter, target, options):
    path = (chapter.parent / target).resolve()
    assert path.is_file(), f"{chapter.name} includes {target}, which does not exist"
    if "pyobject" in options:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert _defines(tree, options["pyobject"]), (
            f"{chapter.name} includes {options['pyobject']} from {target}, "
            "which does not define it")
