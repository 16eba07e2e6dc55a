r"""Geodesics by minimising the discrete energy of polylines.

A polyline :math:`\gamma_0 = z_0, \gamma_1, \dots, \gamma_T = z_1` with
fixed endpoints has the discrete energy

.. math::

    E_T(\gamma) = T\sum_{k=0}^{T-1}\Delta_k^\top M(\bar\gamma_k)\Delta_k,
    \qquad \Delta_k = \gamma_{k+1} - \gamma_k,\quad
    \bar\gamma_k = \tfrac12(\gamma_k + \gamma_{k+1}),

(:func:`polyline_energy`).  :func:`minimise_energy` minimises it over the
interior points of a batch of polylines with a per-pair L-BFGS,
preconditioned by the Hessian of the energy with the metric frozen
(:func:`preconditioner`) and driven by exact autograd gradients: only the
metric itself is differentiated, never the geodesic ODE.
:func:`solve_energy_refined` adds the outer loop that doubles the number of
segments of a polyline that does not resolve the metric.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor

from .curve_quadrature import spline_length_energy
from .curve_resampling import upsample
from .curves import segment_squared_speeds
from .geodesic_result import Solved
from .metrics import Metric

__all__ = [
    "PROBE_TOL",
    "RUN_OFF_RATIO",
    "RESOLUTION_RTOL",
    "MinimisedEnergy",
    "minimise_energy",
    "polyline_energy",
    "preconditioner",
    "solve_energy_refined",
    "unresolved_message",
]

#: relative gap between polyline and spline length above which a polyline
#: is considered not to resolve the metric
RESOLUTION_RTOL = 1e-3

#: Newton decrement at which a level that may still be refined is checked
#: for resolution first (relative energy excess about half its square)
PROBE_TOL = 1e-3


def preconditioner(metric: Metric, curves: Tensor, scale: Tensor) -> Tensor:
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

    Parameters
    ----------
    metric : Metric
    curves : Tensor, shape (B, T + 1, d)
        The polylines at which the metric is frozen.
    scale : Tensor, shape (B,)
        The energies :math:`E_0` that normalise each pair.

    Returns
    -------
    Tensor, shape (B, (T - 1) d, (T - 1) d)
        ``P = L^{-T}``.

    Raises
    ------
    ValueError
        If the Hessian is not positive definite even after a relative
        jitter of ``1e-10`` (a singular metric along the path).
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


def polyline_energy(metric: Metric, curves: Tensor) -> Tensor:
    r"""The discrete energy :func:`~gmtheory.geometry.curves.curve_energy`, unchecked.

    .. math::

        E_T = T\sum_{k=0}^{T-1}\Delta_k^\top M(\bar\gamma_k)\Delta_k .

    For the solvers' inner loop: each term comes from
    :meth:`Metric.evaluate_squared_speeds
    <gmtheory.geometry.metrics.Metric.evaluate_squared_speeds>`, which a
    pullback metric computes as :math:`\|J(\bar\gamma_k)\Delta_k\|^2`
    with one Jacobian-vector product per segment (the same number, about
    half the cost of the full Jacobian).  Differentiable in ``curves``.

    Parameters
    ----------
    metric : Metric
    curves : Tensor, shape (B, T + 1, d)

    Returns
    -------
    Tensor, shape (B,)

    Examples
    --------
    >>> import torch
    >>> from gmtheory.geometry.metrics import ConstantMetric
    >>> m = ConstantMetric(torch.eye(2, dtype=torch.float64))
    >>> c = torch.tensor([[[0.0, 0.0], [0.5, 0.0], [1.0, 0.0]]],
    ...                  dtype=torch.float64)
    >>> polyline_energy(m, c).tolist()
    [1.0]
    """
    sq = segment_squared_speeds(metric, curves)
    return sq.shape[1] * sq.sum(1)


def _energy_and_grad(metric: Metric, ends0: Tensor, ends1: Tensor, base: Tensor,
                     P: Tensor, scale: Tensor, c: Tensor
                     ) -> tuple[Tensor, Tensor, Tensor]:
    """Normalised energies ``(k,)``, their gradients in ``c`` and the energies."""
    k, n = c.shape
    d = ends0.shape[-1]
    c = c.detach().requires_grad_(True)
    inner = base + torch.einsum("bij,bj->bi", P, c)
    curve = torch.cat([ends0, inner.reshape(k, n // d, d), ends1], dim=1)
    E = polyline_energy(metric, curve)
    f = E / scale
    (grad,) = torch.autograd.grad(f.sum(), c)
    return f.detach(), grad, E.detach()


class MinimisedEnergy(NamedTuple):
    """What :func:`minimise_energy` returns, one entry per pair.

    Attributes
    ----------
    curves : Tensor, shape (B, T + 1, d)
        The optimised polylines.
    iterations : list of int
    converged : list of bool
        Whether the Newton decrement reached ``tol``.
    messages : list of str
        ``"converged"``, ``"maximum number of iterations reached"`` or
        ``"line search failed (stagnation)"``.
    histories : list of list of float
        Discrete energy after each iteration.
    decrements : list of float
        Final Newton decrement :math:`\\|\\nabla_c E_T\\|/E_T^{(0)}`.
    """

    curves: Tensor
    iterations: list[int]
    converged: list[bool]
    messages: list[str]
    histories: list[list[float]]
    decrements: list[float]


def minimise_energy(metric: Metric, curves: Tensor, tol: float,
                    max_iter: int | Sequence[int], refresh: int = 30,
                    memory: int = 30) -> MinimisedEnergy:
    r"""Per-pair preconditioned L-BFGS on the normalised polyline energies.

    .. math::

        \min_{c_b}\ e_b(c_b) = E_T\big(x_b^{(0)} + P_b c_b\big) / E_T^{(0)},
        \qquad b = 1, \dots, B,

    with :math:`P_b = L_b^{-\top}` from :func:`preconditioner`.  Every pair
    ``b`` has its own L-BFGS memory, its own Armijo backtracking step and its
    own stopping test, so solving a batch is exactly solving the pairs
    separately; only the metric evaluations are shared (one vectorised call
    per step for all pairs still running).  The preconditioner is rebuilt at
    the current curve every ``refresh`` iterations.  A pair stops when its
    Newton decrement :math:`\|\nabla_c e_b\|` is at most ``tol``
    (converged), when it has used ``max_iter`` iterations, or when the line
    search fails (stagnation).

    Parameters
    ----------
    metric : Metric
        Positive definite along the curves.
    curves : Tensor, shape (B, T + 1, d)
        Initial polylines; the endpoints stay fixed.
    tol : float
        Bound on the Newton decrement.
    max_iter : int or sequence of int
        Iteration budget, shared or one per pair.
    refresh : int, default 30
        Iterations between rebuilds of the preconditioner (the L-BFGS
        memory is reset with it).
    memory : int, default 30
        L-BFGS pairs kept; with the default it spans a whole
        preconditioner period (10 pairs needed about 1.4 times as many
        iterations on the digits-VAE benchmark).

    Returns
    -------
    MinimisedEnergy
        Curves, iterations, convergence flags, messages, energy histories
        and final Newton decrements, per pair.

    Raises
    ------
    ValueError
        If the metric is singular along a curve (from
        :func:`preconditioner`).

    See Also
    --------
    solve_energy_refined : this solver with refinement of unresolved
        polylines, as :func:`~gmtheory.geometry.geodesics.geodesic` uses it.
    preconditioner : the change of variables.
    gmtheory.geometry.bvp_solver.solve_geodesic_bvp : the independent route
        through the geodesic ODE.

    Notes
    -----
    Derived in :ref:`geo-algorithm` (the energy from :ref:`pb-energy`, its
    minimisers from :ref:`geo-theory`).  Unlike the boundary-value route it
    differentiates only the energy (by autograd), never the geodesic ODE.

    References
    ----------
    :cite:t:`arvanitidis2018latent` (geodesics of a generator's pullback
    metric); :cite:t:`docarmo1992riemannian` (energy minimisers are
    constant-speed shortest paths).

    Examples
    --------
    >>> import torch
    >>> from gmtheory.geometry.metrics import ConstantMetric
    >>> m = ConstantMetric(torch.eye(2, dtype=torch.float64))
    >>> t = torch.linspace(0, 1, 9, dtype=torch.float64)[:, None]
    >>> bent = torch.cat([t, 0.3 * torch.sin(torch.pi * t)], 1)[None]
    >>> out = minimise_energy(m, bent, 1e-10, 100)
    >>> out.converged, float(out.curves[0, 4, 1].abs()) < 1e-8
    ([True], True)
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
            scale = polyline_energy(metric, gi).clamp_min(1e-300)
        P = preconditioner(metric, gi, scale)
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
    return MinimisedEnergy(g, iters, ok, msgs, histories, resid)


