"""Sphinx extension: ship only the MathJax files the book uses.

sphinx-mathjax-offline copies the whole MathJax 3 distribution (24 MB: every
input format, both outputs, the speech maps of 13 languages) into
``_static/mathjax`` when the build finishes.  The pages load one combined
component, ``tex-chtml.js`` (TeX input, CommonHTML output, the menu and the
assistive MathML), which fetches on demand only:

- the CommonHTML fonts, ``output/chtml/fonts/woff-v2/``;
- TeX extensions that a formula's macros autoload, ``input/tex/extensions/``;
- what the menu's accessibility options load: ``a11y/`` and the speech-rule
  engine's English and Nemeth-braille maps in ``sre/mathmaps/``.

This extension runs after the copy and deletes every other file, so the site
stays usable offline (the browser test fails on any request that 404s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Paths (relative to ``_static/mathjax``) kept besides the loaded component;
#: a trailing slash keeps a whole folder.
KEEP = (
    "output/chtml/fonts/woff-v2/",
    "input/tex/extensions/",
    "a11y/",
    "sre/mathmaps/base.json",
    "sre/mathmaps/en.json",
    "sre/mathmaps/nemeth.json",
)


def _kept(relative: str, component: str) -> bool:
    return relative == component or any(
        relative.startswith(k) if k.endswith("/") else relative == k
        for k in KEEP)


def slim_mathjax(app: Sphinx, exc: Exception | None) -> None:
    """Delete the MathJax files under ``_static/mathjax`` the book never loads."""
    if exc is not None or app.builder.format != "html":
        return
    root = Path(app.outdir) / "_static" / "mathjax"
    component = Path(app.config.mathjax_path).name  # e.g. tex-chtml.js
    if not (root / component).is_file():
        return  # MathJax is not served from the book: nothing to slim
    before = after = 0
    for path in sorted(root.rglob("*"), reverse=True):  # files before dirs
        if path.is_dir():
            if not any(path.iterdir()):
                path.rmdir()
            continue
        size = path.stat().st_size
        before += size
        if _kept(path.relative_to(root).as_posix(), component):
            after += size
        else:
            path.unlink()
    logger.info("slim_mathjax: kept %.1f MB of MathJax's %.1f MB",
                after / 2**20, before / 2**20)


def setup(app: Sphinx) -> dict[str, Any]:
    # after sphinx-mathjax-offline's copy (default priority 500)
    app.connect("build-finished", slim_mathjax, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
