"""Pytest plugin: execute the book's MyST Markdown chapters with nbval.

nbval only collects ``.ipynb`` files.  The book's chapters are jupytext MyST
Markdown, so this plugin reads each chapter with jupytext and hands the
resulting notebook to nbval's own collector.  A failing cell is reported as
``book/<part>/<chapter>.md::Cell N`` with the kernel's traceback.

A page that holds ``{code-cell}`` blocks but whose front matter lacks
``format_name: myst`` is a collection error: Jupyter Book would otherwise
render its code cells without running them.  Pages of prose only (no code
cells) are not collected.
"""

from __future__ import annotations

import types
from pathlib import Path

import jupytext
import nbval.plugin

BOOK_DIR = Path(__file__).parent / "book"

# tests/unit/test_chapter_plugin.py runs this plugin on a tiny chapter
pytest_plugins = ["pytester"]


class ChapterFormatError(Exception):
    """A chapter's jupytext header is missing or does not say MyST."""


def _check_header(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    head = text.split("\n---", 1)[0] if text.startswith("---") else ""
    if "jupytext:" not in head or "format_name: myst" not in head:
        raise ChapterFormatError(
            f"{path}: the front matter must carry a jupytext header with "
            "'format_name: myst' (and a kernelspec); without it Jupyter Book "
            "shows the code cells without running them. Copy the header of "
            "book/part1/latent_variables.md."
        )


class NbvalIncompatible(Exception):
    """The installed nbval no longer reads notebooks the way this plugin expects."""


def check_nbval_hook() -> None:
    """Fail loudly if nbval's notebook reader cannot be swapped.

    nbval has no hook for reading a notebook from another format: its
    collector calls the module-level ``nbformat.read`` of ``nbval.plugin``
    (true of nbval 0.9 to 0.11). This plugin swaps that name for
    ``jupytext.read`` while one chapter is collected. Should a later nbval
    read notebooks some other way, the swap would silently do nothing and
    nbval would try to parse Markdown as JSON; this check turns that into
    an error that names the cause and the fix.
    """
    collect = nbval.plugin.IPyNbFile.collect
    if not (hasattr(nbval.plugin, "nbformat")
            and "nbformat" in collect.__code__.co_names
            and hasattr(nbval.plugin.nbformat, "read")):
        raise NbvalIncompatible(
            "conftest.py executes MyST chapters by swapping nbval.plugin.nbformat "
            "(the reader nbval's IPyNbFile.collect calls), but the installed nbval "
            f"{getattr(nbval, '__version__', '?')} no longer reads notebooks through "
            "it. Pin the nbval of requirements.txt, or update MystChapter.collect "
            "for the new nbval."
        )


class MystChapter(nbval.plugin.IPyNbFile):
    """An nbval notebook collector that reads a jupytext MyST chapter."""

    def collect(self):
        _check_header(Path(self.fspath))
        check_nbval_hook()
        real = nbval.plugin.nbformat
        shim = types.SimpleNamespace(
            read=lambda path, as_version: jupytext.read(path, fmt="md:myst")
        )
        nbval.plugin.nbformat = shim
        try:
            items = list(super().collect())
        finally:
            nbval.plugin.nbformat = real
        return items


def pytest_collect_file(file_path: Path, parent):
    opt = parent.config.option
    if not (opt.nbval or opt.nbval_lax):
        return None
    if file_path.suffix != ".md" or BOOK_DIR not in file_path.parents:
        return None
    if "_build" in file_path.parts:
        return None
    if "{code-cell}" not in file_path.read_text(encoding="utf-8"):
        return None  # prose only: nothing to execute
    return MystChapter.from_parent(parent, path=file_path)