#: a solved polyline whose longest (Euclidean) segment is this many times its
#: median one has run off to where the metric nearly vanishes
RUN_OFF_RATIO = 100.0


def unresolved_message(curve: Tensor, gap: float) -> str:
    r"""Why a polyline that does not resolve the metric failed, for the user.

    A polyline at (near) constant Riemannian speed has Euclidean segments
    inversely proportional to the metric's scale along it.  If its longest
    segment is more than ``RUN_OFF_RATIO`` times its median one, the curve
    has found a region where the metric nearly vanishes -- typically far
    from the data, where a saturating decoder is flat -- and crosses it in a
    few long strides: more points will not resolve that, because the energy
    gets lower the further the curve goes.  Otherwise the metric simply
    varies on a scale finer than the segments.

    Parameters
    ----------
    curve : Tensor, shape (T + 1, d)
        The solved polyline.
    gap : float
        Relative gap between its polyline and spline lengths.

    Returns
    -------
    str
        The result's message.

    Examples
    --------
    >>> import torch
    >>> t = torch.linspace(0, 1, 9)[:, None]
    >>> evenly = torch.cat([t, 0 * t], 1)          # equal segments
    >>> unresolved_message(evenly, 0.01).endswith("increase n_points or max_refine")
    True
    >>> far = torch.cat([evenly, torch.tensor([[500.0, 0.0]])])
    >>> "ran off to |z| = 500" in unresolved_message(far, 0.01)
    True
    """
    msg = (f"the polyline with {curve.shape[0]} points does not resolve the "
           f"metric (polyline and spline lengths differ by {gap:.1e})")
    steps = (curve[1:] - curve[:-1]).norm(dim=-1)
    ratio = float(steps.max() / steps.median().clamp_min(1e-300))
    if ratio <= RUN_OFF_RATIO:
        return msg + "; increase n_points or max_refine"
    k = int(steps.argmax())
    far = curve[[k, k + 1]].norm(dim=-1).max()
    ends = curve[[0, -1]].norm(dim=-1).max()
    return (f"{msg}: the curve ran off to |z| = {float(far):.3g} (its endpoints "
            f"have |z| <= {float(ends):.3g}), where its longest segment is "
            f"{ratio:.3g} times its median one, i.e. where the metric nearly "
            "vanishes. Away from its data a decoder that saturates is flat, "
            "so detours there cost almost nothing and the energy may have no "
            "minimiser; more points do not help. An ExpectedMetric whose "
            "variance grows away from the data makes such detours expensive "
            "(book: Part I, stochastic generators)")


