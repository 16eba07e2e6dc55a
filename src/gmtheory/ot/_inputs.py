"""Validation of the inputs of the optimal-transport solvers.

Every solver of :mod:`gmtheory.ot` accepts NumPy arrays or torch tensors and
checks them here, so that a bad weight vector or cost matrix is reported with
the same clear message everywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["WEIGHT_TOL", "check_weights", "check_cost", "cost_matrix"]

#: largest accepted deviation of a weight vector's total mass from 1
WEIGHT_TOL = 1e-8


def _to_numpy(x: Any, name: str) -> np.ndarray:
    try:
        import torch

        if isinstance(x, torch.Tensor):
            x = x.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    arr = np.asarray(x)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}.")
    return arr.astype(np.float64)


def check_weights(a: Any, name: str = "a", n: int | None = None,
                  tol: float = WEIGHT_TOL) -> np.ndarray:
    r"""Validate a probability vector: 1-D, finite, non-negative, summing to 1.

    Parameters
    ----------
    a : array_like, shape (n,)
    name : str
        Argument name for error messages.
    n : int, optional
        Required length (e.g. the number of rows of the cost matrix).
    tol : float
        Accepted :math:`|\sum_i a_i - 1|`.

    Returns
    -------
    ndarray, shape (n,), float64

    Raises
    ------
    ValueError
        With the offending value, e.g. how far the total mass is from 1.

    Examples
    --------
    >>> check_weights([0.25, 0.75])
    array([0.25, 0.75])
    >>> check_weights([0.5, 0.6])
    Traceback (most recent call last):
    ...
    ValueError: a must sum to 1 (a probability vector): its sum is 1.1, off by 0.1 > tol=1e-08; divide it by its sum.
    """
    w = _to_numpy(a, name)
    if w.ndim != 1:
        raise ValueError(f"{name} must be a 1-D weight vector, got shape {w.shape}.")
    if n is not None and w.shape[0] != n:
        raise ValueError(
            f"{name} has {w.shape[0]} weights but the cost matrix expects {n}."
        )
    if w.shape[0] == 0:
        raise ValueError(f"{name} is empty.")
    if not np.isfinite(w).all():
        raise ValueError(f"{name} contains NaN or infinite weights.")
    if (w < 0).any():
        raise ValueError(
            f"{name} must be non-negative; its smallest entry is {w.min():.3g}."
        )
    total = w.sum()
    if abs(total - 1.0) > tol:
        raise ValueError(
            f"{name} must sum to 1 (a probability vector): its sum is "
            f"{total:.10g}, off by {abs(total - 1.0):.3g} > tol={tol:g}; divide "
            "it by its sum."
        )
    return w


def check_cost(C: Any, shape: tuple[int, int] | None = None, name: str = "C") -> np.ndarray:
    """Validate a finite 2-D cost matrix, optionally of a given shape."""
    M = _to_numpy(C, name)
    if M.ndim != 2:
        raise ValueError(f"{name} must be a 2-D cost matrix, got shape {M.shape}.")
    if shape is not None and M.shape != tuple(shape):
        raise ValueError(
            f"{name} has shape {M.shape} but the weights have lengths {tuple(shape)}."
        )
    if not np.isfinite(M).all():
        raise ValueError(f"{name} contains NaN or infinite costs; costs must be finite.")
    return M


def cost_matrix(x: Any, y: Any, p: float = 2.0) -> np.ndarray:
    r"""Cost matrix :math:`C_{ij} = \|x_i - y_j\|_2^p` between two point clouds.

    Parameters
    ----------
    x : array_like, shape (n, k) or (n,)
    y : array_like, shape (m, k) or (m,)
    p : float
        Exponent (``p = 1``: Euclidean distance, ``p = 2``: squared).

    Returns
    -------
    ndarray, shape (n, m)

    Examples
    --------
    >>> cost_matrix([0.0, 1.0], [3.0], p=2)
    array([[9.],
           [4.]])
    """
    X, Y = _to_numpy(x, "x"), _to_numpy(y, "y")
    X = X[:, None] if X.ndim == 1 else X
    Y = Y[:, None] if Y.ndim == 1 else Y
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"x and y must be point clouds (n, k) and (m, k) with the same k, got "
            f"{X.shape} and {Y.shape}."
        )
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise ValueError("x and y must be finite.")
    if p <= 0:
        raise ValueError(f"p must be > 0, got {p}.")
    sq = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    return sq if p == 2 else np.sqrt(sq) ** p
