"""Helpers for the pages of the book, not for models or geometry.

- :mod:`.checks` -- the assertions a chapter makes about its own numbers
  (``check_close``, ``check_less``, ``check_true``);
- :mod:`.plotting` -- the house figure style and small drawing helpers.

:mod:`.plotting` imports matplotlib, so it is loaded on first use only:
``import gmtheory.ot`` stays free of it.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .checks import check_close, check_less, check_true

#: public names of :mod:`.plotting`, loaded on first access
PLOTTING = ("draw_metric_ellipses", "new_figure", "show_images", "use_book_style")


def __getattr__(name: str) -> Any:
    if name in PLOTTING or name == "plotting":
        plotting = import_module(".plotting", __name__)
        return plotting if name == "plotting" else getattr(plotting, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