def _solve_energy(metric: Metric, curves: Tensor, tol: float,
                  max_iter: int | Sequence[int]) -> list[Solved]:
    """:func:`minimise_energy` with the decrement in each message."""
    out = minimise_energy(metric, curves, tol, max_iter)
    return [Solved(out.curves[b], out.iterations[b], out.converged[b],
                   f"{m} (Newton decrement {r:.2e}, tol {tol:.1e})",
                   out.histories[b])
            for b, (m, r) in enumerate(zip(out.messages, out.decrements))]


def solve_energy_refined(metric: Metric, curves: Tensor, tol: float,
                         max_iter: int | Sequence[int],
                         max_refine: int) -> list[Solved]:
    r"""Energy minimisation, doubling the points of pairs that are unresolved.

    The midpoint rule of the polyline energy can be fooled by a metric that
    varies on a scale finer than the segments (a thin ridge of large
    :math:`M` between two points costs nothing).  After each solve by
    :func:`minimise_energy` the polyline length :math:`L_T` is compared with
    the length :math:`L_s` of the cubic-spline interpolant; where

    .. math::

        |L_s - L_T| > \mathtt{RESOLUTION\_RTOL}\cdot L_s

    the curve is upsampled to twice as many segments and optimised again, at
    most ``max_refine`` times.  On a level that may still be refined, the
    comparison is made first at the loose tolerance ``PROBE_TOL``: a pair
    that is unresolved there is upsampled at once instead of being
    converged tightly on a polyline that is discarded anyway; the others
    are converged to ``tol`` and checked again.

    Parameters
    ----------
    metric : Metric
        Positive definite along the curves.
    curves : Tensor, shape (B, T + 1, d)
        Initial polylines (best at constant speed,
        :func:`~gmtheory.geometry.curve_resampling.constant_speed`).
    tol : float
        Bound on the Newton decrement (see :func:`minimise_energy`).
    max_iter : int or sequence of int
        Iteration budget of every level (an int, or for the first level one
        budget per pair).
    max_refine : int
        How many times the number of segments may be doubled.

    Returns
    -------
    list of Solved
        One per pair, with the iterations and energy histories of all its
        levels; a pair still unresolved after ``max_refine`` doublings is
        marked not converged with a message that says so.

    Raises
    ------
    ValueError
        If the metric is singular along a curve.

    See Also
    --------
    minimise_energy : one level of this solver.
    gmtheory.geometry.bvp_solver.solve_geodesic_bvp : the route through the
        geodesic ODE.
    gmtheory.geometry.geodesics.geodesic : the entry point that calls it.

    Notes
    -----
    Derived in :ref:`geo-algorithm`; the resolution test compares two
    quadratures of the length of :ref:`pb-length`.

    References
    ----------
    :cite:t:`arvanitidis2018latent`.
    """
    B = curves.shape[0]
    first = list(max_iter) if isinstance(max_iter, (list, tuple)) else [max_iter] * B
    budget_max = max(first)
    outs: list[Solved | None] = [None] * B
    todo, cur = list(range(B)), curves

    def record(solved: list[Solved], pairs: list[int]) -> None:
        for s, b in zip(solved, pairs):
            prev = outs[b]
            if prev is not None:
                s = s._replace(iterations=prev.iterations + s.iterations,
                               history=prev.history + s.history)
            outs[b] = s

    def gaps(g: Tensor) -> list[float]:
        with torch.no_grad():
            Ld = segment_squared_speeds(metric, g).clamp_min(0.0).sqrt().sum(1)
        Ls, _ = spline_length_energy(metric, g)
        return ((Ls - Ld).abs() / Ls.clamp_min(1e-300)).tolist()

    for level in range(max_refine + 1):
        up: list[Tensor] = []                 # curves to upsample, one per pair
        nxt: list[int] = []
        # iterations left on this level
        budget = [first[b] for b in todo] if level == 0 else [budget_max] * len(todo)
        if level < max_refine and tol < PROBE_TOL:
            solved = _solve_energy(metric, cur, PROBE_TOL, budget)
            record(solved, todo)
            g = torch.stack([s.curve for s in solved])
            gap = gaps(g)
            keep = [j for j in range(len(todo)) if gap[j] <= RESOLUTION_RTOL]
            for j in range(len(todo)):
                if gap[j] > RESOLUTION_RTOL:
                    nxt.append(todo[j])
                    up.append(g[j])
            budget = [budget[j] - solved[j].iterations for j in keep]
            cur, todo = g[keep], [todo[j] for j in keep]
        if todo:
            solved = _solve_energy(metric, cur, tol, budget)
            record(solved, todo)
            g = torch.stack([s.curve for s in solved])
            gap = gaps(g)
            for j, b in enumerate(todo):
                if gap[j] > RESOLUTION_RTOL:
                    if level < max_refine:
                        nxt.append(b)
                        up.append(g[j])
                    else:
                        outs[b] = outs[b]._replace(
                            converged=False, message=unresolved_message(g[j], gap[j]))
        if not nxt:
            break
        todo = nxt
        cur = torch.stack(up)
        cur = upsample(cur, 2 * (cur.shape[1] - 1) + 1)
    return outs
