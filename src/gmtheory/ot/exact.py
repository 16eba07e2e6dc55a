"""Exact discrete optimal transport: the Kantorovich linear programme.

:func:`exact_ot` solves the transport problem between two discrete measures
as a linear programme with HiGHS (through :func:`scipy.optimize.linprog`) and
returns the optimal plan together with a pair of optimal dual potentials.
:func:`assignment_ot` handles the uniform, equal-size case, where an optimal
plan is a permutation, with the Hungarian-type solver
:func:`scipy.optimize.linear_sum_assignment`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment, linprog

from .._validation import check_positive_int
from ._inputs import check_cost, check_weights

__all__ = ["ExactOTResult", "AssignmentOTResult", "exact_ot", "assignment_ot"]

_METHODS = ("highs", "highs-ds", "highs-ipm")


@dataclass(frozen=True)
class ExactOTResult:
    """Solution of the discrete Kantorovich problem.

    Attributes
    ----------
    cost : float
        Optimal value :math:`\\sum_{ij} C_{ij} P_{ij}`.
    plan : ndarray, shape (n, m)
        Optimal coupling :math:`P` (row sums ``a``, column sums ``b``).
    f, g : ndarray, shapes (n,) and (m,)
        Optimal dual potentials: :math:`f_i + g_j \\le C_{ij}` and
        :math:`\\sum_i a_i f_i + \\sum_j b_j g_j` equals ``cost``.
    converged : bool
        Whether HiGHS reported an optimal solution.
    status : str
        The solver's message.
    """

    cost: float
    plan: np.ndarray
    f: np.ndarray
    g: np.ndarray
    converged: bool
    status: str


@dataclass(frozen=True)
class AssignmentOTResult:
    """Solution of the uniform, equal-size transport problem.

    Attributes
    ----------
    cost : float
        Optimal value :math:`\\frac1n \\sum_i C_{i\\sigma(i)}`, the transport
        cost between the two uniform empirical measures.
    permutation : ndarray of int, shape (n,)
        Optimal assignment :math:`\\sigma`: point ``i`` goes to ``permutation[i]``.
    """

    cost: float
    permutation: np.ndarray

    @property
    def plan(self) -> np.ndarray:
        """The coupling :math:`P_{i\\sigma(i)} = 1/n`, shape (n, n)."""
        n = self.permutation.shape[0]
        P = np.zeros((n, n))
        P[np.arange(n), self.permutation] = 1.0 / n
        return P


def _marginal_constraints(n: int, m: int) -> sp.csr_matrix:
    """Sparse matrix mapping vec(P) (row-major) to its n row sums and the
    first m - 1 column sums (the last column sum is implied by the others)."""
    rows = sp.kron(sp.identity(n), np.ones((1, m)))
    cols = sp.kron(np.ones((1, n)), sp.identity(m))
    return sp.vstack([rows, cols.tocsr()[: m - 1]]).tocsr()


def exact_ot(a: Any, b: Any, C: Any, method: str = "highs", *,
             max_iter: int | None = None) -> ExactOTResult:
    r"""Exact discrete optimal transport by linear programming.

    Solves the Kantorovich problem and its dual

    .. math::

        \min_{P \ge 0,\ P\mathbf 1 = a,\ P^\top \mathbf 1 = b}
        \sum_{ij} C_{ij} P_{ij}
        \;=\;
        \max_{f_i + g_j \le C_{ij}} \sum_i a_i f_i + \sum_j b_j g_j .

    The LP has :math:`n m` variables and :math:`n + m - 1` equality
    constraints: one marginal constraint is implied by the others (both
    vectors have mass one) and is dropped, which fixes the additive gauge
    :math:`g_m = 0` of the dual potentials. These are read from the
    constraint marginals of HiGHS.

    Parameters
    ----------
    a : array_like, shape (n,)
        Source weights (non-negative, sum 1).
    b : array_like, shape (m,)
        Target weights (non-negative, sum 1).
    C : array_like, shape (n, m)
        Finite cost matrix.
    method : {"highs", "highs-ds", "highs-ipm"}
        HiGHS algorithm passed to :func:`scipy.optimize.linprog`.
    max_iter : int, optional
        Iteration limit (default: the solver's own).

    Returns
    -------
    ExactOTResult
        ``cost``, ``plan`` (n, m), duals ``f`` (n,), ``g`` (m,),
        ``converged`` and ``status``.

    Raises
    ------
    ValueError
        Invalid weights (negative, not summing to 1, wrong length), a cost
        matrix of the wrong shape or with NaN/inf entries, an unknown method.
    RuntimeError
        If HiGHS reports the LP infeasible, unbounded or numerically failed.

    Warns
    -----
    RuntimeWarning
        If HiGHS stops at the iteration limit; the returned result then has
        ``converged=False`` and its plan is not optimal.

    Notes
    -----
    Derived in the chapter *Optimal transport and the Wasserstein distance*
    (``book/part2/optimal_transport.md``).

    Examples
    --------
    >>> res = exact_ot([0.5, 0.5], [0.5, 0.5], [[0.0, 1.0], [1.0, 0.0]])
    >>> round(res.cost, 12), res.converged
    (0.0, True)
    >>> res.plan
    array([[0.5, 0. ],
           [0. , 0.5]])
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
    M = check_cost(C)
    n, m = M.shape
    a = check_weights(a, "a", n=n)
    b = check_weights(b, "b", n=m)
    # Exact renormalisation (off by <= tol) keeps the LP feasible.
    a, b = a / a.sum(), b / b.sum()
    if max_iter is not None:
        check_positive_int(max_iter, "max_iter")

    options = {} if max_iter is None else {"maxiter": int(max_iter)}
    res = linprog(
        M.ravel(),
        A_eq=_marginal_constraints(n, m),
        b_eq=np.concatenate([a, b[:-1]]),
        bounds=(0, None),
        method=method,
        options=options,
    )
    if res.status == 1:
        warnings.warn(
            f"exact_ot: HiGHS stopped at the iteration limit ({res.message}); "
            "the plan is not optimal. Increase max_iter.",
            RuntimeWarning,
            stacklevel=2,
        )
        if res.x is None:
            nan = np.full((n, m), np.nan)
            return ExactOTResult(np.nan, nan, np.full(n, np.nan),
                                 np.full(m, np.nan), False, res.message)
    elif res.status != 0:
        raise RuntimeError(
            f"exact_ot: the transport LP failed (HiGHS status {res.status}: "
            f"{res.message}). Check that the weights and costs are sensible."
        )
    plan = np.clip(res.x.reshape(n, m), 0.0, None)
    if res.status == 0:
        duals = np.asarray(res.eqlin.marginals)
        f = duals[:n].copy()
        g = np.append(duals[n:], 0.0)
    else:
        f, g = np.full(n, np.nan), np.full(m, np.nan)
    return ExactOTResult(
        cost=float(res.fun),
        plan=plan,
        f=f,
        g=g,
        converged=res.status == 0,
        status=str(res.message),
    )


def assignment_ot(x_cost: Any) -> AssignmentOTResult:
    r"""Optimal transport between two uniform measures of equal size.

    For :math:`a = b = \mathbf 1/n` the vertices of the transport polytope are
    the permutation matrices scaled by :math:`1/n` (Birkhoff--von Neumann), so

    .. math::

        \min_{P \in \Pi(\mathbf 1/n, \mathbf 1/n)} \langle C, P\rangle
        = \min_{\sigma \in S_n} \frac1n \sum_{i=1}^n C_{i\sigma(i)} ,

    an assignment problem solved by
    :func:`scipy.optimize.linear_sum_assignment`.

    Parameters
    ----------
    x_cost : array_like, shape (n, n)
        Finite square cost matrix.

    Returns
    -------
    AssignmentOTResult
        ``cost`` (the OT value with uniform weights) and ``permutation``;
        ``.plan`` gives the (n, n) coupling.

    Raises
    ------
    ValueError
        If the cost matrix is not square, not 2-D or not finite.

    Notes
    -----
    Derived in the chapter *Optimal transport and the Wasserstein distance*
    (``book/part2/optimal_transport.md``).

    Examples
    --------
    >>> res = assignment_ot([[4.0, 1.0], [1.0, 4.0]])
    >>> res.cost, res.permutation.tolist()
    (1.0, [1, 0])
    """
    M = check_cost(x_cost, name="x_cost")
    if M.shape[0] != M.shape[1]:
        raise ValueError(
            f"x_cost must be square (two uniform measures of the same size), got "
            f"shape {M.shape}; use exact_ot for unequal sizes."
        )
    rows, cols = linear_sum_assignment(M)
    perm = np.empty(M.shape[0], dtype=int)
    perm[rows] = cols
    return AssignmentOTResult(cost=float(M[rows, cols].mean()), permutation=perm)
