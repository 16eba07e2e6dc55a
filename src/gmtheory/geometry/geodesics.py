r"""Geodesic solvers: boundary-value problem and discrete energy minimisation.

Two independent routes to the curve of least energy between two latent
points under a :class:`~gmtheory.geometry.metrics.Metric`:

``method="energy"``
    Minimise the discrete energy of a polyline with fixed endpoints,

    .. math::

        E_T(\gamma) = T\sum_{k=0}^{T-1}\Delta_k^\top M(\bar\gamma_k)\Delta_k,

    over its interior points with L-BFGS and exact autograd gradients,
    preconditioned by the Hessian of the energy with the metric frozen (see
    :func:`_preconditioner`).  Only the metric itself is differentiated,
    never the geodesic ODE.

``method="bvp"``
    Solve the two-point boundary-value problem
    :math:`\ddot\gamma = F(\gamma, \dot\gamma)`, :math:`\gamma(0) = z_0`,
    :math:`\gamma(1) = z_1` with :func:`scipy.integrate.solve_bvp` (collocation),
    :math:`F` from :func:`~gmtheory.geometry.geodesic_ode.geodesic_rhs` and its exact
    Jacobian from ``torch.func``.

Either can start from the straight line, from a given curve, or from a
shortest path in a nearest-neighbour graph on latent codes
(:func:`~gmtheory.geometry.graphs.graph_shortest_path`).

**Global starts.** The energy has local minima (a curve that passes an
obstacle on the wrong side), and the straight-line start can end in one.
By default (``multistart=None``) the energy method therefore starts each
pair twice -- from the straight line and from the shortest path in a graph
(over the codes in ``graph_points`` if given, else over an automatic
regular grid around the endpoints, :func:`~gmtheory.geometry.graphs.latent_grid`,
in latent dimension ``d <= 3``) -- minimises all starts in one batch to the
loose tolerance ``PROBE_TOL``, keeps the shorter curve of each pair and
converges only that one to ``tol``.  A grid path that stays within one grid
spacing of the segment is taken for the straight line and not solved
twice.  This finds the global route whenever the graph resolves it (the
grid has ``GRID_PER_DIM`` points per axis on a cube reaching half the
endpoints' spread beyond them); it is not a proof of global optimality.
In higher dimension pass latent codes as ``graph_points``.

**Precision.** The solvers work in float64.  A metric built on a float32
model (a float32 ``torch.nn.Module`` decoder, say) is evaluated by a
float64 copy of it (:func:`~gmtheory.geometry.precision.float64_metric`), the same
function; only if no such copy can be made (a closure over float32
tensors) does the solve run in the model's dtype with the tolerance raised
to what that dtype resolves (``SQRT_EPS_TOL`` times :math:`\sqrt{\epsilon}`).
The result records the dtype of the solve and the curve has the caller's
dtype.  The length and energy of the
result are evaluated on a cubic-spline interpolant of the curve with
Gauss--Legendre quadrature, which is far more accurate than the polyline
sums: the length is stationary at a geodesic, so the :math:`O(T^{-2})`
position error of the discrete minimiser costs only :math:`O(T^{-4})` in
length.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field, fields, replace
from typing import NamedTuple

import numpy as np
import torch
from scipy.integrate import solve_bvp
from scipy.interpolate import CubicSpline
from torch import Tensor
from torch.func import jacfwd

from .._validation import (
    as_float_tensor,
    check_finite,
    check_points,
    check_positive,
    check_positive_int,
)
from .curves import check_curve, curve_energy, curve_length, segment_lengths
from .graphs import graph_shortest_paths, latent_grid
from .metrics import Metric, check_metric, check_positive_definite
from .precision import float64_metric

__all__ = ["GeodesicResult", "geodesic", "geodesics", "spline_length_energy"]

_METHODS = ("energy", "bvp")

#: automatic graph starts are built in latent dimensions up to this one
MULTISTART_MAX_DIM = 3

#: points per axis of the automatic latent grid, by latent dimension
GRID_PER_DIM = {1: 33, 2: 15, 3: 7}

#: a solve in a dtype coarser than float64 uses a tolerance of at least
#: this many times the square root of the dtype's machine epsilon
SQRT_EPS_TOL = 10.0
_GAUSS_NODES, _GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(4)


@dataclass
class GeodesicResult:
    """What a geodesic solver returns.

    Attributes
    ----------
    curve : Tensor, shape (T + 1, d)
        The curve at equally spaced times on ``[0, 1]``, endpoints exact;
        ``T + 1 = n_points`` unless the energy solver had to refine.
    length : float
        Riemannian length (cubic spline + Gauss--Legendre quadrature).
    energy : float
        Energy :math:`\\int_0^1\\|\\dot\\gamma\\|^2_\\gamma dt` (same quadrature);
        ``length**2 <= energy`` always, with equality iff constant speed.
    converged : bool
        Whether the solver met its tolerance.
    iterations : int
        L-BFGS iterations or Newton iterations of ``solve_bvp``.
    method : str
        ``"energy"`` or ``"bvp"``.
    message : str
        The solver's termination message.
    ode_residual : float
        :math:`\\max_k\\|\\ddot\\gamma_k - F(\\gamma_k, \\dot\\gamma_k)\\|_{M}/E`
        at the interior nodes, derivatives from the spline: a scale-free
        check that the curve solves the geodesic ODE.
    energy_history : list of float
        Discrete energy after each iteration (energy method only).
    seconds : float
        Wall-clock time of the solve.
    start : str
        The start the returned curve came from: ``"line"``, ``"init"``,
        ``"graph"`` (shortest path over ``graph_points``) or ``"grid"``
        (shortest path over the automatic latent grid).
    solve_dtype : str
        The dtype the solver worked in (``"float64"`` unless the metric
        could not be evaluated in float64); ``curve`` has the dtype of the
        endpoints whatever this is.
    """

    curve: Tensor
    length: float
    energy: float
    converged: bool
    iterations: int
    method: str
    message: str
    ode_residual: float = float("nan")
    energy_history: list = field(default_factory=list)
    seconds: float = 0.0
    start: str = "line"
    solve_dtype: str = "float64"


# ----------------------------------------------------------------------------
# curve utilities
# ----------------------------------------------------------------------------

def _times(n: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, n)


def _spline(curves: np.ndarray) -> CubicSpline:
    """Cubic spline through ``(B, T+1, d)`` curves in ``t``; values ``(B, d)``."""
    return CubicSpline(_times(curves.shape[1]), curves, axis=1)


def _resample_linear(curve: Tensor, n_points: int, by_arclength: bool) -> Tensor:
    """Piecewise-linear resampling of one curve ``(m, d)`` to ``n_points``."""
    c = curve.detach().numpy()
    if by_arclength:
        s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(c, axis=0), axis=1))])
        if s[-1] <= 0:
            s = _times(len(c))
        else:
            s = s / s[-1]
    else:
        s = _times(len(c))
    t = _times(n_points)
    out = np.stack([np.interp(t, s, c[:, j]) for j in range(c.shape[1])], axis=1)
    out[0], out[-1] = c[0], c[-1]
    return torch.as_tensor(out, dtype=curve.dtype)


def _upsample(curves: Tensor, n_points: int) -> Tensor:
    """Cubic-spline resampling of a batch ``(B, m, d)`` to ``n_points`` (same t)."""
    c = curves.detach().numpy()
    out = _spline(c)(_times(n_points))
    out[:, 0], out[:, -1] = c[:, 0], c[:, -1]
    return torch.as_tensor(out, dtype=curves.dtype)


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
    check_metric(metric)
    g = check_curve(curves, metric.dim, "curves")
    B, T1, d = g.shape
    if T1 < 4:
        raise ValueError(f"curves need at least 4 points for a cubic spline, got {T1}.")
    sp = _spline(g.detach().numpy())
    T = T1 - 1
    tk = _times(T1)
    nodes = (tk[:-1, None] + (_GAUSS_NODES[None, :] + 1) / (2 * T)).reshape(-1)
    w = np.tile(_GAUSS_WEIGHTS / (2 * T), T)
    pos = torch.as_tensor(sp(nodes), dtype=g.dtype)          # (B, Q, d)
    vel = torch.as_tensor(sp(nodes, 1), dtype=g.dtype)
    with torch.no_grad():
        M = metric.evaluate(pos.reshape(-1, d)).reshape(B, -1, d, d)
    sq = torch.einsum("bqi,bqij,bqj->bq", vel, M, vel).clamp_min(0.0)
    wt = torch.as_tensor(w, dtype=g.dtype)
    return (sq.sqrt() * wt).sum(1), (sq * wt).sum(1)


def _ode_residual(metric: Metric, curves: Tensor, energy: Tensor) -> Tensor:
    """Scale-free ODE residual at the interior nodes, shape (B,)."""
    g = curves.detach()
    B, T1, d = g.shape
    sp = _spline(g.numpy())
    t = _times(T1)[1:-1]
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


# ----------------------------------------------------------------------------
# input handling
# ----------------------------------------------------------------------------

def _check_options(method, n_points, tol, max_iter, n_neighbors):
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
    check_positive_int(n_points, "n_points", minimum=5)
    check_positive_int(max_iter, "max_iter")
    check_positive_int(n_neighbors, "n_neighbors")
    if tol is not None:
        check_positive(tol, "tol")


def _initial_curves(metric, Z0, Z1, n_points, init, graph_points, n_neighbors):
    """Initial curves ``(B, n_points, d)`` with exact endpoints."""
    B, d = Z0.shape
    if init is not None and graph_points is not None:
        raise ValueError("give either init or graph_points, not both.")
    if graph_points is not None:
        paths = graph_shortest_paths(graph_points, Z0, Z1, metric, n_neighbors)
        curves = [_resample_linear(p.to(Z0.dtype), n_points, True) for p in paths]
        return torch.stack(curves)
    if init is not None:
        g = check_curve(init, d, "init").to(Z0.dtype)
        if g.shape[0] != B:
            raise ValueError(f"init must hold one curve per endpoint pair: "
                             f"expected {B}, got {g.shape[0]}.")
        if not (torch.allclose(g[:, 0], Z0) and torch.allclose(g[:, -1], Z1)):
            raise ValueError("init must start at z0 and end at z1.")
        curves = [_resample_linear(c, n_points, False) for c in g]
        out = torch.stack(curves)
    else:
        t = torch.linspace(0.0, 1.0, n_points, dtype=Z0.dtype)[None, :, None]
        out = (1 - t) * Z0[:, None, :] + t * Z1[:, None, :]
    out[:, 0], out[:, -1] = Z0, Z1
    return out


def _constant_speed(metric: Metric, curves: Tensor, refine: int = 4) -> Tensor:
    r"""Reparametrise polylines ``(B, T+1, d)`` to constant Riemannian speed.

    The polyline is refined ``refine`` times, its Riemannian arclength
    :math:`s(t)` accumulated segment by segment (metric at the midpoints),
    and new points are placed at equal arclength along the same polyline.
    The path is unchanged; its energy drops to (almost) its squared length
    (:math:`L^2 \le E`, equality at constant speed), which is the best
    starting point for energy minimisation.
    """
    B, T1, d = curves.shape
    fine = torch.stack([_resample_linear(c, refine * (T1 - 1) + 1, False) for c in curves])
    with torch.no_grad():
        seg = segment_lengths(metric, fine)                      # (B, m)
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


def _check_path_pd(metric: Metric, curves: Tensor, what: str) -> None:
    d = curves.shape[2]
    mid = (0.5 * (curves[:, 1:] + curves[:, :-1])).reshape(-1, d).detach()
    pts = torch.cat([curves.reshape(-1, d).detach(), mid])
    with torch.no_grad():
        M = metric.evaluate(pts)
    check_positive_definite(M, pts, what)


# ----------------------------------------------------------------------------
# solvers
# ----------------------------------------------------------------------------

def _preconditioner(metric: Metric, curves: Tensor, scale: Tensor) -> Tensor:
    r"""Inverse Cholesky factor of the Gauss--Newton Hessian of the energy.

    With the metric frozen at the segment midpoints :math:`M_k`, the energy
    :math:`E_T = T\sum_k\Delta_k^\top M_k\Delta_k` is quadratic in the
    interior points with the block-tridiagonal Hessian

    .. math::

        H_{jj} = 2T(M_{j-1} + M_j), \qquad H_{j,j+1} = -2T M_j .

    Optimising the coefficients ``c`` of ``x = x_0 + L^{-\top} c``, where
    :math:`H/E_0 = LL^\top`, turns that Hessian into the identity and removes
    the :math:`O(T^2)` ill-conditioning of the polyline energy and the
    conditioning due to the variation of :math:`M` along the curve.
    Returns ``P = L^{-T}`` of shape ``(B, (T-1) d, (T-1) d)``.
    """
    B, T1, d = curves.shape
    T = T1 - 1
    mid = 0.5 * (curves[:, 1:] + curves[:, :-1])
    with torch.no_grad():
        M = metric.evaluate(mid.reshape(-1, d)).reshape(B, T, d, d)
    M = 0.5 * (M + M.transpose(-1, -2)) * (2.0 * T / scale).reshape(B, 1, 1, 1)
    n = T - 1
    H = torch.zeros(B, n, d, n, d, dtype=curves.dtype)
    idx = torch.arange(n)
    H[:, idx, :, idx, :] = (M[:, :-1] + M[:, 1:]).transpose(0, 1)
    H[:, idx[:-1], :, idx[:-1] + 1, :] = -M[:, 1:-1].transpose(0, 1)
    H[:, idx[:-1] + 1, :, idx[:-1], :] = -M[:, 1:-1].transpose(0, 1)
    H = H.reshape(B, n * d, n * d)
    L, info = torch.linalg.cholesky_ex(H)
    if bool((info > 0).any()):
        # nearly singular somewhere along the path: regularise slightly
        jitter = 1e-10 * H.diagonal(dim1=1, dim2=2).amax(dim=1)
        H = H + jitter[:, None, None] * torch.eye(n * d, dtype=H.dtype)
        L, info = torch.linalg.cholesky_ex(H)
    if bool((info > 0).any()):
        raise ValueError(
            "the metric is singular (not positive definite) along the path: "
            "the energy Hessian is not positive definite. Geodesics need a "
            "positive definite metric M(z)."
        )
    eye = torch.eye(n * d, dtype=curves.dtype).expand(B, n * d, n * d)
    Linv = torch.linalg.solve_triangular(L, eye, upper=False)
    return Linv.transpose(1, 2)


def _polyline_energy(metric: Metric, curves: Tensor) -> Tensor:
    r"""The discrete energy :func:`~gmtheory.geometry.curves.curve_energy`, shape (B,).

    Unchecked, for the solvers' inner loop: each term
    :math:`\Delta_k^\top M(\bar\gamma_k)\Delta_k` comes from
    :meth:`Metric.evaluate_squared_speeds
    <gmtheory.geometry.metrics.Metric.evaluate_squared_speeds>`, which a
    pullback metric computes as :math:`\|J(\bar\gamma_k)\Delta_k\|^2`
    with one Jacobian-vector product per segment (the same number, about
    half the cost of the full Jacobian).
    """
    B, T1, d = curves.shape
    mid = (0.5 * (curves[:, 1:] + curves[:, :-1])).reshape(-1, d)
    delta = (curves[:, 1:] - curves[:, :-1]).reshape(-1, d)
    sq = metric.evaluate_squared_speeds(mid, delta)
    return (T1 - 1) * sq.reshape(B, T1 - 1).sum(1)


def _energy_and_grad(metric, ends0, ends1, base, P, scale, c):
    """Normalised energies ``(k,)``, their gradients in ``c`` and the energies."""
    k, n = c.shape
    d = ends0.shape[-1]
    c = c.detach().requires_grad_(True)
    inner = base + torch.einsum("bij,bj->bi", P, c)
    curve = torch.cat([ends0, inner.reshape(k, n // d, d), ends1], dim=1)
    E = _polyline_energy(metric, curve)
    f = E / scale
    (grad,) = torch.autograd.grad(f.sum(), c)
    return f.detach(), grad, E.detach()


def _minimise_energy(metric, curves, tol, max_iter, refresh=30, memory=30):
    r"""Per-pair preconditioned L-BFGS on the normalised polyline energies.

    Every pair ``b`` has its own L-BFGS memory, its own Armijo backtracking
    step and its own stopping test, so solving a batch is exactly solving
    the pairs separately; only the metric evaluations are shared (one
    vectorised call per step for all pairs still running).  Variables are
    the coefficients ``c`` of ``x = x_0 + L^{-T} c``
    (:func:`_preconditioner`); the preconditioner is rebuilt at the current
    curve every ``refresh`` iterations.  A pair stops when its Newton
    decrement :math:`\|\nabla_c E_T\|/E_T^{(0)}` is at most ``tol``
    (converged), when it has used ``max_iter`` iterations (an int, or one
    budget per pair), or when the line search fails (stagnation).  The
    L-BFGS memory keeps up to ``memory`` pairs; with the default 30 it spans
    a whole preconditioner period (10 pairs needed about 1.4 times as many
    iterations on the digits-VAE benchmark).

    Returns
    -------
    curves, iterations (B,), converged (B,), messages, histories, decrements
    """
    B, T1, d = curves.shape
    T = T1 - 1
    n = (T - 1) * d
    dtype = curves.dtype
    g = curves.detach().clone()
    iters = [0] * B
    resid = [math.inf] * B
    msgs = ["maximum number of iterations reached"] * B
    histories: list[list[float]] = [[] for _ in range(B)]
    limit = list(max_iter) if isinstance(max_iter, (list, tuple)) else [max_iter] * B
    running = list(range(B))
    while running:
        idx = torch.tensor(running)
        gi = g[idx]
        ends0, ends1 = gi[:, :1], gi[:, -1:]
        with torch.no_grad():
            scale = curve_energy(metric, gi).clamp_min(1e-300)
        P = _preconditioner(metric, gi, scale)
        base = gi[:, 1:-1].reshape(-1, n)
        c = torch.zeros(len(running), n, dtype=dtype)
        f, grad, E = _energy_and_grad(metric, ends0, ends1, base, P, scale, c)
        S: list[Tensor] = []
        Y: list[Tensor] = []
        R: list[Tensor] = []
        finished: dict[int, str] = {}
        for _ in range(refresh):
            r = grad.norm(dim=1)
            for j, b in enumerate(running):
                resid[b] = float(r[j])
                if resid[b] <= tol:
                    finished[j] = "converged"
                elif iters[b] >= limit[b]:
                    finished[j] = "maximum number of iterations reached"
            if len(finished) == len(running):
                break
            # two-loop recursion, all pairs at once (rho = 0 skips a pair)
            q = grad.clone()
            alphas = []
            for s_, y_, rho in zip(reversed(S), reversed(Y), reversed(R)):
                a_ = rho * (s_ * q).sum(1)
                q = q - a_[:, None] * y_
                alphas.append(a_)
            if S:
                sy, yy = (S[-1] * Y[-1]).sum(1), (Y[-1] * Y[-1]).sum(1)
                gamma = torch.where(R[-1] > 0, sy / yy.clamp_min(1e-300),
                                    torch.ones_like(sy))
                q = q * gamma[:, None]
            for s_, y_, rho, a_ in zip(S, Y, R, reversed(alphas)):
                b_ = rho * (y_ * q).sum(1)
                q = q + (a_ - b_)[:, None] * s_
            p = -q
            slope = (p * grad).sum(1)
            bad = slope >= 0                       # not a descent direction
            p[bad] = -grad[bad]
            slope[bad] = -(grad[bad] ** 2).sum(1)
            stop = torch.tensor([j in finished for j in range(len(running))])
            p[stop] = 0.0
            step = torch.ones(len(running), dtype=dtype)
            for _ls in range(40):
                c_new = c + step[:, None] * p
                f_new, g_new, E_new = _energy_and_grad(
                    metric, ends0, ends1, base, P, scale, c_new)
                ok = (f_new <= f + 1e-4 * step * slope) | stop
                if bool(ok.all()):
                    break
                step = torch.where(ok, step, 0.5 * step)
            failed = ~ok
            s_new, y_new = c_new - c, g_new - grad
            sy = (s_new * y_new).sum(1)
            good = sy > 1e-12 * s_new.norm(dim=1) * y_new.norm(dim=1)
            S.append(s_new)
            Y.append(y_new)
            R.append(torch.where(good, 1.0 / sy.clamp_min(1e-300), torch.zeros_like(sy)))
            if len(S) > memory:
                S.pop(0), Y.pop(0), R.pop(0)
            keep = ~failed
            c = torch.where(keep[:, None], c_new, c)
            f = torch.where(keep, f_new, f)
            grad = torch.where(keep[:, None], g_new, grad)
            E = torch.where(keep, E_new, E)
            for j, b in enumerate(running):
                if j in finished:
                    continue
                iters[b] += 1
                histories[b].append(float(E[j]))
                if bool(failed[j]):
                    finished[j] = "line search failed (stagnation)"
        with torch.no_grad():
            inner = base + torch.einsum("bij,bj->bi", P, c)
            g[idx, 1:-1] = inner.reshape(-1, T - 1, d)
        r = grad.norm(dim=1)
        still = []
        for j, b in enumerate(running):
            resid[b] = float(r[j])
            if resid[b] <= tol:
                msgs[b] = "converged"
            elif j in finished:
                msgs[b] = finished[j]
            else:
                still.append(b)
        running = still
    ok = [rb <= tol for rb in resid]
    return g, iters, ok, msgs, histories, resid


def _solve_energy(metric, curves, tol, max_iter):
    g, iters, ok, msgs, hist, resid = _minimise_energy(metric, curves, tol, max_iter)
    msgs = [f"{m} (Newton decrement {r:.2e}, tol {tol:.1e})" for m, r in zip(msgs, resid)]
    return g, iters, ok, msgs, hist


#: relative gap between polyline and spline length above which a polyline
#: is considered not to resolve the metric
RESOLUTION_RTOL = 1e-3


#: Newton decrement at which a level that may still be refined is checked
#: for resolution first (relative energy excess about half its square)
PROBE_TOL = 1e-3


def _solve_energy_refined(metric, curves, tol, max_iter, max_refine):
    """Energy minimisation, doubling the points of pairs that are unresolved.

    The midpoint rule of the polyline energy can be fooled by a metric that
    varies on a scale finer than the segments (a thin ridge of large
    :math:`M` between two points costs nothing).  After each solve the
    polyline length is compared with the length of the cubic-spline
    interpolant; where they differ by more than ``RESOLUTION_RTOL`` the
    curve is upsampled to twice as many segments and optimised again, at
    most ``max_refine`` times.  On a level that may still be refined, the
    comparison is made first at the loose tolerance ``PROBE_TOL``: a pair
    that is unresolved there is upsampled at once instead of being
    converged tightly on a polyline that is discarded anyway; the others
    are converged to ``tol`` and checked again.  ``max_iter`` is the
    iteration budget of every level (an int, or for the first level one
    budget per pair).
    """
    B = curves.shape[0]
    first = list(max_iter) if isinstance(max_iter, (list, tuple)) else [max_iter] * B
    max_iter = max(first)
    outs: list = [None] * B
    todo, cur = list(range(B)), curves

    def record(g, nit, ok, msg, hist, rows, pairs):
        for j, b in zip(rows, pairs):
            it0, h0 = (outs[b][1], outs[b][4]) if outs[b] is not None else (0, [])
            outs[b] = (g[j], it0 + nit[j], ok[j], msg[j], h0 + hist[j])

    def gaps(g):
        with torch.no_grad():
            Ld = curve_length(metric, g)
        Ls, _ = spline_length_energy(metric, g)
        return ((Ls - Ld).abs() / Ls.clamp_min(1e-300)).tolist()

    for level in range(max_refine + 1):
        up: list[Tensor] = []                 # curves to upsample, one per pair
        nxt: list[int] = []
        # iterations left on this level
        budget = [first[b] for b in todo] if level == 0 else [max_iter] * len(todo)
        if level < max_refine and tol < PROBE_TOL:
            g, nit, ok, msg, hist = _solve_energy(metric, cur, PROBE_TOL, budget)
            record(g, nit, ok, msg, hist, range(len(todo)), todo)
            gap = gaps(g)
            keep = [j for j in range(len(todo)) if gap[j] <= RESOLUTION_RTOL]
            for j in range(len(todo)):
                if gap[j] > RESOLUTION_RTOL:
                    nxt.append(todo[j])
                    up.append(g[j])
            budget = [budget[j] - nit[j] for j in keep]
            cur, todo = g[keep], [todo[j] for j in keep]
        if todo:
            g, nit, ok, msg, hist = _solve_energy(metric, cur, tol, budget)
            record(g, nit, ok, msg, hist, range(len(todo)), todo)
            gap = gaps(g)
            for j, b in enumerate(todo):
                if gap[j] > RESOLUTION_RTOL:
                    if level < max_refine:
                        nxt.append(b)
                        up.append(g[j])
                    else:
                        outs[b] = outs[b][:2] + (False, (
                            f"the polyline with {g.shape[1]} points does not "
                            f"resolve the metric (polyline and spline lengths "
                            f"differ by {gap[j]:.1e}); increase n_points or "
                            "max_refine"), outs[b][4])
        if not nxt:
            break
        todo = nxt
        cur = torch.stack(up)
        cur = _upsample(cur, 2 * (cur.shape[1] - 1) + 1)
    return outs


def _solve_bvp_one(metric, curve, tol, max_nodes, use_jacobian):
    T1, d = curve.shape
    z0 = curve[0].numpy()
    z1 = curve[-1].numpy()
    dtype = curve.dtype
    t = _times(T1)
    c = curve.numpy()
    v = np.gradient(c, t, axis=0, edge_order=2)
    y0 = np.concatenate([c.T, v.T])

    def fun(_, y):
        zz = torch.as_tensor(y[:d].T.copy(), dtype=dtype)
        vv = torch.as_tensor(y[d:].T.copy(), dtype=dtype)
        with torch.no_grad():
            F = metric.evaluate_geodesic_rhs(zz, vv).numpy()
        return np.concatenate([y[d:], F.T])

    def batched_rhs(s: Tensor) -> Tensor:
        return torch.cat([s[:, d:], metric.evaluate_geodesic_rhs(s[:, :d], s[:, d:])], dim=1)

    def fun_jac(_, y):
        # rows are independent: differentiate w.r.t. a common offset
        s = torch.as_tensor(y.T.copy(), dtype=dtype)
        with torch.no_grad():
            J = jacfwd(lambda off: batched_rhs(s + off))(
                torch.zeros(2 * d, dtype=dtype)).numpy()   # (m, 2d, 2d)
        return np.transpose(J, (1, 2, 0))

    def bc(ya, yb):
        return np.concatenate([ya[:d] - z0, yb[:d] - z1])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sol = solve_bvp(fun, bc, t, y0, fun_jac=fun_jac if use_jacobian else None,
                        tol=tol, max_nodes=max_nodes)
    out = torch.as_tensor(sol.sol(t)[:d].T.copy(), dtype=dtype)
    out[0], out[-1] = curve[0], curve[-1]
    return out, int(sol.niter), sol.status == 0, str(sol.message)


def _as_endpoints(Z: object, name: str, dim: int, batched: bool) -> Tensor:
    z = as_float_tensor(Z, name)
    if not batched:
        if z.ndim != 1:
            raise ValueError(f"{name} must be a single point of shape ({dim},), got "
                             f"shape {tuple(z.shape)}; use gm.geodesics for batches.")
        if z.shape[0] != dim:
            raise ValueError(f"{name} has dimension {z.shape[0]} but the metric "
                             f"expects {dim}.")
        z = z[None]
    return check_points(check_finite(z, name), name, dim=dim)


def _use_multistart(multistart, method, init, graph_points, d):
    """Whether to solve from several starts (see the module docstring)."""
    if multistart is None:
        return (method == "energy" and init is None
                and (graph_points is not None or d <= MULTISTART_MAX_DIM))
    if not isinstance(multistart, bool):
        raise TypeError(f"multistart must be True, False or None, got "
                        f"{multistart!r}.")
    if multistart and (method != "energy" or init is not None):
        raise ValueError("multistart=True needs method='energy' and no init.")
    if multistart and graph_points is None and d > MULTISTART_MAX_DIM:
        raise ValueError(
            f"multistart=True in latent dimension {d} > {MULTISTART_MAX_DIM} "
            "needs graph_points (latent codes to build the graph on): an "
            "automatic grid would be too large.")
    return multistart


def _graph_starts(metric, Z0, Z1, n_points, graph_points, n_neighbors):
    """Graph-path starts ``(B, n_points, d)``, their kind, and per pair the
    distance from the segment below which a start counts as the line.

    The automatic grid is built around each pair separately, so that a
    batch gives exactly the results of solving its pairs one at a time.
    """
    B, d = Z0.shape
    if graph_points is not None:
        paths = graph_shortest_paths(graph_points, Z0, Z1, metric, n_neighbors)
        spacing = torch.zeros(B, dtype=Z0.dtype)
        kind = "graph"
    else:
        per_dim, paths, spacing, kind = GRID_PER_DIM[d], [], [], "grid"
        for z0, z1 in zip(Z0, Z1):
            grid = latent_grid(torch.stack([z0, z1]), per_dim)
            paths += graph_shortest_paths(grid, z0[None], z1[None], metric,
                                          3 ** d - 1, edge_steps=1)
            spacing.append((grid[:, 0].max() - grid[:, 0].min()) / (per_dim - 1))
        spacing = torch.stack(spacing)
    curves = torch.stack([_resample_linear(p, n_points, True) for p in paths])
    return curves, kind, spacing


def _distance_from_segment(curves: Tensor, Z0: Tensor, Z1: Tensor) -> Tensor:
    """Largest Euclidean distance of each curve ``(B, m, d)`` from the
    segment between its endpoints, shape ``(B,)``."""
    u = (Z1 - Z0)[:, None, :]
    rel = curves - Z0[:, None, :]
    t = ((rel * u).sum(-1, keepdim=True)
         / (u * u).sum(-1, keepdim=True).clamp_min(1e-300)).clamp(0.0, 1.0)
    return (rel - t * u).norm(dim=-1).amax(dim=1)


def _best_of_starts(metric, lines, Z0, Z1, n_points, graph_points, n_neighbors,
                    tol, max_iter):
    """Minimise the line and graph starts of every pair together to the
    loose tolerance ``PROBE_TOL``; keep the shorter curve of each pair.

    A grid path that stays within one grid spacing of the segment is the
    straight line at the grid's resolution and is not solved again.  Returns
    the kept curves ``(B, n_points, d)``, their iterations, energy histories
    and start kinds.  A graph start that runs into a singular metric makes
    the whole batch fall back to the straight lines; a disconnected graph
    over the user's ``graph_points`` raises.
    """
    B = lines.shape[0]
    none = (lines, [0] * B, [[] for _ in range(B)], ["line"] * B)
    if graph_points is not None:      # the user's graph: its errors are raised
        graph, kind, spacing = _graph_starts(metric, Z0, Z1, n_points,
                                             graph_points, n_neighbors)
    try:
        if graph_points is None:
            graph, kind, spacing = _graph_starts(metric, Z0, Z1, n_points, None,
                                                 n_neighbors)
        far = (_distance_from_segment(graph, Z0, Z1) > spacing).nonzero()[:, 0]
        if far.numel() == 0:
            return none
        graph = graph[far]
        _check_path_pd(metric, graph, "the graph start")
        starts = torch.cat([lines, _constant_speed(metric, graph)])
        g, nit, _, _, hist, _ = _minimise_energy(
            metric, starts, max(tol, PROBE_TOL), max_iter)
        _check_path_pd(metric, g, "the optimised starts")
    except ValueError:
        return none
    L = spline_length_energy(metric, g)[0]
    rows = list(range(B))                     # the row of g kept for each pair
    for k, b in enumerate(far.tolist()):
        if L[B + k] < L[b]:
            rows[b] = B + k
    return (g[rows], [nit[r] for r in rows], [hist[r] for r in rows],
            [kind if r >= B else "line" for r in rows])


def _working_precision(metric, Z0, Z1, tol):
    """The metric to solve with, its dtype and the tolerance to use."""
    m64 = float64_metric(metric, torch.cat([Z0, Z1]).detach())
    if m64 is not None:
        return m64, torch.float64, tol
    dtype = Z0.dtype
    floor = SQRT_EPS_TOL * math.sqrt(torch.finfo(dtype).eps)
    return metric, dtype, max(tol, floor)


@dataclass(frozen=True)
class SolveOptions:
    """The options of :func:`geodesic` and :func:`geodesics`, with their defaults.

    One place for the defaults; the entry points check the values
    (:meth:`checked`) and hand the object to the solver.
    """

    method: str = "energy"
    n_points: int = 65
    init: Tensor | None = None
    graph_points: Tensor | None = None
    n_neighbors: int = 10
    tol: float | None = None
    max_iter: int = 1000
    bvp_jacobian: bool = True
    max_nodes: int = 5000
    max_refine: int = 2
    multistart: bool | None = None

    def checked(self) -> SolveOptions:
        """These options validated, with integer counts and a default tol."""
        _check_options(self.method, self.n_points, self.tol, self.max_iter,
                       self.n_neighbors)
        return replace(self, n_points=int(self.n_points),
                       max_refine=int(self.max_refine),
                       tol=1e-6 if self.tol is None else self.tol)


class Solved(NamedTuple):
    """What a solver returns for one pair, before lengths are measured."""

    curve: Tensor
    iterations: int
    converged: bool
    message: str
    history: list


def _solve(metric: Metric, Z0: Tensor, Z1: Tensor,
           opts: SolveOptions) -> list[GeodesicResult]:
    t_start = time.perf_counter()
    method, n_points, init = opts.method, opts.n_points, opts.init
    graph_points, n_neighbors, tol = opts.graph_points, opts.n_neighbors, opts.tol
    max_iter = opts.max_iter
    ends = (Z0, Z1)
    d = Z0.shape[1]
    several = _use_multistart(opts.multistart, method, init, graph_points, d)
    metric, work, tol = _working_precision(metric, Z0, Z1, tol)
    Z0, Z1 = Z0.to(work), Z1.to(work)
    # a plain call first: a metric that fails says so here
    with torch.no_grad():
        metric.metric_tensor(torch.cat([Z0, Z1]))
    if graph_points is not None:
        graph_points = check_points(as_float_tensor(graph_points, "graph_points"),
                                    "graph_points", dim=d).to(work)
    if init is not None:
        init = check_curve(init, d, "init").to(work)
    curves = _initial_curves(metric, Z0, Z1, n_points, init,
                             None if several else graph_points, n_neighbors)
    _check_path_pd(metric, curves, "the initial path")
    B = Z0.shape[0]
    kinds = ["init" if init is not None else
             "graph" if graph_points is not None else "line"] * B
    if method == "energy":
        curves = _constant_speed(metric, curves)
        pre_it, pre_hist = [0] * B, [[] for _ in range(B)]
        if several:
            curves, pre_it, pre_hist, kinds = _best_of_starts(
                metric, curves, Z0, Z1, n_points, graph_points, n_neighbors,
                tol, max_iter)
        left = [max(max_iter - it, 0) for it in pre_it]
        outs = [Solved(c, pre_it[b] + nit, ok, msg, pre_hist[b] + hist)
                for b, (c, nit, ok, msg, hist) in enumerate(
                    _solve_energy_refined(metric, curves, tol, left, opts.max_refine))]
    else:
        outs = [Solved(*_solve_bvp_one(metric, curves[b], tol, opts.max_nodes,
                                       opts.bvp_jacobian), [])
                for b in range(B)]
    L, E, res = [], [], []
    for o in outs:
        g = o.curve[None]
        _check_path_pd(metric, g, "the computed path (the solver ran into a "
                       "region where the metric degenerates, e.g. far from the "
                       "data where a saturating decoder is flat)")
        Lb, Eb = spline_length_energy(metric, g)
        L.append(Lb[0])
        E.append(Eb[0])
        res.append(_ode_residual(metric, g, Eb)[0])
    seconds = (time.perf_counter() - t_start) / B
    bad = [b for b, o in enumerate(outs) if not o.converged]
    if bad:
        which = f"pair {bad[0]}" if B == 1 else f"pairs {bad}"
        warnings.warn(
            f"geodesic solver ({method}) did not converge for {which} of {B}: "
            f"{outs[bad[0]].message}. Increase max_iter, loosen tol, or start from "
            "a better init (e.g. graph_points=latent codes).",
            RuntimeWarning, stacklevel=3,
        )
    results = []
    for b, (c, nit, ok, msg, hist) in enumerate(outs):
        curve = c.detach().to(ends[0].dtype)      # the caller's dtype
        curve[0], curve[-1] = ends[0][b], ends[1][b]
        results.append(GeodesicResult(
            curve=curve, length=float(L[b]), energy=float(E[b]), converged=ok,
            iterations=nit, method=method, message=msg, ode_residual=float(res[b]),
            energy_history=list(hist), seconds=seconds, start=kinds[b],
            solve_dtype=str(work).replace("torch.", ""),
        ))
    return results


def geodesic(
    metric: Metric,
    z0: Tensor,
    z1: Tensor,
    *,
    method: str = "energy",
    n_points: int = 65,
    init: Tensor | None = None,
    graph_points: Tensor | None = None,
    n_neighbors: int = 10,
    tol: float | None = None,
    max_iter: int = 1000,
    bvp_jacobian: bool = True,
    max_nodes: int = 5000,
    max_refine: int = 2,
    multistart: bool | None = None,
) -> GeodesicResult:
    r"""Geodesic between two latent points: the curve of least energy.

    .. math::

        \gamma^\star = \argmin_{\gamma(0) = z_0,\ \gamma(1) = z_1}
        \int_0^1 \dot\gamma^\top M(\gamma)\,\dot\gamma\,dt, \qquad
        \ddot\gamma^\star = F(\gamma^\star, \dot\gamma^\star).

    Parameters
    ----------
    metric : Metric
        Any :class:`~gmtheory.geometry.metrics.Metric`; must be positive definite along
        the path.
    z0, z1 : Tensor, shape (d,)
        Endpoints.
    method : {"energy", "bvp"}, default "energy"
        Discrete energy minimisation (preconditioned L-BFGS) or
        :func:`scipy.integrate.solve_bvp` on the geodesic ODE.
    n_points : int, default 65
        Points of the returned curve (``T = n_points - 1`` segments); for the
        energy method, the points of the optimised polyline.
    init : Tensor, shape (m, d), optional
        Initial curve from ``z0`` to ``z1`` (resampled); default straight line.
    graph_points : Tensor, shape (N, d), optional
        Latent codes; if given, start from the shortest path in their
        ``n_neighbors``-NN graph with Riemannian edge lengths (and, with
        ``multistart``, also from the straight line, keeping the shorter).
    n_neighbors : int, default 10
    tol : float, optional
        Energy: bound on the Newton decrement of the normalised energy,
        :math:`\|L^{-1}\nabla E_T\|/E_T^{(0)}` (default ``1e-6``; the
        remaining relative energy excess is about half its square).
        BVP: ``solve_bvp``'s residual tolerance (default ``1e-6``).
    max_iter : int, default 1000
        L-BFGS iterations (energy method).
    bvp_jacobian : bool, default True
        Give ``solve_bvp`` the exact Jacobian of the ODE (``torch.func``).
    max_nodes : int, default 5000
        Mesh-node limit of ``solve_bvp``.
    max_refine : int, default 2
        Energy method: how many times the number of segments may be doubled
        where the polyline does not resolve the metric (its length and the
        length of its spline interpolant differ by more than 0.1 %); the
        returned curve then has more than ``n_points`` points.
    multistart : bool, optional
        Energy method: also start from the shortest path in a graph (over
        ``graph_points``, else over an automatic grid around the endpoints)
        and keep the shorter result (see the module docstring; the result's
        ``start`` says which won).  Default ``None``: on for
        ``method="energy"`` without ``init`` when ``graph_points`` is given
        or the latent dimension is at most 3; ``False`` starts from ``init``,
        the graph path over ``graph_points`` or the straight line only.

    Returns
    -------
    GeodesicResult
        Computed in float64 (see *Precision* in the module docstring); the
        curve has the endpoints' dtype.

    Raises
    ------
    TypeError
        If ``metric`` is not a Metric or an endpoint is not a float tensor.
    ValueError
        For endpoints of the wrong shape or dimension, NaN endpoints, a bad
        option, a disconnected graph, or a metric that is singular (not
        positive definite) along the path.

    Warns
    -----
    RuntimeWarning
        If the solver stops before meeting ``tol`` (``converged`` is False).

    Notes
    -----
    Derived in the chapter *Geodesics*.

    Examples
    --------
    >>> import torch
    >>> from gmtheory.geometry.metrics import ConstantMetric
    >>> m = ConstantMetric(torch.tensor([[2.0, 0.0], [0.0, 1.0]],
    ...                                 dtype=torch.float64))
    >>> r = geodesic(m, torch.zeros(2, dtype=torch.float64),
    ...              torch.ones(2, dtype=torch.float64))
    >>> round(r.length, 10), r.converged
    (1.7320508076, True)
    """
    check_metric(metric)
    opts = SolveOptions(method, n_points, init, graph_points, n_neighbors, tol,
                        max_iter, bvp_jacobian, max_nodes, max_refine,
                        multistart).checked()
    Z0 = _as_endpoints(z0, "z0", metric.dim, batched=False)
    Z1 = _as_endpoints(z1, "z1", metric.dim, batched=False).to(Z0.dtype)
    if init is not None:
        init = check_curve(init, metric.dim, "init")
        if init.shape[0] != 1:
            raise ValueError(f"init must be one curve (m, d), got {tuple(init.shape)}.")
    return _solve(metric, Z0, Z1, replace(opts, init=init))[0]


def geodesics(
    metric: Metric,
    Z0: Tensor,
    Z1: Tensor,
    **options,
) -> list[GeodesicResult]:
    r"""Geodesics between many endpoint pairs, solved together.

    For ``method="energy"`` all ``B`` curves are stacked into one
    ``(B, T + 1, d)`` tensor and optimised together: each pair keeps its own
    L-BFGS memory, step size and stopping test (the problem is block
    diagonal, so the result is exactly that of ``B`` separate solves), while
    every metric evaluation is one vectorised call for all pairs still
    running.

    .. math::

        \min_{\gamma_1, \dots, \gamma_B}\ \sum_{b=1}^B
        E_T(\gamma_b) / E_T(\gamma_b^{(0)}) .

    ``method="bvp"`` solves the pairs one after another.

    Parameters
    ----------
    metric : Metric
    Z0, Z1 : Tensor, shape (B, d)
    **options
        As for :func:`geodesic`; ``init`` has shape ``(B, m, d)``.

    Returns
    -------
    list of GeodesicResult
        One per pair, with its own ``iterations``, ``converged`` and
        ``message``; ``seconds`` is the wall-clock time per pair.

    Raises
    ------
    ValueError, TypeError
        As for :func:`geodesic`, and if ``Z0`` and ``Z1`` differ in shape.

    Notes
    -----
    Used in the chapter *Geodesics*.

    Examples
    --------
    >>> import torch
    >>> from gmtheory.geometry.metrics import ConstantMetric
    >>> m = ConstantMetric(torch.eye(2, dtype=torch.float64))
    >>> rs = geodesics(m, torch.zeros(2, 2, dtype=torch.float64),
    ...                torch.eye(2, dtype=torch.float64))
    >>> [round(r.length, 10) for r in rs]
    [1.0, 1.0]
    """
    check_metric(metric)
    allowed = {f.name for f in fields(SolveOptions)}
    unknown = set(options) - allowed
    if unknown:
        raise TypeError(f"unknown option(s) {sorted(unknown)}; allowed: {sorted(allowed)}.")
    opts = SolveOptions(**options).checked()
    A = _as_endpoints(Z0, "Z0", metric.dim, batched=True)
    B = _as_endpoints(Z1, "Z1", metric.dim, batched=True).to(A.dtype)
    if A.shape != B.shape:
        raise ValueError(f"Z0 and Z1 must have the same shape (B, d), got "
                         f"{tuple(A.shape)} and {tuple(B.shape)}.")
    return _solve(metric, A, B, opts)
