"""Input validation shared by every public function of :mod:`gmtheory`.

Each helper raises a :class:`TypeError` or :class:`ValueError` whose message
names the argument, says what was expected, what was received and how to fix
it.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "as_float_tensor",
    "validate_points",
    "validate_finite",
    "validate_positive",
    "validate_positive_int",
    "validate_real",
    "validate_same_dtype",
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


def validate_finite(t: Tensor, name: str) -> Tensor:
    """Raise ``ValueError`` if ``t`` holds NaN or infinite entries."""
    if not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).sum())
        raise ValueError(
            f"{name} contains {bad} NaN or infinite entries; every entry must "
            "be finite."
        )
    return t


def validate_points(
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
    return validate_finite(t, name)


def validate_real(value: Any, name: str) -> float:
    """Return ``value`` as a ``float`` if it is a real number, else raise ``TypeError``.

    Python and NumPy numbers and zero-dimensional tensors or arrays are
    accepted;
    strings and booleans are not, although ``float()`` would convert them
    (``tol="1e-9"`` is a typo to report, not a number to guess).

    >>> validate_real(np.float32(0.5), "tol")
    0.5
    >>> validate_real("1e-9", "tol")
    Traceback (most recent call last):
    ...
    TypeError: tol must be a real number, got str '1e-9'; pass it without quotes.
    """
    if isinstance(value, (Tensor, np.ndarray)):
        is_real = (value.dtype != torch.bool and not value.is_complex()
                   if isinstance(value, Tensor)
                   else np.issubdtype(value.dtype, np.integer)
                   or np.issubdtype(value.dtype, np.floating))
        ok = value.ndim == 0 and bool(is_real)
    else:
        ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if not ok:
        hint = "; pass it without quotes" if isinstance(value, str) else ""
        raise TypeError(
            f"{name} must be a real number, got {type(value).__name__} "
            f"{value!r}{hint}."
        )
    return float(value)


def validate_same_dtype(t: Tensor, ref: Tensor, name: str, ref_name: str) -> Tensor:
    """Raise ``TypeError`` unless ``t`` has the dtype of ``ref``.

    Mixing float32 and float64 tensors fails deep inside torch with an
    error that names neither argument; this check names both and the fix.
    """
    if t.dtype != ref.dtype:
        cast = {torch.float64: ".double()", torch.float32: ".float()"}.get(
            ref.dtype, f".to({ref.dtype})")
        raise TypeError(
            f"{name} has dtype {t.dtype} but {ref_name} has dtype {ref.dtype}; "
            f"pass tensors of one dtype, e.g. {name}{cast}."
        )
    return t


def validate_positive(value: float, name: str, strict: bool = True) -> float:
    """Raise ``ValueError`` unless ``value`` is a finite (strictly) positive number.

    A value that is not a real number (a string, a boolean) raises
    ``TypeError`` (see :func:`validate_real`).
    """
    v = validate_real(value, name)
    ok = np.isfinite(v) and (v > 0 if strict else v >= 0)
    if not ok:
        rel = "> 0" if strict else ">= 0"
        raise ValueError(f"{name} must be finite and {rel}, got {value!r}.")
    return v


def validate_positive_int(value: Any, name: str, minimum: int = 1, *,
                       allow_bool: bool = True) -> int:
    """Raise ``ValueError`` unless ``value`` is an integer ``>= minimum``; return it as ``int``.

    Integral floats (``3.0``) are accepted; ``allow_bool=False`` also rejects
    ``True``/``False``, which would otherwise count as 1 and 0.

    >>> validate_positive_int(3.0, "steps")
    3
    >>> validate_positive_int(1, "n_samples", minimum=2)
    Traceback (most recent call last):
    ...
    ValueError: n_samples must be an integer >= 2, got 1.
    """
    if isinstance(value, (bool, np.bool_)):
        v = float(value) if allow_bool else math.nan
    else:
        v = validate_real(value, name)  # TypeError for strings, None, ...
    if not math.isfinite(v) or int(v) != v or v < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {what}, got {value!r}.")
    return int(v)
