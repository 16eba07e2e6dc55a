"""Data the book uses: scikit-learn's bundled handwritten digits (offline).

``sklearn.datasets.load_digits`` ships inside scikit-learn (1,797 images of
8 x 8 pixels with 17 grey levels), so nothing is ever downloaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

__all__ = ["Digits", "load_digits_data"]


@dataclass(frozen=True)
class Digits:
    """Digit images flattened to vectors, with their labels.

    Attributes
    ----------
    images : Tensor, shape (n, 64)
        Pixel intensities scaled to ``[0, 1]``.
    labels : Tensor, shape (n,)
        The digit each image shows.
    side : int
        Image side length (8).
    """

    images: Tensor
    labels: Tensor
    side: int = 8

    def __len__(self) -> int:
        return int(self.images.shape[0])


def load_digits_data(
    digits: Sequence[int] | None = None, dtype: torch.dtype = torch.float64
) -> Digits:
    """Load scikit-learn's bundled 8 x 8 digits, optionally only some classes.

    Parameters
    ----------
    digits : sequence of int, optional
        Keep only these classes (e.g. ``(0, 1)``); all ten by default.
    dtype : torch.dtype
        Floating dtype of the images.

    Returns
    -------
    Digits

    Raises
    ------
    ValueError
        If a requested class is not in 0..9.

    Examples
    --------
    >>> d = load_digits_data((0, 1))
    >>> tuple(d.images.shape), sorted(set(d.labels.tolist()))
    ((360, 64), [0, 1])
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    if digits is not None:
        wanted = sorted({int(k) for k in digits})
        if not wanted or any(k < 0 or k > 9 for k in wanted):
            raise ValueError(f"digits must be classes in 0..9, got {list(digits)!r}.")
        keep = np.isin(y, wanted)
        X, y = X[keep], y[keep]
    return Digits(torch.as_tensor(X, dtype=dtype), torch.as_tensor(y))
