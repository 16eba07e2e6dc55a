r"""Resampling sampled curves: equal times, cubic splines, constant speed.

The geodesic solvers represent a curve by its values at equally spaced
times :math:`t_k = k/T` on :math:`[0, 1]`.  This module moves between such
representations without changing the path: piecewise-linear resampling
(by time or by Euclidean arclength), cubic-spline resampling to more points,
and reparametrisation to constant *Riemannian* speed, the best start for
energy minimisation because it makes the energy (almost) equal to the
squared length (:math:`L^2 \le E`, with equality at constant speed).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.interpolate import CubicSpline
from torch import Tensor

from .curves import segment_squared_speeds
from .metrics import Metric

__all__ = [
    "constant_speed",
    "cubic_spline",
    "resample_linear",
    "sample_times",
    "upsample",
]


def sample_times(n: int) -> np.ndarray:
    """The ``n`` equally spaced times :math:`k/(n-1)` on ``[0, 1]``.

    Parameters
    ----------
    n : int
        Number of times, at least 2.

    Returns
    -------
    numpy.ndarray, shape (n,)

    Examples
    --------
    >>> sample_times(3).tolist()
    [0.0, 0.5, 1.0]
    """
    return np.linspace(0.0, 1.0, n)


def cubic_spline(curves: np.ndarray) -> CubicSpline:
    """Not-a-knot cubic spline through sampled curves, as a function of ``t``.

    Parameters
    ----------
    curves : numpy.ndarray, shape (B, T + 1, d)
        Values at the times :func:`sample_times` ``(T + 1)``.

    Returns
    -------
    scipy.interpolate.CubicSpline
        Evaluated at times of shape ``(m,)`` it returns ``(B, m, d)``.
    """
    return CubicSpline(sample_times(curves.shape[1]), curves, axis=1)


def resample_linear(curve: Tensor, n_points: int, by_arclength: bool) -> Tensor:
    """Piecewise-linear resampling of one curve to ``n_points`` points.

    Parameters
    ----------
    curve : Tensor, shape (m, d)
        The points of a polyline.
    n_points : int
        Points of the result.
    by_arclength : bool
        If True the new points are equally spaced in Euclidean arclength
        along the polyline (its vertices' times are ignored); else the
        polyline's vertices are taken at equally spaced times and the new
        points at equally spaced times.

    Returns
    -------
    Tensor, shape (n_points, d)
        Same dtype, endpoints exactly those of ``curve``.

    Examples
    --------
    >>> import torch
    >>> c = torch.tensor([[0.0, 0.0], [1.0, 0.0], [1.0, 3.0]])
    >>> resample_linear(c, 3, by_arclength=True)[1].tolist()
    [1.0, 1.0]
    """
    c = curve.detach().numpy()
    if by_arclength:
        s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(c, axis=0), axis=1))])
        if s[-1] <= 0:
            s = sample_times(len(c))
        else:
            s = s / s[-1]
    else:
        s = sample_times(len(c))
    t = sample_times(n_points)
    out = np.stack([np.interp(t, s, c[:, j]) for j in range(c.shape[1])], axis=1)
    out[0], out[-1] = c[0], c[-1]
    return torch.as_tensor(out, dtype=curve.dtype)


def upsample(curves: Tensor, n_points: int) -> Tensor:
    """Cubic-spline resampling of a batch of curves to ``n_points`` (same times).

    Parameters
    ----------
    curves : Tensor, shape (B, m, d)
        Curves sampled at equally spaced times.
    n_points : int
        Points of the result, at equally spaced times.

    Returns
    -------
    Tensor, shape (B, n_points, d)
        The values of :func:`cubic_spline` of ``curves``; endpoints exact.
    """
    c = curves.detach().numpy()
    out = cubic_spline(c)(sample_times(n_points))
    out[:, 0], out[:, -1] = c[:, 0], c[:, -1]
    return torch.as_tensor(out, dtype=curves.dtype)


def constant_speed(metric: Metric, curves: Tensor, refine: int = 4) -> Tensor:
    r"""Reparametrise polylines to constant Riemannian speed.

    The polyline is refined ``refine`` times, its Riemannian arclength
    :math:`s(t)` accumulated segment by segment (metric at the midpoints),

    .. math::

        s_j = \sum_{i<j} \sqrt{\Delta_i^\top M(\bar\gamma_i)\Delta_i},

    and new points are placed at equal arclength along the same polyline.
    The path is unchanged; its energy drops to (almost) its squared length
    (:math:`L^2 \le E`, equality at constant speed), which is the best
    starting point for energy minimisation.

    Parameters
    ----------
    metric : Metric
    curves : Tensor, shape (B, T + 1, d)
    refine : int, default 4
        Each segment is cut into this many pieces to measure arclength.

    Returns
    -------
    Tensor, shape (B, T + 1, d)
        A curve whose arclength is zero or not strictly increasing (a
        degenerate metric along it) is returned unchanged.

    Examples
    --------
    >>> import torch
    >>> from gmtheory.geometry.metrics import ConstantMetric
    >>> m = ConstantMetric(torch.eye(1, dtype=torch.float64))
    >>> c = torch.tensor([[[0.0], [0.9], [1.0]]], dtype=torch.float64)
    >>> constant_speed(m, c)[0, 1].item()
    0.5
    """
    B, T1, d = curves.shape
    fine = torch.stack([resample_linear(c, refine * (T1 - 1) + 1, False) for c in curves])
    with torch.no_grad():
        seg = segment_squared_speeds(metric, fine).clamp_min(0.0).sqrt()  # (B, m)
    out = []
    for b in range(B):
        sb = torch.cat([seg.new_zeros(1), seg[b].cumsum(0)]).numpy()
        c = fine[b].numpy()
        if sb[-1] <= 0 or not np.all(np.diff(sb) > 0):
            out.append(curves[b])
            continue
        t = np.linspace(0.0, sb[-1], T1)
        pts = np.stack([np.interp(t, sb, c[:, j]) for j in range(d)], axis=1)
        pts[0], pts[-1] = c[0], c[-1]
        out.append(torch.as_tensor(pts, dtype=curves.dtype))
    return torch.stack(out)
