"""Sphinx extension: drop repeated inline scripts from a page's ``<head>``.

sphinx-thebe (loaded by Jupyter Book even with Thebe off) and
sphinx-togglebutton register inline scripts that reach every page twice,
once with filename ``None`` and once with ``""`` (so Sphinx does not see the
repeat).  The page then declares ``const THEBE_JS_URL`` twice and the browser
logs a ``SyntaxError`` on every page (the browser test fails on it).  Sphinx
already de-duplicates script files by name; this does the same for identical inline scripts.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def dedupe_inline_scripts(app: Sphinx, pagename: str, templatename: str,
                          context: dict[str, Any], doctree: Any) -> None:
    """Keep the first of identical ``<script>`` entries of the page."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        attrs = getattr(script, "attributes", {}) or {}
        # an inline script's filename is None or "" depending on who added it
        name = str(getattr(script, "filename", script) or "")
        key = (name, tuple(sorted((k, str(v)) for k, v in attrs.items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    scripts[:] = kept


def setup(app: Sphinx) -> dict[str, Any]:
    # last: other handlers (priority 500/501) add the page's scripts first
    app.connect("html-page-context", dedupe_inline_scripts, priority=999)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
