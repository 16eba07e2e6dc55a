"""Divergences between discrete histograms on a common grid: KL, JS, TV.

They are the "vertical" comparisons of two distributions (point by point,
on the same grid) that the chapter contrasts with the "horizontal"
Wasserstein distance: on disjoint supports they are infinite or constant.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import rel_entr

from .inputs import validate_weights

__all__ = ["kl", "js", "tv"]


def _pair(p: Any, q: Any) -> tuple[np.ndarray, np.ndarray]:
    P = validate_weights(p, "p")
    Q = validate_weights(q, "q")
    if P.shape != Q.shape:
        raise ValueError(
            f"p and q must be histograms on the same grid, got lengths "
            f"{P.shape[0]} and {Q.shape[0]}."
        )
    return P, Q


def kl(p: Any, q: Any) -> float:
    r"""Kullback--Leibler divergence of two histograms (natural log).

    .. math::

        \KL(p \,\|\, q) = \sum_{i:\, p_i > 0} p_i \log \frac{p_i}{q_i} ,

    which is :math:`+\infty` as soon as some :math:`p_i > 0 = q_i`
    (:math:`p` not absolutely continuous with respect to :math:`q`).

    Parameters
    ----------
    p, q : array_like, shape (n,)
        Probability vectors on the same grid.

    Returns
    -------
    float
        In :math:`[0, +\infty]`.

    Raises
    ------
    ValueError
        Invalid probability vectors or different lengths.

    See Also
    --------
    js, tv : the other two divergences.
    wasserstein_1d : the horizontal comparison on the line.

    Notes
    -----
    Derived in :ref:`ot-divergences`.

    Examples
    --------
    >>> bool(kl([1.0, 0.0], [0.5, 0.5]) == np.log(2))
    True
    >>> kl([0.5, 0.5], [1.0, 0.0])
    inf
    """
    P, Q = _pair(p, q)
    return float(np.sum(rel_entr(P, Q)))


def js(p: Any, q: Any) -> float:
    r"""Jensen--Shannon divergence of two histograms (natural log).

    .. math::

        \JS(p, q) = \tfrac12 \KL(p \,\|\, m) + \tfrac12 \KL(q \,\|\, m),
        \qquad m = \tfrac12 (p + q) ,

    always finite, in :math:`[0, \log 2]`, with :math:`\log 2` exactly when
    the supports are disjoint.

    Parameters
    ----------
    p, q : array_like, shape (n,)
        Probability vectors on the same grid.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Invalid probability vectors or different lengths.

    See Also
    --------
    kl, tv : the other two divergences.
    wasserstein_1d : the horizontal comparison on the line.

    Notes
    -----
    Derived in :ref:`ot-divergences`.

    Examples
    --------
    >>> bool(np.isclose(js([1.0, 0.0], [0.0, 1.0]), np.log(2)))
    True
    """
    P, Q = _pair(p, q)

    def half(u: np.ndarray, v: np.ndarray) -> float:
        # u log(2u / (u + v)) on u > 0, written so that a subnormal u with
        # v = 0 gives u log 2 (forming m = (u + v) / 2 first would give 0)
        pos = u > 0
        up, vp = u[pos], v[pos]
        return float(np.sum(up * np.log(2.0 * (up / (up + vp)))))

    return 0.5 * half(P, Q) + 0.5 * half(Q, P)


def tv(p: Any, q: Any) -> float:
    r"""Total-variation distance of two histograms.

    .. math::

        \TV(p, q) = \sup_A |p(A) - q(A)| = \tfrac12 \sum_i |p_i - q_i| ,

    in :math:`[0, 1]`, equal to 1 exactly when the supports are disjoint.

    Parameters
    ----------
    p, q : array_like, shape (n,)
        Probability vectors on the same grid.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Invalid probability vectors or different lengths.

    See Also
    --------
    kl, js : the other two divergences.
    best_critic : TV as the value of the best critic with values in [0, 1].
    wasserstein_1d : the horizontal comparison on the line.

    Notes
    -----
    Derived in :ref:`ot-divergences`.

    Examples
    --------
    >>> tv([0.5, 0.5, 0.0], [0.0, 0.5, 0.5])
    0.5
    """
    P, Q = _pair(p, q)
    return float(0.5 * np.sum(np.abs(P - Q)))
