r"""Geodesic solvers: boundary-value problem and discrete energy minimisation.

Two independent routes to the curve of least energy between two latent
points under a :class:`~gmtheory.geometry.metrics.Metric`:

``method="energy"``
    Minimise the discrete energy of a polyline with fixed endpoints,

    .. math::

        E_T(\gamma) = T\sum_{k=0}^{T-1}\Delta_k^\top M(\bar\gamma_k)\Delta_k,

    over its interior points with L-BFGS and exact autograd gradients,
    preconditioned by the Hessian of the energy with the metric frozen
    (:mod:`~gmtheory.geometry.energy_solver`).  Only the metric itself is
    differentiated, never the geodesic ODE.

``method="bvp"``
    Solve the two-point boundary-value problem
    :math:`\ddot\gamma = F(\gamma, \dot\gamma)`, :math:`\gamma(0) = z_0`,
    :math:`\gamma(1) = z_1` with :func:`scipy.integrate.solve_bvp` (collocation),
    :math:`F` from :func:`~gmtheory.geometry.geodesic_ode.geodesic_rhs` and its exact
    Jacobian from ``torch.func`` (:mod:`~gmtheory.geometry.bvp_solver`).

Either can start from the straight line, from a given curve, or from a
shortest path in a nearest-neighbour graph on latent codes
(:func:`~gmtheory.geometry.graphs.graph_shortest_path`; the starts are built
in :mod:`~gmtheory.geometry.geodesic_starts`).

**Global starts.** The energy has local minima (a curve that passes an
obstacle on the wrong side), and the straight-line start can end in one.
By default (``multistart=None``) the energy method therefore starts each
pair twice -- from the straight line and from the shortest path in a graph
(over the codes in ``graph_points`` if given, else over an automatic
regular grid around the endpoints, :func:`~gmtheory.geometry.graphs.latent_grid`,
in latent dimension ``d <= 3``) -- minimises all starts in one batch to the
loose tolerance ``PROBE_TOL``, keeps the shorter curve of each pair and
converges only that one to ``tol`` (the result's ``start`` says which
won).  A grid path that stays within one grid
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
to what that dtype resolves (``SQRT_EPS_TOL`` times :math:`\sqrt{\epsilon}`,
:func:`~gmtheory.geometry.precision.working_precision`).
The result records the dtype of the solve and the curve has the caller's
dtype.  The length and energy of the
result are evaluated on a cubic-spline interpolant of the curve with
Gauss--Legendre quadrature, which is far more accurate than the polyline
sums: the length is stationary at a geodesic, so the :math:`O(T^{-2})`
position error of the discrete minimiser costs only :math:`O(T^{-4})` in
length (:mod:`~gmtheory.geometry.curve_quadrature`).

The pieces live in modules of their own: the result type
(:mod:`~gmtheory.geometry.geodesic_result`), the options
(:mod:`~gmtheory.geometry.geodesic_options`), resampling
(:mod:`~gmtheory.geometry.curve_resampling`), spline quadrature
(:mod:`~gmtheory.geometry.curve_quadrature`), initial curves and the
multistart (:mod:`~gmtheory.geometry.geodesic_starts`), the two solvers
(:mod:`~gmtheory.geometry.energy_solver`,
:mod:`~gmtheory.geometry.bvp_solver`) and the working precision
(:mod:`~gmtheory.geometry.precision`).  This module holds the two entry
points and re-exports the public names of the others.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import fields, replace
from typing import Any

import torch
from torch import Tensor

from ..validation import as_float_tensor, validate_finite, validate_points
from .bvp_solver import solve_geodesic_bvp
from .curve_quadrature import spline_length_energy, spline_ode_residual
from .curve_resampling import constant_speed
from .curves import validate_curve
from .energy_solver import PROBE_TOL as PROBE_TOL
from .energy_solver import RESOLUTION_RTOL as RESOLUTION_RTOL
from .energy_solver import solve_energy_refined
from .geodesic_options import METHODS as METHODS
from .geodesic_options import SolveOptions
from .geodesic_result import GeodesicResult
from .geodesic_result import Solved as Solved
from .geodesic_starts import GRID_PER_DIM as GRID_PER_DIM
from .geodesic_starts import MULTISTART_MAX_DIM as MULTISTART_MAX_DIM
from .geodesic_starts import (
    best_of_starts,
    initial_curves,
    use_multistart,
    validate_path_positive_definite,
)
from .metrics import Metric, validate_metric
from .precision import SQRT_EPS_TOL as SQRT_EPS_TOL
from .precision import working_precision

__all__ = ["GeodesicResult", "geodesic", "geodesics", "spline_length_energy"]


def _as_endpoints(Z: object, name: str, dim: int, batched: bool) -> Tensor:
    """Endpoints as a checked float tensor of shape ``(B, dim)``."""
    z = as_float_tensor(Z, name)
    if not batched:
        if z.ndim != 1:
            raise ValueError(f"{name} must be a single point of shape ({dim},), got "
                             f"shape {tuple(z.shape)}; use gm.geodesics for batches.")
        if z.shape[0] != dim:
            raise ValueError(f"{name} has dimension {z.shape[0]} but the metric "
                             f"expects {dim}.")
        z = z[None]
    return validate_points(validate_finite(z, name), name, dim=dim)


def _solve(metric: Metric, Z0: Tensor, Z1: Tensor,
           opts: SolveOptions) -> list[GeodesicResult]:
    """Solve checked pairs ``(B, d)`` with checked options; measure the curves."""
    t_start = time.perf_counter()
    ends = (Z0, Z1)
    d = Z0.shape[1]
    several = use_multistart(opts, d)
    metric, work, tol = working_precision(metric, Z0, Z1, opts.tol)
    Z0, Z1 = Z0.to(work), Z1.to(work)
    # a plain call first: a metric that fails says so here
    with torch.no_grad():
        metric.metric_tensor(torch.cat([Z0, Z1]))
    graph_points, init = opts.graph_points, opts.init
    if graph_points is not None:
        graph_points = validate_points(as_float_tensor(graph_points, "graph_points"),
                                    "graph_points", dim=d).to(work)
    if init is not None:
        init = validate_curve(init, d, "init").to(work)
    opts = replace(opts, tol=tol, graph_points=graph_points, init=init)
    curves = initial_curves(metric, Z0, Z1, opts, use_graph=not several)
    validate_path_positive_definite(metric, curves, "the initial path")
    B = Z0.shape[0]
    kinds = ["init" if init is not None else
             "graph" if graph_points is not None else "line"] * B
    if opts.method == "energy":
        curves = constant_speed(metric, curves)
        pre_it, pre_hist = [0] * B, [[] for _ in range(B)]
        if several:
            best = best_of_starts(metric, curves, Z0, Z1, opts)
            curves, pre_it, pre_hist, kinds = (best.curves, best.iterations,
                                               best.histories, best.kinds)
        left = [max(opts.max_iter - it, 0) for it in pre_it]
        outs = [o._replace(iterations=pre_it[b] + o.iterations,
                           history=pre_hist[b] + o.history)
                for b, o in enumerate(solve_energy_refined(
                    metric, curves, tol, left, opts.max_refine))]
    else:
        outs = [solve_geodesic_bvp(metric, curves[b], tol, opts.max_nodes,
                                   opts.bvp_jacobian)
                for b in range(B)]
    L, E, res = [], [], []
    for o in outs:
        g = o.curve[None]
        validate_path_positive_definite(
            metric, g, "the computed path (the solver ran into a region where "
            "the metric degenerates, e.g. far from the data where a saturating "
            "decoder is flat)")
        Lb, Eb = spline_length_energy(metric, g)
        L.append(Lb[0])
        E.append(Eb[0])
        res.append(spline_ode_residual(metric, g, Eb)[0])
    seconds = (time.perf_counter() - t_start) / B
    bad = [b for b, o in enumerate(outs) if not o.converged]
    if bad:
        which = f"pair {bad[0]}" if B == 1 else f"pairs {bad}"
        message = outs[bad[0]].message
        # an unresolved polyline's message carries its own advice
        advice = ("" if "does not resolve" in message else
                  " Increase max_iter, loosen tol, or start from a better init "
                  "(e.g. graph_points=latent codes).")
        warnings.warn(
            f"geodesic solver ({opts.method}) did not converge for {which} of "
            f"{B}: {message}.{advice}",
            RuntimeWarning, stacklevel=3,
        )
    results = []
    for b, o in enumerate(outs):
        curve = o.curve.detach().to(ends[0].dtype)      # the caller's dtype
        curve[0], curve[-1] = ends[0][b], ends[1][b]
        results.append(GeodesicResult(
            curve=curve, length=float(L[b]), energy=float(E[b]), converged=o.converged,
            iterations=o.iterations, method=opts.method, message=o.message,
            ode_residual=float(res[b]), energy_history=list(o.history),
            seconds=seconds, start=kinds[b],
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
        and keep the shorter result (see the module docstring and
        ``gmtheory.geometry.geodesic_starts``; the result's ``start``
        says which won).  Default ``None``: on for
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

    See Also
    --------
    geodesics : many pairs in one batch.
    gmtheory.spline_length_energy : how the result's length and energy
        are measured.

    Notes
    -----
    The stages live in ``gmtheory.geometry.energy_solver``
    (``solve_energy_refined``, the energy method),
    ``gmtheory.geometry.bvp_solver`` (``solve_geodesic_bvp``, the BVP method)
    and ``gmtheory.geometry.geodesic_starts`` (``best_of_starts``, the
    multistart).
    Derived in :ref:`geo-theory` (energy minimisers are constant-speed
    shortest paths), :ref:`geo-ode` (the geodesic equation) and
    :ref:`geo-algorithm` (the two solvers); applied to a VAE in
    :ref:`geo-vae`.  Both methods converge to a geodesic near their start,
    which need not be a shortest path: the multistart makes the energy
    method find the global route whenever the graph resolves it, without
    proving global optimality.

    References
    ----------
    :cite:t:`arvanitidis2018latent` (geodesics under the pullback metric of
    a generator); :cite:t:`docarmo1992riemannian` (the geodesic equation).

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
    validate_metric(metric)
    opts = SolveOptions(
        method=method, n_points=n_points, init=init, graph_points=graph_points,
        n_neighbors=n_neighbors, tol=tol, max_iter=max_iter,
        bvp_jacobian=bvp_jacobian, max_nodes=max_nodes, max_refine=max_refine,
        multistart=multistart).checked()
    Z0 = _as_endpoints(z0, "z0", metric.dim, batched=False)
    Z1 = _as_endpoints(z1, "z1", metric.dim, batched=False).to(Z0.dtype)
    if init is not None:
        init = validate_curve(init, metric.dim, "init")
        if init.shape[0] != 1:
            raise ValueError(f"init must be one curve (m, d), got {tuple(init.shape)}.")
    return _solve(metric, Z0, Z1, replace(opts, init=init))[0]


def geodesics(
    metric: Metric,
    Z0: Tensor,
    Z1: Tensor,
    **options: Any,
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

    See Also
    --------
    geodesic : one pair, with the options documented.

    Notes
    -----
    The batched L-BFGS is ``gmtheory.geometry.energy_solver.minimise_energy``.
    Derived in :ref:`geo-algorithm`; used in :ref:`geo-vae`.

    References
    ----------
    :cite:t:`arvanitidis2018latent`.

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
    validate_metric(metric)
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
