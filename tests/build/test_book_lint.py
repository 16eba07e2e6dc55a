"""Source lint of the book: defects a reader finds, caught without a build.

These tests parse the chapter sources (jupytext MyST Markdown) and the errata
page as text; they execute nothing and run in well under a second.

* Every figure a chapter names (``mystnb: figure: name: fig-...``) is
  referred to by ``{numref}`` somewhere in the book: a figure the text never
  points at is a figure nobody explains.
* Every *check cell* (a code cell outside an exercise solution that calls
  ``gm.check_*``) carries the tags ``[hide-input, check]``, and every cell
  tagged ``check`` calls ``gm.check_*``: one convention everywhere, so a
  reader (and a script) can tell a check from a computation.
* Every numbered display equation of the source post, S1 ... S33, is
  accounted for on the errata page, either as a departure or in the table of
  equations that are correct as written.
* A bare ``{ref}`` to a heading with maths in it is refused: link text is
  not typeset, so the reader would see raw TeX.

The strict HTML build (``tests/build/test_book_build.py``) checks the rest:
that every reference and errata link resolves and every cell runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
CHAPTERS = sorted(
    p for p in BOOK.glob("part*/*.md") if "{code-cell}" in p.read_text("utf-8")
)
N_SOURCE_EQUATIONS = 33
CHECK_TAGS = {"hide-input", "check"}

_FENCE = re.compile(r"^(`{3,})(.*)$")
_CHECK_CALL = re.compile(r"\bgm\.check_(close|less|true)\s*\(")
_FIG_NAME = re.compile(r"^\s*name:\s*(fig-[\w-]+)\s*$", re.MULTILINE)
_NUMREF = re.compile(r"\{numref\}`(?:[^`<]*<)?(fig-[\w-]+)>?`")


def _code_cells(text: str) -> list[dict]:
    """Code cells of a MyST chapter: source, tags, line, in a solution."""
    cells, lines = [], text.splitlines()
    in_solution, i = False, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```{solution-start}"):
            in_solution = True
        elif line.startswith("```{solution-end}"):
            in_solution = False
        match = _FENCE.match(line)
        if match and match.group(2).strip().startswith("{code-cell}"):
            fence, start, body = match.group(1), i + 1, []
            i += 1
            while i < len(lines) and lines[i].rstrip() != fence:
                body.append(lines[i])
                i += 1
            tags: set[str] = set()
            for b in body:
                tag_line = re.match(r"^:tags:\s*\[(.*)\]\s*$", b)
                if tag_line:
                    tags = {t.strip() for t in tag_line.group(1).split(",")}
            if body and body[0].strip() == "---":  # YAML metadata block
                end = body.index("---", 1)
                meta = "\n".join(body[1:end])
                yaml_tags = re.search(r"^tags:\s*\[(.*)\]\s*$", meta, re.MULTILINE)
                if yaml_tags:
                    tags = {t.strip() for t in yaml_tags.group(1).split(",")}
            cells.append({"source": "\n".join(body), "tags": tags, "line": start,
                              "in_solution": in_solution})
        i += 1
    return cells


def _book_text() -> str:
    return "\n".join(p.read_text("utf-8") for p in BOOK.rglob("*.md"))


def test_chapters_found():
    names = {p.stem for p in CHAPTERS}
    assert {"latent_variables", "duality"} <= names, names


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_figure_is_referenced(chapter: Path):
    text = chapter.read_text("utf-8")
    referenced = set(_NUMREF.findall(_book_text()))
    unreferenced = [n for n in _FIG_NAME.findall(text) if n not in referenced]
    assert not unreferenced, (
        f"{chapter.relative_to(ROOT)}: figures never referred to with "
        f"{{numref}}: {unreferenced}. Point the text at each figure."
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_check_cells_carry_the_check_tags(chapter: Path):
    bad = []
    for cell in _code_cells(chapter.read_text("utf-8")):
        calls = bool(_CHECK_CALL.search(cell["source"]))
        if calls and not cell["in_solution"] and not CHECK_TAGS <= cell["tags"]:
            bad.append(f"line {cell['line']}: calls gm.check_* but is tagged "
                       f"{sorted(cell['tags'])}")
        if "check" in cell["tags"] and not calls:
            bad.append(f"line {cell['line']}: tagged 'check' but calls no "
                       "gm.check_*")
    assert not bad, (
        f"{chapter.relative_to(ROOT)}: a check cell is tagged "
        "`:tags: [hide-input, check]` and asserts with gm.check_*:\n  "
        + "\n  ".join(bad)
    )


def _errata_numbers() -> dict[str, set[int]]:
    """S-numbers in the first column of the errata tables, by section."""
    found: dict[str, set[int]] = {}
    section = ""
    for line in (BOOK / "errata.md").read_text("utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        if line.startswith("|"):
            first = line.strip("|").split("|")[0]
            for n in re.findall(r"\bS(\d+)\b", first):
                found.setdefault(section, set()).add(int(n))
    return found


def test_every_source_equation_is_accounted_for():
    found = _errata_numbers()
    correct = {s for k, v in found.items() if "correct as written" in k.lower()
               for s in v}
    assert correct, "the errata page needs a '## Correct as written' table"
    departures = {s for k, v in found.items()
                  if "correct as written" not in k.lower() for s in v}
    everything = set(range(1, N_SOURCE_EQUATIONS + 1))
    missing = sorted(everything - correct - departures)
    assert not missing, (
        "book/errata.md: source equations " + ", ".join(f"S{n}" for n in missing)
        + " are neither a departure row nor in the 'Correct as written' table"
    )
    stray = sorted((correct | departures) - everything)
    assert not stray, f"book/errata.md: no such source equations: {stray}"


_LABELLED_HEADING = re.compile(r"^\(([\w-]+)\)=\n#+ (.*)$", re.MULTILINE)
_BARE_REF = re.compile(r"\{ref\}`([\w-]+)`")


def test_refs_to_headings_with_maths_carry_their_own_text():
    # a bare {ref} copies the heading's text into the link, where the maths
    # is not typeset: the reader sees raw TeX such as "E \lambda"
    mathy = {}
    for page in BOOK.rglob("*.md"):
        for label, title in _LABELLED_HEADING.findall(page.read_text("utf-8")):
            if "$" in title:
                mathy[label] = title
    bad = [f"{page.relative_to(ROOT)}: {{ref}}`{label}` (heading {mathy[label]!r})"
           for page in BOOK.rglob("*.md")
           for label in _BARE_REF.findall(page.read_text("utf-8"))
           if label in mathy]
    assert not bad, (
        "write these references with explicit text, {ref}`plain words <label>`,"
        " since link text is not typeset:\n  " + "\n  ".join(bad))


_PRIVATE_NAME = re.compile(r"\b(?:gmtheory|gm)(?:\.\w+)*\._\w+")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_code_cells_use_public_names(chapter: Path):
    # a chapter shows readers how to use the package: private modules and
    # functions (a leading underscore) may change without notice
    bad = [f"line {cell['line']}: {name}"
           for cell in _code_cells(chapter.read_text("utf-8"))
           for name in _PRIVATE_NAME.findall(cell["source"])]
    assert not bad, (f"{chapter.relative_to(ROOT)} uses private names; "
                     "re-export them publicly:\n  " + "\n  ".join(bad))
