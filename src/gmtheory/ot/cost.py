r"""The ground cost :math:`c(x, y) = \|x - y\|_2^p` between two point clouds.

:func:`cost_matrix` is the one place where the package forms a cost matrix:
the exact, entropic and semi-discrete solvers, the envelope gradients, the
critics and the comparison of generative models all call it, with NumPy
arrays or with torch tensors (whose autograd graph it keeps).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from .backend import is_torch
from .inputs import validate_cloud, validate_exponent

__all__ = ["cost_matrix"]


def _as_cloud_tensors(x: Any, y: Any) -> tuple[Tensor, Tensor]:
    """``x`` and ``y`` as 2-D floating tensors of one dtype and device.

    Tensors are the caller's own (so gradients flow); an array beside a
    tensor is converted to a tensor on that tensor's device.
    """
    ref = x if isinstance(x, Tensor) else y
    out = []
    for v in (x, y):
        t = v if isinstance(v, Tensor) else torch.as_tensor(
            np.array(v, dtype=np.float64), device=ref.device)
        if not torch.is_floating_point(t):
            t = t.to(torch.float64)
        out.append(t[:, None] if t.ndim == 1 else t)
    X, Y = out
    dtype = torch.promote_types(X.dtype, Y.dtype)
    return X.to(dtype), Y.to(dtype)


def cost_matrix(x: Any, y: Any, p: float = 2.0, *, check: bool = True) -> np.ndarray | Tensor:
    r"""Cost matrix :math:`C_{ij} = \|x_i - y_j\|_2^p` between two point clouds.

    .. math::

        C_{ij} = \Bigl(\sum_{k} (x_{ik} - y_{jk})^2\Bigr)^{p/2},

    with the squared distance formed from the differences (not from the
    expansion :math:`\|x\|^2 - 2\,x\cdot y + \|y\|^2`, which loses digits
    when the points are close).

    Parameters
    ----------
    x : array_like or Tensor, shape (n, k) or (n,)
        First cloud; a 1-D input is read as ``n`` points on the line.
    y : array_like or Tensor, shape (m, k) or (m,)
        Second cloud, in the same dimension ``k``.
    p : float, default 2
        Exponent :math:`p > 0` (``p = 1``: Euclidean distance, ``p = 2``:
        squared distance).
    check : bool, default True
        Validate the clouds and ``p``. Pass False only inside a loop whose
        inputs were validated once before it (a solver's iterations), to
        save the checks' cost (tens of microseconds per call).

    Returns
    -------
    ndarray or Tensor, shape (n, m)
        A float64 NumPy array for array input. If ``x`` or ``y`` is a tensor,
        a tensor in their common dtype, differentiable in both clouds; for
        ``p != 2`` the derivative at coincident points is taken as 0 (the
        one-sided derivative of :math:`\|x - y\|^p` for :math:`p > 1`, where
        :math:`\sqrt{\cdot}` alone would give NaN).

    Raises
    ------
    ValueError
        Empty or non-finite clouds, clouds of different dimensions, or ``p``
        not a finite number ``> 0``.
    TypeError
        Non-numeric input or a ``p`` that is not a real number.

    See Also
    --------
    c_transform, cbar_transform : the hard c-transforms of a potential.
    exact_ot, sinkhorn : solvers that take the cost matrix.

    Notes
    -----
    Array and tensor inputs go through the same formula, so the two agree
    bit for bit in low dimension (and to rounding of the sum otherwise).
    Derived in :ref:`ot-kantorovich`.

    Examples
    --------
    >>> cost_matrix([0.0, 1.0], [3.0], p=2)
    array([[9.],
           [4.]])
    >>> cost_matrix(torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0]]), p=1)
    tensor([[5.]])
    """
    if check:
        X, Y = validate_cloud(x, "x"), validate_cloud(y, "y")  # validated copies
        if X.shape[1] != Y.shape[1]:
            raise ValueError(
                f"x and y must be point clouds (n, k) and (m, k) with the same k, "
                f"got {X.shape} and {Y.shape}."
            )
        p = validate_exponent(p)
    xp: Any = np
    if is_torch(x, y):
        X, Y = _as_cloud_tensors(x, y)  # the caller's tensors: gradients flow
        xp = torch
    elif not check:
        X, Y = (np.asarray(v, dtype=np.float64) for v in (x, y))
        X, Y = (v[:, None] if v.ndim == 1 else v for v in (X, Y))
    diff = X[:, None, :] - Y[None, :, :]
    sq = (diff * diff).sum(-1)
    if p == 2:
        return sq
    # sqrt has an infinite derivative at 0: keep it away from coincident points
    pos = sq > 0
    return xp.where(pos, xp.sqrt(xp.where(pos, sq, 1.0)) ** p, 0.0)
