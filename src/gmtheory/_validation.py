"""Input validation shared by every public function of :mod:`gmtheory`.

Each helper raises a :class:`TypeError` or :class:`ValueError` whose message
names the argument, says what was expected, what was received and how to fix
it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "as_float_tensor",
    "check_points",
    "check_finite",
    "check_positive",
    "check_positive_int",
]


def as_float_tensor(x: Any, name: str, dtype: torch.dtype | None = None) -> Tensor:
    """Return ``x`` as a floating-point tensor, or raise a clear error.

    NumPy arrays and nested lists are converted; integer and boolean inputs
    are rejected rather than silently cast, because a latent code given as
    integers is almost always a mistake.
    """
    if isinstance(x, Tensor):
        t = x
    elif isinstance(x, (np.ndarray, list, tuple, float, int)):
        t = torch.as_tensor(np.asarray(x))
    else:
        raise TypeError(
            f"{name} must be a torch.Tensor or a NumPy array, got "
            f"{type(x).__name__}."
        )
    if not torch.is_floating_point(t):
        raise TypeError(
            f"{name} must have a floating dtype (float32 or float64), got "
            f"{t.dtype}; convert it with .double() or np.asarray(..., float)."
        )
    if dtype is not None:
        t = t.to(dtype)
    return t


def check_finite(t: Tensor, name: str) -> Tensor:
    """Raise ``ValueError`` if ``t`` holds NaN or infinite entries."""
    if not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).sum())
        raise ValueError(
            f"{name} contains {bad} NaN or infinite entries; every entry must "
            "be finite."
        )
    return t


def check_points(
    z: Any,
    name: str = "z",
    dim: int | None = None,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """Validate a batch of points of shape ``(n, d)``.

    Parameters
    ----------
    z : Tensor or ndarray, shape (n, d)
        The points.
    name : str
        Argument name used in error messages.
    dim : int, optional
        Required ``d``.
    dtype : torch.dtype, optional
        Convert to this dtype after validation.
    """
    t = as_float_tensor(z, name, dtype)
    if t.ndim != 2:
        hint = " (use z[None] for a single point)" if t.ndim == 1 else ""
        raise ValueError(
            f"{name} must have shape (n, d), got shape {tuple(t.shape)}{hint}."
        )
    if t.shape[0] == 0:
        raise ValueError(f"{name} is empty: shape {tuple(t.shape)}; need n >= 1.")
    if dim is not None and t.shape[1] != dim:
        raise ValueError(
            f"{name} must have shape (n, {dim}), got shape {tuple(t.shape)}."
        )
    return check_finite(t, name)


def check_positive(value: float, name: str, strict: bool = True) -> float:
    """Raise ``ValueError`` unless ``value`` is a finite (strictly) positive number."""
    v = float(value)
    ok = np.isfinite(v) and (v > 0 if strict else v >= 0)
    if not ok:
        rel = "> 0" if strict else ">= 0"
        raise ValueError(f"{name} must be finite and {rel}, got {value!r}.")
    return v


def check_positive_int(value: Any, name: str, minimum: int = 1, *,
                       allow_bool: bool = True) -> int:
    """Raise ``ValueError`` unless ``value`` is an integer ``>= minimum``; return it as ``int``.

    Integral floats (``3.0``) are accepted; ``allow_bool=False`` also rejects
    ``True``/``False``, which would otherwise count as 1 and 0.

    >>> check_positive_int(3.0, "steps")
    3
    >>> check_positive_int(1, "n_samples", minimum=2)
    Traceback (most recent call last):
    ...
    ValueError: n_samples must be an integer >= 2, got 1.
    """
    if ((not allow_bool and isinstance(value, bool))
            or int(value) != value or value < minimum):
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {what}, got {value!r}.")
    return int(value)
