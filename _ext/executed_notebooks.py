"""Sphinx extension: offer each chapter's executed notebook for download.

The build executes every chapter (a jupytext MyST Markdown file), and myst-nb
writes a notebook per chapter to ``_build/jupyter_execute/<page>.ipynb``.  sphinx-book-theme adds an
``.ipynb`` entry to a page's download menu when the page context carries
``ipynb_source`` -- but it only sets that itself when a Binder/Colab launch
button is configured, and this book launches nothing from the network.

This extension writes the executed notebook beside the page's sources
(``_build/html/_sources/<page>.ipynb``) and sets ``ipynb_source``, so every
chapter page offers both its ``.md`` source and the ``.ipynb`` with the
outputs of the very execution the page shows.  Pages of prose only have no
executed notebook and keep the ``.md`` entry alone.

Where the notebook comes from: myst-nb 1.4's ``jupyter_execute`` copy is not
fit to ship as it is.  When a chapter comes from the execution cache it has
*no* outputs (myst-nb writes the notebook it read, not the cached one), and
with ``nb_merge_streams`` a freshly executed one shows printed lines twice
(the chunks are merged into the first in place, and the later ones kept).
So with ``execute_notebooks: cache`` (this book's setting) the notebook is
taken from the execution cache, which holds every run as the kernel produced
it; otherwise the ``jupyter_execute`` copy is used, without the leftovers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from jupyter_cache import get_cache
from sphinx.application import Sphinx

#: myst-nb's folder (beside the HTML output) for executed notebooks.
EXECUTED_FOLDER = "jupyter_execute"


def offer_executed_notebook(app: Sphinx, pagename: str, templatename: str,
                            context: dict[str, Any], doctree: Any) -> None:
    """Copy ``<page>.ipynb`` into ``_sources`` and point the menu at it."""
    if doctree is None or not pagename:
        return  # a page made from a template alone (search, genindex)
    if Path(app.env.doc2path(pagename)).suffix != ".md":
        return
    executed = Path(app.outdir).parent / EXECUTED_FOLDER / f"{pagename}.ipynb"
    if not executed.is_file():
        return  # prose only: nothing was executed
    notebook = nbformat.read(executed, as_version=4)
    config = app.env.mystnb_config
    try:
        if config.execution_mode != "cache":
            raise KeyError(config.execution_mode)
        _, notebook = get_cache(config.execution_cache_path).merge_match_into_notebook(
            notebook)
    except KeyError:  # not executed through the cache
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs = drop_merged_stream_leftovers(cell.outputs)
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def drop_merged_stream_leftovers(outputs: list) -> list:
    """Remove stream chunks already merged into the cell's first stream.

    >>> from nbformat.v4 import new_output as out
    >>> merged = [out("stream", name="stdout", text="a\\nb\\n"),
    ...           out("stream", name="stdout", text="b")]
    >>> [o.text for o in drop_merged_stream_leftovers(merged)]
    ['a\\nb\\n']
    >>> unmerged = [out("stream", name="stdout", text="a\\n"),
    ...             out("stream", name="stdout", text="b\\n")]
    >>> len(drop_merged_stream_leftovers(unmerged))
    2
    """
    first: dict[str, Any] = {}
    later: dict[str, list] = {}
    for o in outputs:
        if o.get("output_type") == "stream":
            if o["name"] in first:
                later[o["name"]].append(o)
            else:
                first[o["name"]], later[o["name"]] = o, []
    drop = set()
    for name, rest in later.items():
        tail = "".join(o["text"].rstrip() + "\n" for o in rest if o["text"].rstrip())
        if rest and first[name]["text"].endswith(tail):
            drop.update(id(o) for o in rest)
    return [o for o in outputs if id(o) not in drop]


def setup(app: Sphinx) -> dict[str, Any]:
    # sphinx-book-theme builds the download menu at priority 501.
    app.connect("html-page-context", offer_executed_notebook, priority=500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
