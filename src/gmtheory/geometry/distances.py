r"""Numerical test of the metric axioms for a distance on a finite point set.

A function :math:`d` on a set is a *metric* when, for all points
:math:`x, y, w`,

.. math::

    d(x, y) \ge 0, \qquad d(x, y) = 0 \iff x = y, \qquad
    d(x, y) = d(y, x), \qquad d(x, w) \le d(x, y) + d(y, w).

:func:`metric_axioms` evaluates a candidate distance on every pair of a
finite sample and reports the worst violation of each axiom, so that a
chapter can assert that the Euclidean pixel distance passes and that its
square fails (the triangle inequality breaks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor

from ..validation import validate_finite, validate_points, validate_positive

__all__ = ["MetricAxiomReport", "metric_axioms"]


@dataclass(frozen=True)
class MetricAxiomReport:
    """Worst violation of each metric axiom on a finite sample.

    Attributes
    ----------
    n : int
        Number of points.
    min_value : float
        Smallest entry of the distance matrix (non-negativity: ``>= -atol``).
    max_asymmetry : float
        :math:`\\max_{ij} |D_{ij} - D_{ji}|`.
    max_identical : float
        Largest :math:`|D_{ij}|` over pairs of *equal* points (including
        ``i == j``); should be ``<= atol``.
    min_distinct : float
        Smallest :math:`D_{ij}` over pairs of *different* points; must be
        ``> atol`` (``inf`` if all points are equal).
    max_triangle_excess : float
        :math:`\\max_{ijk} D_{ik} - D_{ij} - D_{jk}`; the triangle inequality
        holds on the sample iff this is ``<= atol``.
    worst_triple : tuple of int
        ``(i, j, k)`` attaining ``max_triangle_excess``.
    atol : float
        Tolerance used for :attr:`holds`.
    """

    n: int
    min_value: float
    max_asymmetry: float
    max_identical: float
    min_distinct: float
    max_triangle_excess: float
    worst_triple: tuple[int, int, int]
    atol: float

    @property
    def holds(self) -> bool:
        """Whether all four axioms hold on the sample, up to ``atol``."""
        return (
            self.min_value >= -self.atol
            and self.max_asymmetry <= self.atol
            and self.max_identical <= self.atol
            and self.min_distinct > self.atol
            and self.max_triangle_excess <= self.atol
        )


def _max_triangle_excess(D: Tensor) -> tuple[float, tuple[int, int, int]]:
    r"""Largest :math:`D_{ik} - D_{ij} - D_{jk}` over all triples, and its triple.

    Exact over all :math:`n^3` triples, one middle point :math:`j` at a time,
    so memory stays :math:`O(n^2)`.
    """
    n = D.shape[0]
    best, worst = -float("inf"), (0, 0, 0)
    for j in range(n):
        # excess[i, k] = D_ik - D_ij - D_jk for the middle point j
        excess = D - D[:, j : j + 1] - D[j : j + 1, :]
        val, flat = excess.reshape(-1).max(dim=0)
        if float(val) > best:
            i, k = divmod(int(flat), n)
            best, worst = float(val), (i, j, k)
    return best, worst


def metric_axioms(
    points: Tensor,
    distance: Callable[[Tensor, Tensor], Tensor],
    atol: float = 1e-12,
) -> MetricAxiomReport:
    r"""Test the metric axioms for ``distance`` on a finite sample of points.

    With :math:`D_{ij} = d(x_i, x_j)` the report holds

    .. math::

        \min_{ij} D_{ij}, \quad \max_{ij}|D_{ij} - D_{ji}|, \quad
        \max_{x_i = x_j} |D_{ij}|, \quad \min_{x_i \ne x_j} D_{ij}, \quad
        \max_{ijk}\,\big(D_{ik} - D_{ij} - D_{jk}\big).

    The triple maximum is computed exactly over all :math:`n^3` triples, one
    middle point at a time (memory :math:`O(n^2)`).

    Parameters
    ----------
    points : Tensor, shape (n, p)
        The sample, one point per row.
    distance : callable
        ``distance(x, y)`` with ``x`` of shape ``(n, p)`` and ``y`` of shape
        ``(m, p)`` returns the ``(n, m)`` matrix of distances, e.g.
        ``torch.cdist``.
    atol : float, default 1e-12
        Non-negative tolerance of :attr:`MetricAxiomReport.holds`.

    Returns
    -------
    MetricAxiomReport

    Raises
    ------
    TypeError
        If ``points`` is not a floating tensor/array or ``distance`` is not
        callable.
    ValueError
        If ``points`` is not ``(n, p)`` and finite, ``atol`` is negative, or
        ``distance`` returns a matrix of the wrong shape or with non-finite
        entries.

    Notes
    -----
    Derived in :ref:`lv-three-distances`, which states the axioms and shows
    that the squared Euclidean distance is not a metric.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[0.0], [1.0], [2.0]])
    >>> metric_axioms(x, torch.cdist).holds
    True
    >>> r = metric_axioms(x, lambda a, b: torch.cdist(a, b) ** 2)
    >>> r.holds, r.max_triangle_excess, r.worst_triple
    (False, 2.0, (0, 1, 2))
    """
    x = validate_points(points, "points")
    if not callable(distance):
        raise TypeError(
            f"distance must be callable as distance(x, y) -> (n, m) tensor, "
            f"got {type(distance).__name__}."
        )
    tol = validate_positive(atol, "atol", strict=False)
    n = x.shape[0]
    D = distance(x, x)
    if not isinstance(D, Tensor) or tuple(D.shape) != (n, n):
        shape = tuple(D.shape) if hasattr(D, "shape") else type(D).__name__
        raise ValueError(
            f"distance(points, points) must return an ({n}, {n}) tensor, got "
            f"{shape}; it should map (n, p) and (m, p) to (n, m)."
        )
    D = validate_finite(D.detach().to(x.dtype), "distance(points, points)")
    equal = (x.unsqueeze(1) == x.unsqueeze(0)).all(dim=2)
    max_identical = float(D[equal].abs().max())
    distinct = D[~equal]
    min_distinct = float(distinct.min()) if distinct.numel() else float("inf")
    best, worst = _max_triangle_excess(D)
    return MetricAxiomReport(
        n=n,
        min_value=float(D.min()),
        max_asymmetry=float((D - D.T).abs().max()),
        max_identical=max_identical,
        min_distinct=min_distinct,
        max_triangle_excess=best,
        worst_triple=worst,
        atol=tol,
    )
