r"""Shortest paths in a nearest-neighbour graph on latent codes.

A discrete stand-in for a geodesic: connect every latent code to its
``k`` nearest neighbours, weight each edge by its Riemannian length
(or its Euclidean length), and run Dijkstra.  The path is a good
*initialisation* for a geodesic solver because it follows the data, so it
starts the solver near the global minimiser rather than near the straight
line.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra
from torch import Tensor

from ..validation import validate_finite, validate_points, validate_positive_int
from .curves import curve_length, segment_squared_speeds
from .metrics import Metric

__all__ = ["graph_shortest_path", "graph_shortest_paths", "latent_grid"]


def _edge_lengths(metric: Metric | None, a: Tensor, b: Tensor, steps: int = 4) -> Tensor:
    """Lengths of the straight segments ``a[e] -> b[e]``, shape ``(E,)``.

    A metric that is positive semi-definite by construction (a pullback,
    say) is checked at one point and then evaluated through its squared
    speeds (:func:`~gmtheory.geometry.curves.segment_squared_speeds`: one
    Jacobian-vector product per sub-segment instead of the full Jacobian);
    any other metric through :func:`~gmtheory.geometry.curves.curve_length`,
    which checks the tensor at every point.
    """
    if metric is None:
        return (b - a).norm(dim=1)
    t = torch.linspace(0.0, 1.0, steps + 1, dtype=a.dtype)[None, :, None]
    curves = (1 - t) * a[:, None, :] + t * b[:, None, :]
    if not metric.psd_by_construction:
        return curve_length(metric, curves)
    metric.metric_tensor(a[:1])       # validates the maps and the values once
    sq = validate_finite(segment_squared_speeds(metric, curves),
                      "the squared Riemannian lengths of the graph edges")
    return sq.clamp_min(0.0).sqrt().sum(1)


def validate_optional_metric(metric: object) -> None:
    """Raise ``TypeError`` unless ``metric`` is a :class:`Metric` or None."""
    if metric is not None and not isinstance(metric, Metric):
        raise TypeError(f"metric must be a gmtheory Metric or None, got "
                        f"{type(metric).__name__}.")


def knn_graph(V: Tensor, metric: Metric | None, k: int,
               steps: int = 4) -> csr_matrix:
    """Symmetrised ``k``-nearest-neighbour graph on the rows of ``V`` (n, d).

    Returns the sparse ``(n, n)`` matrix of edge weights: the lengths of the
    straight segments (:func:`_edge_lengths`), floored at 1e-300 so that an
    edge between coincident points is kept.
    """
    n = V.shape[0]
    X = V.detach().numpy()
    from sklearn.neighbors import NearestNeighbors  # heavy: load on use

    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    rows = np.repeat(np.arange(n), k)
    cols = idx[:, 1:].reshape(-1)
    keep = rows != cols
    # each undirected edge once (i < j): its length is measured once
    pairs = np.unique(np.sort(np.stack([rows[keep], cols[keep]], 1), axis=1), axis=0)
    rows, cols = pairs[:, 0], pairs[:, 1]
    with torch.no_grad():
        w = _edge_lengths(metric, V[rows], V[cols], steps).numpy()
    w = np.maximum(w, 1e-300)  # coincident points: keep the edge
    W = coo_matrix((w, (rows, cols)), shape=(n, n)).tocsr()
    return W + W.T


def graph_shortest_paths(
    points: Tensor,
    Z0: Tensor,
    Z1: Tensor,
    metric: Metric | None = None,
    n_neighbors: int = 10,
    edge_steps: int = 4,
) -> list[Tensor]:
    r"""Shortest paths between many endpoint pairs in one kNN graph.

    The graph has the rows of ``points`` and all endpoints as vertices; each
    vertex is joined to its ``n_neighbors`` Euclidean nearest neighbours
    (symmetrised), with edge weight the Riemannian length of the straight
    segment if ``metric`` is given, else its Euclidean length.

    Parameters
    ----------
    points : Tensor, shape (N, d)
    Z0, Z1 : Tensor, shape (B, d)
    metric : Metric, optional
    n_neighbors : int
    edge_steps : int, default 4
        Sub-segments per edge for its Riemannian length (midpoint rule on
        each); 1 is the cheapest, enough for short edges.

    Returns
    -------
    list of Tensor, each of shape (T_b + 1, d)
        Vertex sequences from ``Z0[b]`` to ``Z1[b]``.

    Raises
    ------
    ValueError
        If an endpoint is unreachable (the graph is disconnected), or for bad
        shapes / non-finite values / a bad ``n_neighbors``.

    Notes
    -----
    Used in :ref:`geo-edrd`.
    """
    validate_optional_metric(metric)
    P = validate_points(points, "points")
    d = P.shape[1]
    if metric is not None and metric.dim != d:
        raise ValueError(f"points have dimension {d} but the metric expects "
                         f"{metric.dim}.")
    Z0 = validate_points(Z0, "z0", dim=d).to(P.dtype)
    Z1 = validate_points(Z1, "z1", dim=d).to(P.dtype)
    if Z0.shape != Z1.shape:
        raise ValueError(f"z0 and z1 must have the same shape, got "
                         f"{tuple(Z0.shape)} and {tuple(Z1.shape)}.")
    n_neighbors = validate_positive_int(n_neighbors, "n_neighbors")
    edge_steps = validate_positive_int(edge_steps, "edge_steps")
    B = Z0.shape[0]
    V = torch.cat([P, Z0, Z1])
    k = min(n_neighbors, V.shape[0] - 1)
    W = knn_graph(V, metric, k, edge_steps)
    src = np.arange(P.shape[0], P.shape[0] + B)
    dst = src + B
    usrc, inv = np.unique(src, return_inverse=True)
    dist, pred = dijkstra(W, directed=False, indices=usrc, return_predecessors=True)
    paths = []
    for b in range(B):
        row = inv[b]
        if not np.isfinite(dist[row, dst[b]]):
            raise ValueError(
                f"pair {b}: the endpoint z1 = {Z1[b].tolist()} is unreachable "
                f"from z0 = {Z0[b].tolist()} in the {k}-nearest-neighbour graph "
                "(the graph is disconnected); increase n_neighbors or add "
                "points between the two."
            )
        seq = [dst[b]]
        while seq[-1] != src[b]:
            seq.append(pred[row, seq[-1]])
        paths.append(V[np.asarray(seq[::-1])].clone())
    return paths


def graph_shortest_path(
    points: Tensor,
    z0: Tensor,
    z1: Tensor,
    metric: Metric | None = None,
    n_neighbors: int = 10,
) -> Tensor:
    r"""Shortest path from ``z0`` to ``z1`` through a kNN graph on ``points``.

    .. math::

        \min_{z_0 = v_0, v_1, \dots, v_m = z_1}\;
        \sum_{k} \ell(v_k, v_{k+1}), \qquad
        \ell(a, b) = \int_0^1 \|b - a\|_{M((1-t)a + tb)}\,dt,

    over paths along edges of the symmetrised ``n_neighbors``-nearest
    neighbour graph (Dijkstra); :math:`\ell` is the Euclidean length when
    ``metric`` is ``None``.  Works in any latent dimension.

    Parameters
    ----------
    points : Tensor, shape (N, d)
        Latent codes (e.g. encoder means of the training data).
    z0, z1 : Tensor, shape (d,)
    metric : Metric, optional
    n_neighbors : int, default 10

    Returns
    -------
    Tensor, shape (T + 1, d)
        The path, from ``z0`` to ``z1``.

    Raises
    ------
    ValueError
        If ``z1`` cannot be reached from ``z0``, or for invalid inputs.

    Notes
    -----
    Used in :ref:`geo-vae` to initialise the solvers.

    Examples
    --------
    >>> import torch
    >>> pts = torch.tensor([[1.0, 0.0], [2.0, 0.0]])
    >>> graph_shortest_path(pts, torch.zeros(2), torch.tensor([3.0, 0.0]),
    ...                     n_neighbors=1)
    tensor([[0., 0.],
            [1., 0.],
            [2., 0.],
            [3., 0.]])
    """
    z0 = torch.as_tensor(z0) if not isinstance(z0, Tensor) else z0
    z1 = torch.as_tensor(z1) if not isinstance(z1, Tensor) else z1
    if z0.ndim != 1 or z1.ndim != 1:
        raise ValueError(f"z0 and z1 must be single points of shape (d,), got "
                         f"{tuple(z0.shape)} and {tuple(z1.shape)}.")
    return graph_shortest_paths(points, z0[None], z1[None], metric, n_neighbors)[0]


def latent_grid(points: Tensor, per_dim: int, margin: float = 0.5) -> Tensor:
    r"""A regular grid on a cube around ``points``, for graph starts.

    The cube is centred on the bounding box of ``points`` and has half-width

    .. math::

        h = (1 + \text{margin})\,\max_j \tfrac12\bigl(\max_i z_{ij}
        - \min_i z_{ij}\bigr),

    the same in every direction, so a route that leaves the segment
    between two points sideways by up to :math:`h` is on the grid.

    Parameters
    ----------
    points : Tensor, shape (n, d)
        E.g. the endpoints of the geodesics to be computed.
    per_dim : int
        Grid points per axis (``per_dim ** d`` in all).
    margin : float, default 0.5
        Relative enlargement of the half-width.

    Returns
    -------
    Tensor, shape (per_dim ** d, d)

    Raises
    ------
    ValueError
        For bad points, ``per_dim < 2`` or a negative margin.

    Notes
    -----
    Used by :func:`gmtheory.geodesic` for its automatic graph starts
    (:ref:`geo-vae`).

    Examples
    --------
    >>> import torch
    >>> latent_grid(torch.tensor([[0.0, 0.0], [2.0, 0.0]]), 3, margin=0.0)
    tensor([[ 0., -1.],
            [ 0.,  0.],
            [ 0.,  1.],
            [ 1., -1.],
            [ 1.,  0.],
            [ 1.,  1.],
            [ 2., -1.],
            [ 2.,  0.],
            [ 2.,  1.]])
    """
    P = validate_points(points, "points")
    per_dim = validate_positive_int(per_dim, "per_dim", minimum=2)
    if not margin >= 0:
        raise ValueError(f"margin must be non-negative, got {margin}.")
    lo, hi = P.min(0).values, P.max(0).values
    centre = 0.5 * (lo + hi)
    half = (1 + margin) * float((0.5 * (hi - lo)).max())
    if half <= 0:
        half = 1.0              # a single point: a unit cube around it
    axes = [torch.linspace(float(c) - half, float(c) + half, per_dim,
                           dtype=P.dtype) for c in centre]
    return torch.cartesian_prod(*axes).reshape(-1, P.shape[1])
