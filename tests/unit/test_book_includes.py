"""Every ``literalinclude`` of package code in the book names a file and an
object that exist, and shows a whole, stable object.

Moving a module or renaming a method otherwise fails only in the strict HTML
build; this parses the chapter sources and the included files with ``ast``
and runs in well under a second.  It also emulates what Sphinx shows
(``:pyobject:``, then ``:lines:`` relative to it) and parses that text: an
include must be one complete ``def`` or ``class``, never a few lines of an
unclosed signature, and never a line range into an object, which shifts with
every edit of its docstring (so ``:lines:`` is refused with ``:pyobject:``).
``tests/build/test_book_includes_html.py`` checks the same on the built HTML.
"""

from __future__ import annotations

import ast
import re
import textwrap
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


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
#: options that only change how the text looks, not which lines are shown
_COSMETIC = {"caption", "class", "name", "language", "emphasize-lines",
             "linenos", "lineno-match", "lineno-start", "dedent", "force"}


def _find(tree: ast.Module, dotted: str) -> ast.AST | None:
    """The definition ``dotted`` (``Class.method``) names in a module, or None."""
    node, body = None, tree.body
    for name in dotted.split("."):
        hit = [n for n in body if isinstance(n, _DEFS) and n.name == name]
        if not hit:
            return None
        node, body = hit[0], hit[0].body
    return node


def _defines(tree: ast.Module, dotted: str) -> bool:
    return _find(tree, dotted) is not None


def _select_lines(lines: list[str], spec: str) -> list[str]:
    """Sphinx's ``:lines:`` (``1-3,7,9-``, 1-based) applied to ``lines``."""
    keep: list[int] = []
    for part in spec.split(","):
        start, dash, stop = part.strip().partition("-")
        first = int(start) if start else 1
        last = (int(stop) if stop else len(lines)) if dash else first
        keep += range(first, last + 1)
    return [lines[i - 1] for i in keep if 1 <= i <= len(lines)]


def shown_text(path: Path, options: dict[str, str]) -> str:
    """The text a ``literalinclude`` of ``path`` with ``options`` shows.

    Emulates ``:pyobject:`` (the definition with its decorators, as Sphinx's
    ``ModuleAnalyzer`` finds it) and then ``:lines:`` relative to it; any
    other option that selects lines is refused rather than guessed.
    """
    other = set(options) - _COSMETIC - {"pyobject", "lines"}
    if other:
        raise AssertionError(f"options {sorted(other)} are not emulated here: show a "
                             "whole object with :pyobject: instead")
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    if "pyobject" in options:
        node = _find(ast.parse(source), options["pyobject"])
        assert node is not None, f"{path.name} does not define {options['pyobject']}"
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        lines = lines[first - 1 : node.end_lineno]
    if "lines" in options:
        lines = _select_lines(lines, options["lines"])
    return "\n".join(lines) + "\n"


def complete_definition(text: str) -> str | None:
    """Why ``text`` is not one complete ``def``/``class``, or None if it is."""
    try:
        tree = ast.parse(textwrap.dedent(text))
    except SyntaxError as err:
        return f"it does not parse ({err.msg}, line {err.lineno})"
    if len(tree.body) != 1 or not isinstance(tree.body[0], _DEFS):
        kinds = [type(n).__name__ for n in tree.body]
        return f"it is not a single def or class but {kinds}"
    return None


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


@pytest.mark.parametrize(("chapter", "target", "options"), INCLUDES)
def test_include_shows_a_whole_stable_object(chapter, target, options):
    assert "pyobject" in options, (
        f"{chapter.name} includes {target} without :pyobject:; show one whole object")
    assert "lines" not in options, (
        f"{chapter.name} includes {options['pyobject']} with :lines: "
        f"{options['lines']}: a range into an object shifts with every edit of it. "
        "Include a small function that holds exactly what the text discusses.")
    text = shown_text((chapter.parent / target).resolve(), options)
    problem = complete_definition(text)
    assert problem is None, (
        f"{chapter.name}: the include of {options['pyobject']} is not a complete "
        f"definition: {problem}:\n{text}")


@pytest.mark.parametrize(("text", "complete"), [
    ("def f(\n    x,\n", False),                      # geodesics.md's old 1-3
    ("def f(x):\n    return x\n", True),
    ("    def m(self):\n        return 1\n", True),  # a method, dedented
    ("@dataclass\nclass A:\n    x: int\n", True),
    ("x = 1\n", False),
    ("def f():\n    pass\ndef g():\n    pass\n", False),
])
def test_complete_definition_can_fail(text, complete):
    assert (complete_definition(text) is None) is complete


def test_lines_emulation_matches_sphinx(tmp_path):
    # Sphinx's `:lines: 1-2,4-` relative to the object selected by :pyobject:
    module = tmp_path / "m.py"
    module.write_text("import os\n\n\n@deco\ndef f(\n    a,\n):\n    return a\n")
    assert shown_text(module, {"pyobject": "f"}) == (
        "@deco\ndef f(\n    a,\n):\n    return a\n")
    assert shown_text(module, {"pyobject": "f", "lines": "1-2,4-"}) == (
        "@deco\ndef f(\n):\n    return a\n")
