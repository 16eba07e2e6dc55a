r"""The c-transform of a discrete potential, and the dual constraint.

For a cost matrix :math:`C_{ij} = c(x_i, y_j)` and a potential :math:`h` on
the points :math:`x_i`, the c-transform is the best partner potential on the
points :math:`y_j`,

.. math:: h^c(y_j) = \min_i\,[C_{ij} - h_i],

and the transform on the other side maps a potential :math:`\tilde h` on the
:math:`y_j` to one on the :math:`x_i`,

.. math:: \tilde h^{\bar c}(x_i) = \min_j\,[C_{ij} - \tilde h_j].

Both are a *minimum*: the blog post that the book grew from writes a maximum,
which produces pairs that violate the dual constraint (:ref:`du-ctransform`).
This module holds the package's one implementation of the hard c-transform;
the dual gradient and the semi-discrete GAN call it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from .inputs import validate_cost, validate_potential, validate_weights

__all__ = ["c_transform", "cbar_transform", "dual_value", "dual_violation"]


def _as_pair(h: Any, C: Any) -> tuple[Any, Any]:
    """Bring ``h`` and ``C`` to a common type (torch if either is torch)."""
    if isinstance(h, Tensor) or isinstance(C, Tensor):
        device = (C if isinstance(C, Tensor) else h).device
        h = h if isinstance(h, Tensor) else torch.as_tensor(np.asarray(h, float), device=device)
        C = C if isinstance(C, Tensor) else torch.as_tensor(np.asarray(C, float), device=device)
        dt = torch.promote_types(h.dtype, C.dtype)
        if not dt.is_floating_point:
            dt = torch.float64
        return h.to(dt), C.to(dt)
    return np.asarray(h, dtype=float), np.asarray(C, dtype=float)


def _min_of_shifted(pot: Any, C: Any, axis: int, return_argmin: bool) -> Any:
    r""":math:`\min` over ``axis`` of ``C`` minus ``pot`` (broadcast along the
    other axis), with the minimising indices if ``return_argmin``.

    The one implementation of the hard c-transform; ties go to the first
    index (NumPy's and torch's convention).
    """
    pot, C = _as_pair(pot, C)
    shifted = C - (pot[:, None] if axis == 0 else pot[None, :])
    if isinstance(shifted, Tensor):
        best = shifted.min(dim=axis)
        return (best.values, best.indices) if return_argmin else best.values
    values = np.min(shifted, axis=axis)
    return (values, np.argmin(shifted, axis=axis)) if return_argmin else values


def c_transform(h: Any, C: Any, *, return_argmin: bool = False, check: bool = True) -> Any:
    r"""c-transform of a potential on the rows: :math:`h^c_j = \min_i [C_{ij} - h_i]`.

    .. math:: h^c(y_j) = \min_{i}\,\bigl[c(x_i, y_j) - h(x_i)\bigr].

    Parameters
    ----------
    h : ndarray or Tensor, shape (n,)
        Potential on the points :math:`x_1, \dots, x_n` (rows of ``C``).
    C : ndarray or Tensor, shape (n, m)
        Cost matrix :math:`C_{ij} = c(x_i, y_j)`.
    return_argmin : bool, default False
        Also return, for every column :math:`j`, the row
        :math:`i^\star(j)` that attains the minimum (the first one if
        several tie).
    check : bool, default True
        Validate ``h`` and ``C``. Pass False only inside a loop whose inputs
        were validated before it.

    Returns
    -------
    hc : ndarray or Tensor, shape (m,)
        The potential :math:`h^c` on the columns; a tensor (differentiable,
        through the minimising index) if ``h`` or ``C`` is a tensor, in their
        common dtype, else a float64 array.
    argmin : ndarray or Tensor of int, shape (m,)
        Only if ``return_argmin``: the minimising rows.

    Raises
    ------
    ValueError
        If ``C`` is not a finite matrix, or ``h`` is not a finite vector with
        one entry per row of ``C``.

    See Also
    --------
    cbar_transform : the transform from the columns to the rows.
    dual_value, dual_violation : the dual objective and constraint.
    cost_matrix : the cost :math:`\|x - y\|^p`.

    Notes
    -----
    For every :math:`h`, the pair :math:`(h, h^c)` satisfies the dual
    constraint :math:`h_i + h^c_j \le C_{ij}`, and :math:`h^c` is the largest
    potential that does. The transform is a *minimum*: a maximum produces
    pairs that violate the constraint. Derived in :ref:`du-ctransform`.

    References
    ----------
    :cite:t:`santambrogio2015optimal`, chapter 1;
    :cite:t:`peyre2019computational`, chapter 5.

    Examples
    --------
    >>> C = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> c_transform(np.array([0.5, 0.0]), C)
    array([-0.5,  0. ])
    >>> c_transform(np.array([0.5, 0.0]), C, return_argmin=True)[1]
    array([0, 1])
    """
    if check:
        validate_potential(h, "h", validate_cost(C, None, "C").shape[0])
    return _min_of_shifted(h, C, 0, return_argmin)


def cbar_transform(g: Any, C: Any, *, return_argmin: bool = False, check: bool = True) -> Any:
    r"""c-transform on the other side: :math:`g^{\bar c}_i = \min_j [C_{ij} - g_j]`.

    .. math:: g^{\bar c}(x_i) = \min_{j}\,\bigl[c(x_i, y_j) - g(y_j)\bigr].

    Parameters
    ----------
    g : ndarray or Tensor, shape (m,)
        Potential on the points :math:`y_1, \dots, y_m` (columns of ``C``).
    C : ndarray or Tensor, shape (n, m)
        Cost matrix.
    return_argmin : bool, default False
        Also return, for every row :math:`i`, the column :math:`j^\star(i)`
        that attains the minimum (the first one if several tie): the index of
        the Laguerre cell containing :math:`x_i`.
    check : bool, default True
        Validate ``g`` and ``C``. Pass False only inside a loop whose inputs
        were validated before it (e.g. the steps of a semi-discrete solver).

    Returns
    -------
    gc : ndarray or Tensor, shape (n,)
        A tensor (differentiable) if ``g`` or ``C`` is a tensor, else a float64
        array.
    argmin : ndarray or Tensor of int, shape (n,)
        Only if ``return_argmin``: the minimising columns.

    Raises
    ------
    ValueError
        If ``C`` is not a finite matrix, or ``g`` has not one finite entry per
        column of ``C``.

    See Also
    --------
    c_transform : the transform from the rows to the columns.
    laguerre_cells : the minimising index of each point, its Laguerre cell.

    Notes
    -----
    The post's :math:`h = \tilde h^c` (S27) is this transform. Derived in
    :ref:`du-ctransform`.

    References
    ----------
    :cite:t:`santambrogio2015optimal`, chapter 1;
    :cite:t:`peyre2019computational`, chapter 5.

    Examples
    --------
    >>> C = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> cbar_transform(np.array([0.0, 0.5]), C)
    array([ 0. , -0.5])
    """
    if check:
        validate_potential(g, "g", validate_cost(C, None, "C").shape[1])
    return _min_of_shifted(g, C, 1, return_argmin)


def dual_value(f: Any, g: Any, a: Any, b: Any) -> float:
    r"""Dual objective :math:`\sum_i a_i f_i + \sum_j b_j g_j` (a float).

    Raises ``ValueError`` if ``a`` or ``b`` is not a probability vector or
    ``f``, ``g`` are not finite potentials with one entry per weight.
    Derived in :ref:`du-dual`.

    >>> dual_value([1.0, 0.0], [0.0, 2.0], [0.5, 0.5], [0.5, 0.5])
    1.5
    """
    a, b = validate_weights(a, "a"), validate_weights(b, "b")
    f = validate_potential(f, "f", a.shape[0], "the weight vector a")
    g = validate_potential(g, "g", b.shape[0], "the weight vector b")
    return float(a @ f + b @ g)


def dual_violation(f: Any, g: Any, C: Any) -> float:
    r"""Largest violation :math:`\max_{ij}\,(f_i + g_j - C_{ij})` of the dual constraint.

    A pair is feasible iff the result is :math:`\le 0`. Derived in
    :ref:`du-dual`.

    >>> dual_violation([0.0, 0.0], [1.0, 0.0], np.zeros((2, 2)))
    1.0
    """
    Cn = validate_cost(C, None, "C")
    f = validate_potential(f, "f", Cn.shape[0])
    g = validate_potential(g, "g", Cn.shape[1])
    return float((f[:, None] + g[None, :] - Cn).max())
