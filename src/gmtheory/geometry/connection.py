r"""The Levi-Civita connection from a metric tensor and its derivative.

Pure tensor formulas, no :class:`~gmtheory.geometry.metrics.Metric` in
sight: :meth:`Metric.evaluate_christoffel
<gmtheory.geometry.metrics.Metric.evaluate_christoffel>` and
:meth:`Metric.evaluate_geodesic_rhs
<gmtheory.geometry.metrics.Metric.evaluate_geodesic_rhs>` call them with
``M(z)`` and :math:`\partial M/\partial z`, so a metric that overrides its
derivative gets the right connection for free.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["christoffel_from_derivative", "geodesic_acceleration"]


def geodesic_acceleration(M: Tensor, dM: Tensor, v: Tensor) -> Tensor:
    r"""The geodesic right-hand side in the vec/Kronecker form, as printed.

    .. math::

        \ddot\gamma = -\tfrac12 M^{-1}\Big[2(I_d\otimes\dot\gamma^\top)
        \frac{\partial\operatorname{vec}M}{\partial\gamma}\dot\gamma
        - \frac{\partial\operatorname{vec}M}{\partial\gamma}^{\!\top}
        (\dot\gamma\otimes\dot\gamma)\Big]

    with column-stacking :math:`\operatorname{vec}`.

    Parameters
    ----------
    M : Tensor, shape (n, d, d)
        Metric tensors, positive definite.
    dM : Tensor, shape (n, d, d, d)
        ``dM[n, i, j, k]`` is :math:`\partial M_{ij}/\partial z_k`.
    v : Tensor, shape (n, d)
        Velocities.

    Returns
    -------
    Tensor, shape (n, d)

    Notes
    -----
    Derived in :ref:`geo-ode`.

    Examples
    --------
    The sphere chart at :math:`\vartheta = \pi/4`, moving along :math:`\varphi`:

    >>> M = torch.tensor([[[1.0, 0.0], [0.0, 0.5]]])     # diag(1, sin^2 th)
    >>> dM = torch.zeros(1, 2, 2, 2)
    >>> dM[0, 1, 1, 0] = 1.0                              # 2 sin th cos th
    >>> F = geodesic_acceleration(M, dM, torch.tensor([[0.0, 1.0]]))
    >>> [round(float(x), 6) + 0.0 for x in F[0]]         # (sin th cos th, 0)
    [0.5, 0.0]
    """
    n, d = v.shape
    # dvecM[n, i + d*j, k] = dM_ij / dz_k  (column stacking)
    dvecM = dM.transpose(1, 2).reshape(n, d * d, d)
    eye = torch.eye(d, dtype=v.dtype)
    # (I_d kron v^T)[n, a, a*d + b] = v_b
    kron_I_v = (eye[None, :, :, None] * v[:, None, None, :]).reshape(n, d, d * d)
    kron_v_v = (v[:, :, None] * v[:, None, :]).reshape(n, d * d)
    first = kron_I_v @ (dvecM @ v.unsqueeze(2))           # (n, d, 1)
    second = dvecM.transpose(1, 2) @ kron_v_v.unsqueeze(2)  # (n, d, 1)
    return -0.5 * torch.linalg.solve(M, 2.0 * first - second).squeeze(2)


def christoffel_from_derivative(M: Tensor, dM: Tensor) -> Tensor:
    r"""Christoffel symbols of the second kind, ``[n, k, i, j]``.

    .. math::

        \Gamma^k_{ij} = \tfrac12 M^{kl}\big(\partial_j M_{li}
        + \partial_i M_{lj} - \partial_l M_{ij}\big)

    Parameters
    ----------
    M : Tensor, shape (n, d, d)
        Metric tensors, positive definite.
    dM : Tensor, shape (n, d, d, d)
        ``dM[n, i, j, k]`` is :math:`\partial M_{ij}/\partial z_k`.

    Returns
    -------
    Tensor, shape (n, d, d, d)
        Symmetric in its last two indices.

    Notes
    -----
    Derived in :ref:`geo-ode`.

    Examples
    --------
    >>> M = torch.tensor([[[1.0, 0.0], [0.0, 0.5]]])     # sphere, th = pi/4
    >>> dM = torch.zeros(1, 2, 2, 2)
    >>> dM[0, 1, 1, 0] = 1.0
    >>> G = christoffel_from_derivative(M, dM)
    >>> round(float(G[0, 0, 1, 1]), 6), round(float(G[0, 1, 0, 1]), 6)
    (-0.5, 1.0)
    """
    # B[n, l, i, j] = dM_li/dz_j + dM_lj/dz_i - dM_ij/dz_l
    B = dM + dM.transpose(2, 3) - dM.permute(0, 3, 1, 2)
    d = M.shape[-1]
    sol = torch.linalg.solve(M, B.reshape(M.shape[0], d, d * d))
    return 0.5 * sol.reshape(M.shape[0], d, d, d)
