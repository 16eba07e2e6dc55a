r"""The best critic of a linear objective, by linear programming.

For two histograms :math:`a, b` on the same points :math:`x_1, \dots, x_n`,
the critic objective :math:`\int h\,\dd\mu - \int h\,\dd\nu =
\sum_i (a_i - b_i) h_i` is linear in the critic values :math:`h_i`.  Its
maximum over a class of critics is a distance whose name depends on the
class:

- values in :math:`[0, 1]`: the total variation :math:`\TV(a, b)`;
- 1-Lipschitz on the points: :math:`W_1` (Kantorovich--Rubinstein);
- both: the bounded-Lipschitz (Dudley) distance, between the two.

:func:`best_critic` solves this linear programme with HiGHS, so that the book
never has to pick the best critic by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from .backend import is_torch, to_output
from .cost import cost_matrix
from .inputs import to_numpy, validate_weights

__all__ = ["BestCriticResult", "best_critic"]


@dataclass(frozen=True)
class BestCriticResult:
    r"""Result of :func:`best_critic`.

    Attributes
    ----------
    value : float
        :math:`\max_h \sum_i (a_i - b_i) h_i` over the class.
    critic : ndarray or Tensor, shape (n,)
        An optimal critic, its values at the points (a float64 tensor if any
        input was a tensor).
    converged : bool
        Whether HiGHS reported an optimal solution (always True: a failure
        raises).
    message : str
        What happened, in a sentence (with HiGHS' own words).
    """

    value: float
    critic: Any
    converged: bool
    message: str


def best_critic(a: Any, b: Any, x: Any = None, *, lipschitz: float | None = None,
                bounds: tuple[float, float] | None = (0.0, 1.0)) -> BestCriticResult:
    r"""Best critic of :math:`\sum_i (a_i - b_i) h_i` over a class of critics.

    Solves the linear programme

    .. math::

        \max_{h \in \mathbb R^n} \sum_i (a_i - b_i)\, h_i
        \quad\text{s.t.}\quad lo \le h_i \le hi,\qquad
        h_i - h_j \le L\,\|x_i - x_j\| \ \ (i \ne j),

    with either constraint family optional.  With ``bounds=(0, 1)`` and no
    Lipschitz bound the value is :math:`\TV(a, b)`; with ``lipschitz=1`` and
    ``bounds=None`` it is :math:`W_1` of the two histograms for the Euclidean
    cost on the points.

    Parameters
    ----------
    a, b : array_like or Tensor, shape (n,)
        Probability vectors on the same points (:math:`\mu` and :math:`\nu`).
    x : array_like or Tensor, shape (n, d), optional
        The points; required when ``lipschitz`` is given.
    lipschitz : float, optional
        Lipschitz bound :math:`L > 0` on the points (Euclidean distance).
    bounds : (float, float) or None, default (0, 1)
        Range :math:`[lo, hi]` of the critic values; ``None`` for no range.

    Returns
    -------
    BestCriticResult
        ``value`` (a float), ``critic``, ``converged`` and ``message``.

    Raises
    ------
    ValueError
        Invalid weights, points of the wrong shape, ``lipschitz`` not
        positive, ``lo >= hi``, or neither constraint given (the maximum is
        then infinite unless ``a == b``).
    RuntimeError
        If HiGHS does not find an optimum.

    See Also
    --------
    exact_ot : :math:`W_1` by the primal problem (``cost_matrix(x, x, p=1)``).
    tv : the total variation in closed form.

    Notes
    -----
    The Lipschitz family has :math:`n(n-1)` constraints: keep :math:`n` to a
    few hundred.  Derived in :ref:`gd-three` (the three critic classes) and
    :ref:`du-kr` (the Lipschitz class and :math:`W_1`).

    References
    ----------
    :cite:t:`arjovsky2017wasserstein`; :cite:t:`villani2009optimal`,
    remark 6.5.

    Examples
    --------
    >>> best_critic([1.0, 0.0], [0.0, 1.0]).value
    1.0
    >>> res = best_critic([1.0, 0.0], [0.0, 1.0], [[0.0], [0.1]],
    ...                   lipschitz=1.0, bounds=None)
    >>> round(res.value, 12)
    0.1
    """
    as_torch = is_torch(a, b, x)
    aw = validate_weights(a, "a")
    bw = validate_weights(b, "b", aw.shape[0])
    n = aw.shape[0]
    if lipschitz is None and bounds is None:
        raise ValueError(
            "give a Lipschitz bound, a range of values, or both: without either "
            "the critic objective is unbounded."
        )
    if bounds is not None:
        lo, hi = (float(v) for v in bounds)
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"bounds must be finite (lo, hi) with lo < hi, got {bounds!r}.")
        var_bounds = (lo, hi)
    else:
        var_bounds = (None, None)
    A_ub, b_ub = None, None
    if lipschitz is not None:
        if not (np.isfinite(lipschitz) and lipschitz > 0):
            raise ValueError(f"lipschitz must be finite and > 0, got {lipschitz!r}.")
        if x is None:
            raise ValueError("x (the points, shape (n, d)) is needed for a Lipschitz bound.")
        X = to_numpy(x, "x")  # the LP is solved in NumPy
        D = cost_matrix(X, X, p=1)
        if D.shape[0] != n:
            raise ValueError(f"x has {D.shape[0]} points but a and b have {n} weights.")
        i, j = np.nonzero(~np.eye(n, dtype=bool))
        rows = np.arange(i.size)
        A_ub = sp.csr_matrix(
            (np.concatenate([np.ones(i.size), -np.ones(i.size)]),
             (np.concatenate([rows, rows]), np.concatenate([i, j]))),
            shape=(i.size, n))
        b_ub = lipschitz * D[i, j]
    res = linprog(-(aw - bw), A_ub=A_ub, b_ub=b_ub, bounds=var_bounds,
                  method="highs")
    if res.status != 0:
        raise RuntimeError(
            f"best_critic: the linear programme failed (HiGHS status "
            f"{res.status}: {res.message})."
        )
    return BestCriticResult(value=float(-res.fun),
                            critic=to_output(np.asarray(res.x), as_torch),
                            converged=True,
                            message=f"Optimal: HiGHS solved the critic LP ({res.message}).")
