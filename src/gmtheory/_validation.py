"""Transitional alias of :mod:`gmtheory.validation` (the public module).

Modules not yet moved to the public name import it from here; new code
imports :mod:`gmtheory.validation`.
"""

from .validation import (
    as_float_tensor,
    check_finite,
    check_points,
    check_positive,
    check_positive_int,
    check_real,
    check_same_dtype,
)

__all__ = [
    "as_float_tensor",
    "check_finite",
    "check_points",
    "check_positive",
    "check_positive_int",
    "check_real",
    "check_same_dtype",
]
