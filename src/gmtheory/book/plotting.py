"""Plotting helpers that give every figure of the book one look.

Figures have a white face colour so that they read in the dark theme too.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Ellipse

__all__ = ["use_book_style", "new_figure", "show_images", "draw_metric_ellipses"]

BOOK_RC = {
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.facecolor": "white",
    "figure.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.cmap": "viridis",
}


def use_book_style() -> None:
    """Apply the book's matplotlib settings (white background, sizes)."""
    mpl.rcParams.update(BOOK_RC)


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 6.4, height: float = 3.6, **kw):
    """``plt.subplots`` with the book's style and a white face colour."""
    use_book_style()
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height),
                             facecolor="white", **kw)
    return fig, axes


def show_images(ax, images, nrow: int, ncol: int, side: int = 8, pad: int = 1) -> None:
    """Draw a mosaic of square grey images (rows of ``images``) on ``ax``."""
    imgs = np.asarray(images, dtype=float).reshape(-1, side, side)
    if imgs.shape[0] != nrow * ncol:
        raise ValueError(f"need {nrow * ncol} images for a {nrow}x{ncol} mosaic, "
                         f"got {imgs.shape[0]}.")
    H = nrow * side + (nrow + 1) * pad
    W = ncol * side + (ncol + 1) * pad
    canvas = np.ones((H, W))
    for k, im in enumerate(imgs):
        r, c = divmod(k, ncol)
        y, x = pad + r * (side + pad), pad + c * (side + pad)
        canvas[y:y + side, x:x + side] = 1.0 - im  # dark ink on white paper
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def draw_metric_ellipses(ax, centres, metrics, radius: float, **kw) -> None:
    r"""Draw the sets :math:`\{z + v : v^\top M v = r^2\}` (Tissot indicatrices).

    Parameters
    ----------
    centres : array, shape (n, 2)
    metrics : array, shape (n, 2, 2)
    radius : float
        Riemannian radius ``r``.  A direction with large metric gives a short
        axis: the ellipse is the latent set that maps to a circle of radius
        ``r`` on the manifold (to first order).
    """
    centres = np.asarray(centres, dtype=float)
    metrics = np.asarray(metrics, dtype=float)
    style = {"fill": False, "lw": 0.8, "color": "C3"} | kw
    for c, M in zip(centres, metrics):
        w, V = np.linalg.eigh(M)
        w = np.maximum(w, 1e-12)
        axes_len = 2 * radius / np.sqrt(w)
        angle = np.degrees(np.arctan2(V[1, 0], V[0, 0]))
        ax.add_patch(Ellipse(c, axes_len[0], axes_len[1], angle=angle, **style))
