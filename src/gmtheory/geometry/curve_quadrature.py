r"""Measuring a sampled curve through its cubic-spline interpolant.

The geodesic solvers return curves sampled at equally spaced times.  Their
length and energy are not the polyline sums of
:mod:`~gmtheory.geometry.curves` but integrals along the (not-a-knot)
cubic spline through the samples, by Gauss--Legendre quadrature on each
interval: far more accurate, because the length is stationary at a
geodesic, so the :math:`O(T^{-2})` position error of a discrete minimiser
costs only :math:`O(T^{-4})` in length.  The same spline gives the
velocity and acceleration for a scale-free residual of the geodesic ODE.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .curve_resampling import cubic_spline, sample_times
from .curves import validate_curve
from .metrics import Metric, validate_metric

__all__ = ["spline_length_energy", "spline_ode_residual"]

#: 4-point Gauss--Legendre nodes and weights on [-1, 1]
_GAUSS_NODES, _GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(4)


def spline_length_energy(metric: Metric, curves: Tensor) -> tuple[Tensor, Tensor]:
    r"""Length and energy of the cubic-spline interpolant of sampled curves.

    .. math::

        L = \int_0^1 \sqrt{\dot s^\top M(s)\dot s}\,dt, \qquad
        E = \int_0^1 \dot s^\top M(s)\dot s\,dt,

    where :math:`s(t)` is the (not-a-knot) cubic spline through the points
    at equally spaced times, integrated with 4-point Gauss--Legendre on each
    interval.  Because the quadrature weights are positive and sum to one,
    :math:`L^2 \le E` holds exactly for the computed numbers.

    Parameters
    ----------
    metric : Metric
    curves : Tensor, shape (T + 1, d) or (B, T + 1, d)
        ``T + 1 >= 4`` points per curve.

    Returns
    -------
    length, energy : Tensor, shape (B,)

    Notes
    -----
    Used by the chapter *Geodesics*.

    Examples
    --------
    >>> import torch
    >>> from gmtheory.geometry.metrics import ConstantMetric
    >>> m = ConstantMetric(torch.diag(torch.tensor([4.0, 1.0])))
    >>> t = torch.linspace(0, 1, 5)[:, None]
    >>> L, E = spline_length_energy(m, torch.cat([t, 0 * t], 1))
    >>> round(float(L), 12), round(float(E), 12)
    (2.0, 4.0)
    """
    validate_metric(metric)
    g = validate_curve(curves, metric.dim, "curves")
    B, T1, d = g.shape
    if T1 < 4:
        raise ValueError(f"curves need at least 4 points for a cubic spline, got {T1}.")
    sp = cubic_spline(g.detach().numpy())
    T = T1 - 1
    tk = sample_times(T1)
    nodes = (tk[:-1, None] + (_GAUSS_NODES[None, :] + 1) / (2 * T)).reshape(-1)
    w = np.tile(_GAUSS_WEIGHTS / (2 * T), T)
    pos = torch.as_tensor(sp(nodes), dtype=g.dtype)          # (B, Q, d)
    vel = torch.as_tensor(sp(nodes, 1), dtype=g.dtype)
    with torch.no_grad():
        sq = metric.evaluate_squared_speeds(pos.reshape(-1, d), vel.reshape(-1, d))
    sq = sq.reshape(B, -1).clamp_min(0.0)
    wt = torch.as_tensor(w, dtype=g.dtype)
    return (sq.sqrt() * wt).sum(1), (sq * wt).sum(1)


def spline_ode_residual(metric: Metric, curves: Tensor, energy: Tensor) -> Tensor:
    r"""Scale-free residual of the geodesic ODE along sampled curves.

    With :math:`s` the cubic spline through each curve and
    :math:`F` the geodesic right-hand side
    (:meth:`Metric.evaluate_geodesic_rhs
    <gmtheory.geometry.metrics.Metric.evaluate_geodesic_rhs>`), at the
    interior nodes :math:`t_k`

    .. math::

        \rho = \frac{\max_k \|\ddot s_k - F(s_k, \dot s_k)\|_{M(s_k)}}
        {E + \max_k \|F(s_k, \dot s_k)\|_{M(s_k)}},
        \qquad \|x\|_M = \sqrt{x^\top M x},

    which is zero for an exact geodesic and of order one for a curve that
    is not one, whatever the scale of the metric.

    Parameters
    ----------
    metric : Metric
    curves : Tensor, shape (B, T + 1, d)
        Curves at equally spaced times, ``T + 1 >= 4``.
    energy : Tensor, shape (B,)
        Their energies (e.g. from :func:`spline_length_energy`).

    Returns
    -------
    Tensor, shape (B,)

    Notes
    -----
    Unchecked: the solvers call it on curves they made.  Derived in
    :ref:`geo-ode`.
    """
    g = curves.detach()
    B, T1, d = g.shape
    sp = cubic_spline(g.numpy())
    t = sample_times(T1)[1:-1]
    z = torch.as_tensor(sp(t), dtype=g.dtype).reshape(-1, d)
    v = torch.as_tensor(sp(t, 1), dtype=g.dtype).reshape(-1, d)
    a = torch.as_tensor(sp(t, 2), dtype=g.dtype).reshape(-1, d)
    with torch.no_grad():
        r = a - metric.evaluate_geodesic_rhs(z, v)
        M = metric.evaluate(z)
    F = a - r
    rn = torch.einsum("ni,nij,nj->n", r, M, r).clamp_min(0).sqrt().reshape(B, -1)
    Fn = torch.einsum("ni,nij,nj->n", F, M, F).clamp_min(0).sqrt().reshape(B, -1)
    denom = (energy + Fn.max(1).values).clamp_min(torch.finfo(g.dtype).tiny)
    return rn.max(1).values / denom
