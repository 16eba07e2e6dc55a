r"""The c-transform of a discrete potential, and the dual constraint.

For a cost matrix :math:`C_{ij} = c(x_i, y_j)` and a potential :math:`h` on
the points :math:`x_i`, the c-transform is the best partner potential on the
points :math:`y_j`,

.. math:: h^c(y_j) = \min_i\,[C_{ij} - h_i],

and the transform on the other side maps a potential :math:`\tilde h` on the
:math:`y_j` to one on the :math:`x_i`,

.. math:: \tilde h^{\bar c}(x_i) = \min_j\,[C_{ij} - \tilde h_j].

Both are a *minimum*: the blog post that the book grew from writes a maximum,
which produces pairs that violate the dual constraint (chapter "Kantorovich
duality and the c-transform").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ._inputs import check_cost, check_potential, check_weights

__all__ = ["c_transform", "cbar_transform", "dual_value", "dual_violation"]


def _min_over(values: Any, axis: int) -> Any:
    if isinstance(values, Tensor):
        return values.min(dim=axis).values
    return np.min(values, axis=axis)


def _as_pair(h: Any, C: Any) -> tuple[Any, Any]:
    """Bring ``h`` and ``C`` to a common type (torch if either is torch)."""
    if isinstance(h, Tensor) or isinstance(C, Tensor):
        h = h if isinstance(h, Tensor) else torch.as_tensor(np.asarray(h, float))
        C = C if isinstance(C, Tensor) else torch.as_tensor(np.asarray(C, float))
        dt = torch.promote_types(h.dtype, C.dtype)
        return h.to(dt), C.to(dt)
    return np.asarray(h, dtype=float), np.asarray(C, dtype=float)


def c_transform(h: Any, C: Any) -> Any:
    r"""c-transform of a potential on the rows: :math:`h^c_j = \min_i [C_{ij} - h_i]`.

    Parameters
    ----------
    h : ndarray or Tensor, shape (n,)
        Potential on the points :math:`x_1, \dots, x_n` (rows of ``C``).
    C : ndarray or Tensor, shape (n, m)
        Cost matrix :math:`C_{ij} = c(x_i, y_j)`.

    Returns
    -------
    ndarray or Tensor, shape (m,)
        The potential :math:`h^c` on the columns; a tensor (differentiable,
        through the minimising index) if ``h`` or ``C`` is a tensor.

    Raises
    ------
    ValueError
        If ``C`` is not a finite matrix, or ``h`` is not a finite vector with
        one entry per row of ``C``.

    Notes
    -----
    For every :math:`h`, the pair :math:`(h, h^c)` satisfies the dual
    constraint :math:`h_i + h^c_j \le C_{ij}`, and :math:`h^c` is the largest
    potential that does. Derived in the chapter "Kantorovich duality and the
    c-transform".

    Examples
    --------
    >>> C = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> c_transform(np.array([0.5, 0.0]), C)
    array([-0.5,  0. ])
    """
    Cn = check_cost(C, None, "C")
    check_potential(h, "h", Cn.shape[0])
    h, C = _as_pair(h, C)
    return _min_over(C - h[:, None], 0)


def cbar_transform(g: Any, C: Any) -> Any:
    r"""c-transform on the other side: :math:`g^{\bar c}_i = \min_j [C_{ij} - g_j]`.

    Parameters
    ----------
    g : ndarray or Tensor, shape (m,)
        Potential on the points :math:`y_1, \dots, y_m` (columns of ``C``).
    C : ndarray or Tensor, shape (n, m)
        Cost matrix.

    Returns
    -------
    ndarray or Tensor, shape (n,)

    Raises
    ------
    ValueError
        If ``C`` is not a finite matrix, or ``g`` has not one finite entry per
        column of ``C``.

    Notes
    -----
    The post's :math:`h = \tilde h^c` (S27) is this transform. Chapter
    "Kantorovich duality and the c-transform".

    Examples
    --------
    >>> C = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> cbar_transform(np.array([0.0, 0.5]), C)
    array([ 0. , -0.5])
    """
    Cn = check_cost(C, None, "C")
    check_potential(g, "g", Cn.shape[1])
    g, C = _as_pair(g, C)
    return _min_over(C - g[None, :], 1)


def dual_value(f: Any, g: Any, a: Any, b: Any) -> float:
    r"""Dual objective :math:`\sum_i a_i f_i + \sum_j b_j g_j` (a float).

    Raises ``ValueError`` if ``a`` or ``b`` is not a probability vector or
    ``f``, ``g`` are not finite potentials with one entry per weight.

    >>> dual_value([1.0, 0.0], [0.0, 2.0], [0.5, 0.5], [0.5, 0.5])
    1.5
    """
    a, b = check_weights(a, "a"), check_weights(b, "b")
    f = check_potential(f, "f", a.shape[0], "the weight vector a")
    g = check_potential(g, "g", b.shape[0], "the weight vector b")
    return float(a @ f + b @ g)


def dual_violation(f: Any, g: Any, C: Any) -> float:
    r"""Largest violation :math:`\max_{ij}\,(f_i + g_j - C_{ij})` of the dual constraint.

    A pair is feasible iff the result is :math:`\le 0`.

    >>> dual_violation([0.0, 0.0], [1.0, 0.0], np.zeros((2, 2)))
    1.0
    """
    Cn = check_cost(C, None, "C")
    f = check_potential(f, "f", Cn.shape[0])
    g = check_potential(g, "g", Cn.shape[1])
    return float((f[:, None] + g[None, :] - Cn).max())
