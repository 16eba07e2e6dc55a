"""Validation of the inputs of the optimal-transport solvers.

Every solver of :mod:`gmtheory.ot` accepts NumPy arrays or torch tensors and
checks them here, so that a bad weight vector or cost matrix is reported with
the same clear message everywhere. The validators work on detached float64
NumPy copies and return them (whatever the type they were given); the
solvers use those copies only to check, or to compute where no gradient is
needed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..validation import validate_real

__all__ = ["WEIGHT_TOL", "weight_tolerance", "to_numpy", "validate_weights", "validate_cost",
           "validate_cloud", "validate_exponent", "validate_potential"]

#: smallest accepted deviation of a weight vector's total mass from 1; the
#: tolerance grows with the length and the precision of the weights (see
#: :func:`weight_tolerance`)
WEIGHT_TOL = 1e-8


def _input_dtype(x: Any) -> np.dtype:
    """The floating dtype ``x`` was computed in (float64 for non-floats)."""
    dt = getattr(x, "dtype", None)
    if dt is not None and not isinstance(dt, np.dtype):  # a torch dtype
        dt = {"torch.float32": np.float32, "torch.float16": np.float16,
              "torch.bfloat16": np.float16}.get(str(dt), np.float64)
    dt = np.dtype(dt) if dt is not None else np.dtype(np.float64)
    return dt if np.issubdtype(dt, np.floating) else np.dtype(np.float64)


def weight_tolerance(n: int, dtype: Any = np.float64) -> float:
    r"""Accepted :math:`|\sum_i a_i - 1|` for ``n`` weights stored in ``dtype``.

    .. math:: \mathrm{tol} = \max\bigl(10^{-8},\; 2 n\, \epsilon_{\text{dtype}}\bigr),

    where :math:`\epsilon` is the machine epsilon: normalising ``n`` numbers
    in floating point (``x / x.sum()``, a softmax) leaves the sum off by at
    most about :math:`n\epsilon` (the worst case of recursive summation), so
    a float32 probability vector of length 64 may be off by :math:`10^{-5}`
    while a float64 one of length :math:`10^6` stays within :math:`10^{-8}`.

    >>> weight_tolerance(64, np.float64)
    1e-08
    >>> weight_tolerance(64, np.float32) > 1e-5
    True
    """
    eps = float(np.finfo(_input_dtype(np.empty(0, dtype))).eps)
    return max(WEIGHT_TOL, 2.0 * int(n) * eps)


def to_numpy(x: Any, name: str) -> np.ndarray:
    """A float64 NumPy copy of a real array or tensor (detached from autograd).

    Raises ``TypeError`` (naming ``name``) for non-numeric or complex input.
    """
    try:
        import torch

        if isinstance(x, torch.Tensor):
            x = x.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    arr = np.asarray(x)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}.")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(
            f"{name} must be real, got dtype {arr.dtype}; pass its real part "
            f"({name}.real) if the imaginary part is zero."
        )
    return arr.astype(np.float64)


def validate_weights(a: Any, name: str = "a", n: int | None = None,
                  tol: float | None = None) -> np.ndarray:
    r"""Validate a probability vector: 1-D, finite, non-negative, summing to 1.

    The total mass may differ from 1 by rounding: by at most ``tol``, which
    by default follows the length and the dtype of ``a``
    (:func:`weight_tolerance`), so float32 weights normalised in float32
    are accepted. The returned float64 copy is divided by its sum whenever
    that sum is not 1 to float64 rounding, so solvers receive weights of
    mass exactly 1 (to float64 precision) and two weight vectors always
    have equal masses.

    Parameters
    ----------
    a : array_like, shape (n,)
    name : str
        Argument name for error messages.
    n : int, optional
        Required length (e.g. the number of rows of the cost matrix).
    tol : float, optional
        Accepted :math:`|\sum_i a_i - 1|`; default
        ``weight_tolerance(len(a), a.dtype)``.

    Returns
    -------
    ndarray, shape (n,), float64
        The weights, renormalised to float64 precision.

    Raises
    ------
    ValueError
        With the offending value, e.g. how far the total mass is from 1.

    Examples
    --------
    >>> validate_weights([0.25, 0.75])
    array([0.25, 0.75])
    >>> validate_weights([0.5, 0.6])
    Traceback (most recent call last):
    ...
    ValueError: a must sum to 1 (a probability vector): its sum is 1.1, off by 0.1 > tol=1e-08; divide it by its sum.
    """
    dtype = _input_dtype(a)
    w = to_numpy(a, name)
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
    if tol is None:
        tol = weight_tolerance(w.shape[0], dtype)
    if abs(total - 1.0) > tol:
        raise ValueError(
            f"{name} must sum to 1 (a probability vector): its sum is "
            f"{total:.10g}, off by {abs(total - 1.0):.3g} > tol={tol:g}; divide "
            "it by its sum."
        )
    if abs(total - 1.0) > w.shape[0] * np.finfo(np.float64).eps:
        w = w / total
    return w


def validate_cost(C: Any, shape: tuple[int, int] | None = None, name: str = "C") -> np.ndarray:
    """Validate a finite 2-D cost matrix, optionally of a given shape."""
    M = to_numpy(C, name)
    if M.ndim != 2:
        raise ValueError(f"{name} must be a 2-D cost matrix, got shape {M.shape}.")
    if M.size == 0:
        raise ValueError(
            f"{name} is empty (shape {M.shape}): each side needs at least one "
            "point."
        )
    if shape is not None and M.shape != tuple(shape):
        raise ValueError(
            f"{name} has shape {M.shape} but the weights have lengths {tuple(shape)}."
        )
    if not np.isfinite(M).all():
        raise ValueError(f"{name} contains NaN or infinite costs; costs must be finite.")
    return M


def validate_potential(h: Any, name: str, n: int,
                    against: str = "the cost matrix") -> np.ndarray:
    """Validate a dual potential: a finite 1-D vector with ``n`` entries.

    Returns it as a float64 NumPy array; ``against`` names what fixes ``n``
    in the error message.
    """
    arr = to_numpy(h, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D potential vector, got shape {arr.shape}.")
    if arr.shape[0] != n:
        raise ValueError(
            f"{name} has {arr.shape[0]} entries but {against} expects {n} "
            "(one per point on that side)."
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return arr


def validate_exponent(p: Any, name: str = "p", minimum: float = 0.0,
                   inclusive: bool = False) -> float:
    r"""Validate the exponent of a cost :math:`\|x - y\|^p`; return it as float.

    Raises ``TypeError`` if ``p`` is not a real number and ``ValueError``
    unless it is finite and ``> minimum`` (``>= minimum`` if ``inclusive``).

    >>> validate_exponent(2)
    2.0
    >>> validate_exponent(0)
    Traceback (most recent call last):
    ...
    ValueError: p must be a finite number > 0, got 0.
    """
    v = validate_real(p, name)
    if not (np.isfinite(v) and (v >= minimum if inclusive else v > minimum)):
        rel = ">=" if inclusive else ">"
        raise ValueError(f"{name} must be a finite number {rel} {minimum:g}, got {p!r}.")
    return v


def validate_cloud(x: Any, name: str) -> np.ndarray:
    """Validate a non-empty finite point cloud; return it as float64 ``(n, k)``.

    A 1-D array is read as ``n`` points on the line, shape ``(n, 1)``.
    """
    X = to_numpy(x, name)
    X = X[:, None] if X.ndim == 1 else X
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be a point cloud of shape (n, k) or (n,), got shape "
            f"{X.shape}."
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape}); it needs at least one point.")
    if not np.isfinite(X).all():
        bad = int((~np.isfinite(X)).any(axis=1).sum())
        raise ValueError(
            f"{name} contains NaN or infinite coordinates ({bad} of "
            f"{X.shape[0]} points); every point must be finite."
        )
    return X
