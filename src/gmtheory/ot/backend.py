"""Array types of the OT solvers: move inputs to torch and results back.

The solvers of :mod:`gmtheory.ot` that need automatic differentiation or a
fast log-sum-exp work in torch, the linear-programming ones in NumPy; all
accept both and return the type they were given (the rule stated in
:mod:`gmtheory.ot`), with the conversions made here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from .inputs import validate_cost, validate_weights

__all__ = ["checked_problem", "is_torch", "to_output", "to_tensor", "uniform"]


def is_torch(*xs: Any) -> bool:
    """True if any argument is a torch tensor (results are then tensors)."""
    return any(isinstance(x, Tensor) for x in xs)


def to_tensor(x: Any) -> Tensor:
    """``x`` as a float64 tensor; tensors keep their autograd graph."""
    if isinstance(x, Tensor):
        return x if x.dtype == torch.float64 else x.to(torch.float64)
    return torch.as_tensor(np.array(x, dtype=np.float64))  # copy: no aliasing


def to_output(x: Tensor | np.ndarray, as_torch: bool) -> Any:
    """A result in the caller's array type.

    A tensor is returned unchanged in torch mode, else as a detached NumPy
    array (a 0-d one as a float); a NumPy array is returned unchanged in NumPy
    mode, else as a tensor of its dtype (float64 results, int64 indices).
    """
    if isinstance(x, np.ndarray):
        return torch.as_tensor(x) if as_torch else x
    if as_torch:
        return x
    arr = x.detach().cpu().numpy()
    return float(arr) if arr.ndim == 0 else arr


def uniform(n: int) -> np.ndarray:
    """Uniform probability vector of length ``n``."""
    return np.full(n, 1.0 / n)


def checked_problem(a: Any, b: Any, C: Any) -> tuple[Tensor, Tensor, Tensor]:
    """Validate ``(a, b, C)`` with :mod:`.inputs` and return float64 tensors.

    The validation runs on detached copies; the returned tensors are the
    caller's own (so gradients flow) whenever the caller passed tensors.
    """
    Cn = validate_cost(C, None, "C")
    n, m = Cn.shape
    return _mass_one(a, "a", n), _mass_one(b, "b", m), to_tensor(C)


def _mass_one(w: Any, name: str, n: int) -> Tensor:
    """Validated weights as float64, divided by their sum if it is not 1.

    Weights within rounding of mass 1 but computed in float32 (or off by up to
    the tolerance of :func:`validate_weights`) would make the two marginals of
    a transport problem disagree in mass, and no plan could match both.
    """
    validate_weights(w, name, n)
    t = to_tensor(w)
    if abs(float(t.detach().sum()) - 1.0) > n * np.finfo(np.float64).eps:
        return t / t.sum()
    return t
