"""Private helpers: move OT inputs to torch and back, torch cost matrices.

The solvers of :mod:`gmtheory.ot` that need automatic differentiation or a
fast log-sum-exp work in torch; they accept NumPy arrays too and hand NumPy
results back, so a caller never has to convert by hand.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ._inputs import check_cost, check_exponent, check_weights

__all__ = ["is_torch", "to_tensor", "to_output", "torch_cost", "uniform"]


def is_torch(*xs: Any) -> bool:
    """True if any argument is a torch tensor (results are then tensors)."""
    return any(isinstance(x, Tensor) for x in xs)


def to_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """``x`` as a float64 tensor; tensors keep their autograd graph."""
    if isinstance(x, Tensor):
        return x if x.dtype == torch.float64 else x.to(torch.float64)
    return torch.as_tensor(np.array(x, dtype=np.float64))  # copy: no aliasing


def to_output(x: Tensor, as_torch: bool) -> Any:
    """Return ``x`` unchanged (torch mode) or as a detached NumPy array/float."""
    if as_torch:
        return x
    arr = x.detach().cpu().numpy()
    return float(arr) if arr.ndim == 0 else arr


def uniform(n: int) -> np.ndarray:
    """Uniform probability vector of length ``n``."""
    return np.full(n, 1.0 / n)


def checked_problem(a: Any, b: Any, C: Any) -> tuple[Tensor, Tensor, Tensor]:
    """Validate ``(a, b, C)`` with :mod:`._inputs` and return float64 tensors.

    The validation runs on detached copies; the returned tensors are the
    caller's own (so gradients flow) whenever the caller passed tensors.
    """
    Cn = check_cost(C, None, "C")
    n, m = Cn.shape
    return _mass_one(a, "a", n), _mass_one(b, "b", m), to_tensor(C)


def _mass_one(w: Any, name: str, n: int) -> Tensor:
    """Validated weights as float64, divided by their sum if it is not 1.

    Weights within rounding of mass 1 but computed in float32 (or off by up to
    the tolerance of :func:`check_weights`) would make the two marginals of
    a transport problem disagree in mass, and no plan could match both.
    """
    check_weights(w, name, n)
    t = to_tensor(w)
    if abs(float(t.detach().sum()) - 1.0) > n * np.finfo(np.float64).eps:
        return t / t.sum()
    return t


def torch_cost(x: Tensor, y: Tensor, p: float = 2.0) -> Tensor:
    r"""Differentiable cost matrix :math:`C_{ij} = \|x_i - y_j\|_2^p`.

    Same values as :func:`gmtheory.ot.cost_matrix`, but in torch so that
    gradients reach ``x`` and ``y``.  For ``p = 2`` the squared distance is
    formed from differences (not from the expansion
    :math:`\|x\|^2 - 2x\cdot y + \|y\|^2`, which loses digits).
    Raises ``ValueError`` unless ``p`` is a finite number ``> 0``.
    """
    p = check_exponent(p)
    diff = x[:, None, :] - y[None, :, :]
    sq = (diff * diff).sum(-1)
    if p == 2:
        return sq
    # sqrt has an infinite derivative at 0: guard the diagonal of C(x, x)
    safe = torch.where(sq > 0, sq, torch.ones_like(sq))
    return torch.where(sq > 0, safe.sqrt() ** p, torch.zeros_like(sq))
