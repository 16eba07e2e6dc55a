r"""Clustering with an arbitrary distance: k-medoids and graph distances.

k-medoids needs only a matrix of pairwise distances, so the same routine
clusters latent codes with the Euclidean distance or with a Riemannian one.
:func:`graph_distances` supplies the latter for many points at once: all-pairs
shortest paths in a nearest-neighbour graph whose edges are weighted by the
Riemannian length of the straight segment, an upper bound on the geodesic
distance that is cheap to compute for hundreds of points.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import shortest_path
from torch import Tensor

from ..validation import validate_points, validate_positive_int
from .graphs import knn_graph, validate_optional_metric
from .metrics import Metric

__all__ = ["KMedoidsResult", "k_medoids", "graph_distances"]


@dataclass
class KMedoidsResult:
    """Result of :func:`k_medoids`.

    Attributes
    ----------
    medoids : ndarray of int, shape (k,)
        Indices of the medoids (sorted).
    labels : ndarray of int, shape (n,)
        Cluster of each point, ``0 .. k-1`` in the order of ``medoids``.
    cost : float
        Sum of distances of the points to their medoids.
    iterations : int
    converged : bool
        Whether the medoids stopped changing before ``max_iter``.
    """

    medoids: np.ndarray
    labels: np.ndarray
    cost: float
    iterations: int
    converged: bool


def k_medoids(distances, k: int, *, max_iter: int = 100) -> KMedoidsResult:
    r"""Deterministic k-medoids: greedy BUILD start, then alternating updates.

    .. math::

        \min_{m_1,\dots,m_k}\ \sum_{i=1}^n \min_j D_{i m_j}.

    The start adds, one at a time, the point that lowers the cost most
    (the first medoid is the point of least total distance); then points are
    assigned to their nearest medoid and each medoid is moved to the member
    of least total distance within its cluster, until nothing changes.
    Ties are broken by the lowest index, so the result is deterministic.

    Parameters
    ----------
    distances : array_like, shape (n, n)
        Symmetric, non-negative, zero diagonal, finite.
    k : int
        Number of clusters, ``1 <= k <= n``.
    max_iter : int, optional
        Default 100.

    Returns
    -------
    KMedoidsResult

    Raises
    ------
    ValueError
        If ``distances`` is not a finite symmetric non-negative square matrix
        with zero diagonal, or ``k`` is out of range.

    Warns
    -----
    RuntimeWarning
        If ``max_iter`` is reached before the medoids settle.

    Notes
    -----
    Used in :ref:`sg-clustering`.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.0, 0.1, 0.2, 5.0, 5.1])
    >>> k_medoids(np.abs(x[:, None] - x[None]), 2).labels
    array([0, 0, 0, 1, 1])
    """
    if isinstance(distances, Tensor):
        distances = distances.detach().cpu().numpy()
    D = np.asarray(distances, dtype=float)
    if D.ndim != 2 or D.shape[0] != D.shape[1] or D.shape[0] == 0:
        raise ValueError(f"distances must be a square (n, n) matrix, got shape "
                         f"{D.shape}.")
    if not np.isfinite(D).all():
        raise ValueError("distances must be finite (a disconnected graph gives "
                         "inf: increase n_neighbors).")
    scale = max(1.0, float(D.max()))
    if ((D < 0).any() or not np.allclose(D, D.T)
            or np.abs(np.diag(D)).max() > 1e-10 * scale):
        raise ValueError("distances must be symmetric and non-negative with a "
                         "zero diagonal.")
    n = D.shape[0]
    if int(k) != k or not 1 <= k <= n:
        raise ValueError(f"k must be an integer in [1, {n}], got {k!r}.")
    validate_positive_int(max_iter, "max_iter")
    medoids = [int(np.argmin(D.sum(1)))]
    nearest = D[medoids[0]].copy()
    for _ in range(1, int(k)):
        gains = np.maximum(nearest[None, :] - D, 0.0).sum(1)
        gains[medoids] = -1.0
        m = int(np.argmax(gains))
        medoids.append(m)
        nearest = np.minimum(nearest, D[m])
    med = np.sort(np.asarray(medoids))
    converged = False
    it = 0
    for it in range(1, int(max_iter) + 1):  # noqa: B007  (returned below)
        labels = np.argmin(D[:, med], axis=1)
        new = med.copy()
        for j in range(len(med)):
            members = np.flatnonzero(labels == j)
            within = D[np.ix_(members, members)].sum(1)
            new[j] = members[int(np.argmin(within))]
        new = np.sort(new)
        if np.array_equal(new, med):
            converged = True
            break
        med = new
    if not converged:
        warnings.warn(f"k_medoids did not settle in max_iter={max_iter} "
                      "iterations; increase max_iter.", RuntimeWarning,
                      stacklevel=2)
    labels = np.argmin(D[:, med], axis=1)
    cost = float(D[np.arange(n), med[labels]].sum())
    return KMedoidsResult(med, labels, cost, it, converged)


def graph_distances(points: Tensor, metric: Metric | None = None, *,
                    n_neighbors: int = 10) -> np.ndarray:
    r"""All-pairs shortest-path distances in a nearest-neighbour graph.

    .. math::

        d_G(z_i, z_j) = \min_{\text{paths } i \to j} \sum_{\text{edges }(a, b)}
        \int_0^1 \|b - a\|_{M((1-t)a + tb)}\,dt
        \ \ge\ d_M(z_i, z_j),

    with the symmetrised ``n_neighbors``-NN graph of the points and edge
    lengths as in :func:`gmtheory.geometry.graphs.graph_shortest_path` (Euclidean if
    ``metric`` is None).  Each edge is a curve, so :math:`d_G` bounds the
    geodesic distance from above.

    Parameters
    ----------
    points : Tensor, shape (n, d)
    metric : Metric, optional
    n_neighbors : int, optional
        Default 10.

    Returns
    -------
    ndarray, shape (n, n)

    Raises
    ------
    ValueError
        If the graph is disconnected, or on malformed input.

    Examples
    --------
    >>> import torch
    >>> z = torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    >>> float(graph_distances(z, n_neighbors=1)[0, 2])
    2.0
    """
    P = validate_points(points, "points")
    validate_optional_metric(metric)
    n_neighbors = validate_positive_int(n_neighbors, "n_neighbors")
    W = knn_graph(P, metric, min(n_neighbors, P.shape[0] - 1))
    dist = shortest_path(W, directed=False)
    if not np.isfinite(dist).all():
        raise ValueError("the nearest-neighbour graph is disconnected; increase "
                         "n_neighbors.")
    return dist
