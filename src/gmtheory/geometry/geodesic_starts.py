r"""Initial curves for the geodesic solvers, and the search over several starts.

Both solvers converge to the geodesic nearest their initial curve.  This
module builds those curves -- the straight line, a given curve, or the
shortest path in a nearest-neighbour graph over latent codes
(:func:`~gmtheory.geometry.graphs.graph_shortest_paths`) -- and implements
the default *multistart* of the energy method.

**Global starts.** The energy has local minima (a curve that passes an
obstacle on the wrong side), and the straight-line start can end in one.
By default (``multistart=None``) the energy method therefore starts each
pair twice -- from the straight line and from the shortest path in a graph
(over the codes in ``graph_points`` if given, else over an automatic
regular grid around the endpoints, :func:`~gmtheory.geometry.graphs.latent_grid`,
in latent dimension ``d <= MULTISTART_MAX_DIM``) -- minimises all starts in
one batch to the loose tolerance
:data:`~gmtheory.geometry.energy_solver.PROBE_TOL`, keeps the shorter curve
of each pair and converges only that one to ``tol``
(:func:`best_of_starts`).  A grid path that stays within one grid spacing
of the segment is taken for the straight line and not solved twice.  This
finds the global route whenever the graph resolves it (the grid has
``GRID_PER_DIM`` points per axis on a cube reaching half the endpoints'
spread beyond them); it is not a proof of global optimality.  In higher
dimension pass latent codes as ``graph_points``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from .curve_quadrature import spline_length_energy
from .curve_resampling import constant_speed, resample_linear
from .curves import validate_curve
from .energy_solver import PROBE_TOL, minimise_energy
from .geodesic_options import SolveOptions
from .graphs import graph_shortest_paths, latent_grid
from .metrics import Metric, validate_positive_definite

__all__ = [
    "GRID_PER_DIM",
    "MULTISTART_MAX_DIM",
    "BestStarts",
    "GraphStarts",
    "best_of_starts",
    "validate_path_positive_definite",
    "distance_from_segment",
    "graph_starts",
    "initial_curves",
    "use_multistart",
]

#: automatic graph starts are built in latent dimensions up to this one
MULTISTART_MAX_DIM = 3

#: points per axis of the automatic latent grid, by latent dimension
GRID_PER_DIM = {1: 33, 2: 15, 3: 7}


def validate_path_positive_definite(metric: Metric, curves: Tensor, what: str) -> None:
    """Raise unless the metric is positive definite at the points and
    segment midpoints of polylines.

    Parameters
    ----------
    metric : Metric
    curves : Tensor, shape (B, m, d)
    what : str
        Names the curves in the error message.

    Raises
    ------
    ValueError
        If :math:`M` is singular (not positive definite) at one of the
        points or midpoints
        (:func:`~gmtheory.geometry.metrics.validate_positive_definite`).
    """
    d = curves.shape[2]
    mid = (0.5 * (curves[:, 1:] + curves[:, :-1])).reshape(-1, d).detach()
    pts = torch.cat([curves.reshape(-1, d).detach(), mid])
    with torch.no_grad():
        M = metric.evaluate(pts)
    validate_positive_definite(M, pts, what)


def initial_curves(metric: Metric, Z0: Tensor, Z1: Tensor, opts: SolveOptions,
                   use_graph: bool = True) -> Tensor:
    """Initial curves with exact endpoints, one per pair.

    Parameters
    ----------
    metric : Metric
        Measures the graph edges.
    Z0, Z1 : Tensor, shape (B, d)
        Endpoints.
    opts : SolveOptions
        Uses ``n_points``, ``init`` (shape ``(B, m, d)``, resampled at
        equal times), ``graph_points`` and ``n_neighbors`` (the shortest
        path in the graph, resampled at equal Euclidean arclength); with
        neither, the straight line.
    use_graph : bool, default True
        If False, ignore ``opts.graph_points`` (the multistart uses them
        itself).

    Returns
    -------
    Tensor, shape (B, n_points, d)

    Raises
    ------
    ValueError
        If both ``init`` and ``graph_points`` are given, if ``init`` holds
        the wrong number of curves or does not join the endpoints, or if
        the graph is disconnected.
    """
    B, d = Z0.shape
    n_points, init = opts.n_points, opts.init
    graph_points = opts.graph_points if use_graph else None
    if init is not None and graph_points is not None:
        raise ValueError("give either init or graph_points, not both.")
    if graph_points is not None:
        paths = graph_shortest_paths(graph_points, Z0, Z1, metric, opts.n_neighbors)
        curves = [resample_linear(p.to(Z0.dtype), n_points, True) for p in paths]
        return torch.stack(curves)
    if init is not None:
        g = validate_curve(init, d, "init").to(Z0.dtype)
        if g.shape[0] != B:
            raise ValueError(f"init must hold one curve per endpoint pair: "
                             f"expected {B}, got {g.shape[0]}.")
        if not (torch.allclose(g[:, 0], Z0) and torch.allclose(g[:, -1], Z1)):
            raise ValueError("init must start at z0 and end at z1.")
        curves = [resample_linear(c, n_points, False) for c in g]
        out = torch.stack(curves)
    else:
        t = torch.linspace(0.0, 1.0, n_points, dtype=Z0.dtype)[None, :, None]
        out = (1 - t) * Z0[:, None, :] + t * Z1[:, None, :]
    out[:, 0], out[:, -1] = Z0, Z1
    return out


def use_multistart(opts: SolveOptions, d: int) -> bool:
    """Whether to solve from several starts (see the module docstring).

    Parameters
    ----------
    opts : SolveOptions
        Uses ``multistart``, ``method``, ``init`` and ``graph_points``.
    d : int
        Latent dimension.

    Returns
    -------
    bool
        ``opts.multistart`` if given; for ``None``, True exactly when
        ``method="energy"``, there is no ``init``, and ``graph_points`` are
        given or ``d <= MULTISTART_MAX_DIM``.

    Raises
    ------
    TypeError
        If ``multistart`` is not True, False or None.
    ValueError
        If ``multistart=True`` with ``method="bvp"`` or an ``init``, or in
        dimension ``d > MULTISTART_MAX_DIM`` without ``graph_points``.
    """
    multistart, method = opts.multistart, opts.method
    init, graph_points = opts.init, opts.graph_points
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


class GraphStarts(NamedTuple):
    """Graph-path starts, as :func:`graph_starts` returns them.

    Attributes
    ----------
    curves : Tensor, shape (B, n_points, d)
        The shortest paths, resampled at equal Euclidean arclength.
    kind : str
        ``"graph"`` (over ``graph_points``) or ``"grid"`` (automatic grid).
    spacing : Tensor, shape (B,)
        Per pair, the distance from the segment below which a start counts
        as the straight line (the grid spacing; zero for ``"graph"``).
    """

    curves: Tensor
    kind: str
    spacing: Tensor


def graph_starts(metric: Metric, Z0: Tensor, Z1: Tensor, n_points: int,
                 graph_points: Tensor | None, n_neighbors: int) -> GraphStarts:
    """Shortest graph paths between the endpoints, one per pair.

    Over the ``n_neighbors``-NN graph of ``graph_points`` if given, else
    over an automatic regular grid with ``GRID_PER_DIM[d]`` points per axis
    around each pair (:func:`~gmtheory.geometry.graphs.latent_grid`, all
    :math:`3^d - 1` grid neighbours, edges measured by the metric).  The
    grid is built around each pair separately, so that a batch gives
    exactly the results of solving its pairs one at a time.

    Parameters
    ----------
    metric : Metric
    Z0, Z1 : Tensor, shape (B, d)
    n_points : int
    graph_points : Tensor, shape (N, d), optional
    n_neighbors : int

    Returns
    -------
    GraphStarts

    Raises
    ------
    ValueError
        If the graph is disconnected or the metric singular on an edge.
    """
    B, d = Z0.shape
    if graph_points is not None:
        paths = graph_shortest_paths(graph_points, Z0, Z1, metric, n_neighbors)
        spacing = torch.zeros(B, dtype=Z0.dtype)
        kind = "graph"
    else:
        per_dim, paths, gaps, kind = GRID_PER_DIM[d], [], [], "grid"
        for z0, z1 in zip(Z0, Z1):
            grid = latent_grid(torch.stack([z0, z1]), per_dim)
            paths += graph_shortest_paths(grid, z0[None], z1[None], metric,
                                          3 ** d - 1, edge_steps=1)
            gaps.append((grid[:, 0].max() - grid[:, 0].min()) / (per_dim - 1))
        spacing = torch.stack(gaps)
    curves = torch.stack([resample_linear(p, n_points, True) for p in paths])
    return GraphStarts(curves, kind, spacing)


def distance_from_segment(curves: Tensor, Z0: Tensor, Z1: Tensor) -> Tensor:
    r"""Largest Euclidean distance of each curve from the segment between
    its endpoints.

    .. math::

        \max_k \min_{s\in[0,1]} \|\gamma_k - (z_0 + s(z_1 - z_0))\| .

    Parameters
    ----------
    curves : Tensor, shape (B, m, d)
    Z0, Z1 : Tensor, shape (B, d)

    Returns
    -------
    Tensor, shape (B,)

    Examples
    --------
    >>> import torch
    >>> c = torch.tensor([[[0.0, 0.0], [0.5, 0.2], [1.0, 0.0]]])
    >>> round(float(distance_from_segment(c, c[:, 0], c[:, -1])[0]), 6)
    0.2
    """
    u = (Z1 - Z0)[:, None, :]
    rel = curves - Z0[:, None, :]
    t = ((rel * u).sum(-1, keepdim=True)
         / (u * u).sum(-1, keepdim=True).clamp_min(1e-300)).clamp(0.0, 1.0)
    return (rel - t * u).norm(dim=-1).amax(dim=1)


class BestStarts(NamedTuple):
    """The start kept for each pair by :func:`best_of_starts`.

    Attributes
    ----------
    curves : Tensor, shape (B, n_points, d)
        The kept curves, minimised to the probe tolerance.
    iterations : list of int
        Iterations spent on the kept curve.
    histories : list of list of float
        Its energy history.
    kinds : list of str
        ``"line"``, ``"graph"`` or ``"grid"``.
    """

    curves: Tensor
    iterations: list[int]
    histories: list[list[float]]
    kinds: list[str]


def best_of_starts(metric: Metric, lines: Tensor, Z0: Tensor, Z1: Tensor,
                   opts: SolveOptions) -> BestStarts:
    r"""Minimise the line and graph starts of every pair together; keep the
    shorter curve of each pair.

    The graph starts (:func:`graph_starts`) are reparametrised to constant
    speed and minimised with the lines in one batch by
    :func:`~gmtheory.geometry.energy_solver.minimise_energy` to the loose
    tolerance ``max(tol, PROBE_TOL)``; each pair keeps the curve of smaller
    spline length (:func:`~gmtheory.geometry.curve_quadrature.spline_length_energy`).
    A grid path that stays within one grid spacing of the segment is the
    straight line at the grid's resolution and is not solved again.

    Parameters
    ----------
    metric : Metric
    lines : Tensor, shape (B, n_points, d)
        The straight-line starts, at constant speed.
    Z0, Z1 : Tensor, shape (B, d)
    opts : SolveOptions
        Uses ``n_points``, ``graph_points``, ``n_neighbors``, ``tol`` and
        ``max_iter``.

    Returns
    -------
    BestStarts
        If no graph start leaves the segment, or a graph start runs into a
        singular metric, the straight lines unchanged with no iterations.

    Raises
    ------
    ValueError
        If the graph over the user's ``graph_points`` is disconnected.
    """
    B = lines.shape[0]
    none = BestStarts(lines, [0] * B, [[] for _ in range(B)], ["line"] * B)
    if opts.graph_points is not None:   # the user's graph: its errors are raised
        starts = graph_starts(metric, Z0, Z1, opts.n_points, opts.graph_points,
                              opts.n_neighbors)
    try:
        if opts.graph_points is None:
            starts = graph_starts(metric, Z0, Z1, opts.n_points, None,
                                  opts.n_neighbors)
        far = (distance_from_segment(starts.curves, Z0, Z1)
               > starts.spacing).nonzero()[:, 0]
        if far.numel() == 0:
            return none
        graph = starts.curves[far]
        validate_path_positive_definite(metric, graph, "the graph start")
        both = torch.cat([lines, constant_speed(metric, graph)])
        out = minimise_energy(metric, both, max(opts.tol, PROBE_TOL), opts.max_iter)
        validate_path_positive_definite(metric, out.curves, "the optimised starts")
    except ValueError:
        return none
    L = spline_length_energy(metric, out.curves)[0]
    rows = list(range(B))             # the row of out.curves kept for each pair
    for k, b in enumerate(far.tolist()):
        if L[B + k] < L[b]:
            rows[b] = B + k
    return BestStarts(out.curves[rows], [out.iterations[r] for r in rows],
                      [out.histories[r] for r in rows],
                      [starts.kind if r >= B else "line" for r in rows])
