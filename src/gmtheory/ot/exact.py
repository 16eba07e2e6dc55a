"""Exact discrete optimal transport: the Kantorovich linear programme.

:func:`exact_ot` solves the transport problem between two discrete measures
and returns the optimal plan together with a pair of optimal dual
potentials, by one of two routes:

- ``method="network_simplex"`` (default): POT's network simplex
  (:func:`ot.emd`), which exploits the bipartite-graph structure of the
  problem and is hundreds of times faster than a general LP solver;
- ``method="lp"``: the linear programme written out with its ``n m``
  variables and solved by HiGHS (:func:`scipy.optimize.linprog`), the
  method the book derives and uses to cross-check POT.

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

__all__ = ["AssignmentOTResult", "ExactOTResult", "assignment_ot", "exact_ot"]

#: HiGHS algorithms of the LP route; ``"lp"`` is HiGHS' own choice (``"highs"``)
_LP_METHODS = {"lp": "highs", "highs": "highs", "highs-ds": "highs-ds",
               "highs-ipm": "highs-ipm"}
_METHODS = ("network_simplex",) + tuple(_LP_METHODS)


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
        Whether the solver reported an optimal solution.
    status : str
        The solver's message.
    method : str
        ``"network_simplex"`` or the HiGHS algorithm of the LP route.
    """

    cost: float
    plan: np.ndarray
    f: np.ndarray
    g: np.ndarray
    converged: bool
    status: str
    method: str = "network_simplex"


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


def _gauge(f: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shift ``(f + t, g - t)`` so that ``g[-1] = 0`` (the LP's gauge)."""
    return f + g[-1], g - g[-1]


def _network_simplex(a, b, M, max_iter):
    """POT's network simplex: ``(cost, plan, f, g, converged, status)``."""
    import ot as pot  # loaded on use: POT imports scikit-learn

    n, m = M.shape
    limit = max(100_000, 50 * n * m) if max_iter is None else int(max_iter)
    with warnings.catch_warnings():
        # POT warns on its own; the result code is reported below instead
        warnings.simplefilter("ignore", UserWarning)
        plan, log = pot.emd(a, b, M, numItermax=limit, log=True)
    code = int(log["result_code"])
    if code == 3:
        warnings.warn(
            f"exact_ot: the network simplex stopped at the iteration limit "
            f"({limit}); the plan is not optimal. Increase max_iter.",
            RuntimeWarning,
            stacklevel=3,
        )
        nan_n, nan_m = np.full(n, np.nan), np.full(m, np.nan)
        return float(np.sum(plan * M)), plan, nan_n, nan_m, False, log["warning"]
    if code != 1:
        raise RuntimeError(
            f"exact_ot: the network simplex failed ({log['warning']}). Check "
            "that the weights and costs are sensible."
        )
    f, g = _gauge(np.asarray(log["u"], float), np.asarray(log["v"], float))
    return float(log["cost"]), plan, f, g, True, "Optimal (network simplex)"


def _highs_lp(a, b, M, method, max_iter):
    """The transport LP by HiGHS: ``(cost, plan, f, g, converged, status)``."""
    n, m = M.shape
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
            stacklevel=3,
        )
        nan_n, nan_m = np.full(n, np.nan), np.full(m, np.nan)
        if res.x is None:
            return np.nan, np.full((n, m), np.nan), nan_n, nan_m, False, res.message
        plan = np.clip(res.x.reshape(n, m), 0.0, None)
        return float(res.fun), plan, nan_n, nan_m, False, str(res.message)
    if res.status != 0:
        raise RuntimeError(
            f"exact_ot: the transport LP failed (HiGHS status {res.status}: "
            f"{res.message}). Check that the weights and costs are sensible."
        )
    plan = np.clip(res.x.reshape(n, m), 0.0, None)
    duals = np.asarray(res.eqlin.marginals)
    f = duals[:n].copy()
    g = np.append(duals[n:], 0.0)
    return float(res.fun), plan, f, g, True, str(res.message)


def exact_ot(a: Any, b: Any, C: Any, method: str = "network_simplex", *,
             max_iter: int | None = None) -> ExactOTResult:
    r"""Exact discrete optimal transport (network simplex or LP).

    Solves the Kantorovich problem and its dual

    .. math::

        \min_{P \ge 0,\ P\mathbf 1 = a,\ P^\top \mathbf 1 = b}
        \sum_{ij} C_{ij} P_{ij}
        \;=\;
        \max_{f_i + g_j \le C_{ij}} \sum_i a_i f_i + \sum_j b_j g_j .

    The LP has :math:`n m` variables and :math:`n + m - 1` independent
    equality constraints: one marginal constraint is implied by the others
    (both vectors have mass one). The dual potentials are defined up to the
    additive gauge :math:`(f + t, g - t)`; both routes return the one with
    :math:`g_m = 0`.

    ``method="network_simplex"`` (default) calls POT's network simplex
    :func:`ot.emd`, which moves between vertices of the transport polytope
    along the spanning trees of the bipartite graph and returns the plan and
    the tree's potentials. ``method="lp"`` writes out the LP (dropping the
    last column constraint) and solves it with HiGHS; its duals are the
    constraint marginals. Both give the same optimal value; the plans and
    potentials agree whenever they are unique, but when the LP is degenerate
    (e.g. ties in the cost) the two routes may return different optimal
    plans or potentials, each satisfying feasibility, zero duality gap and
    complementary slackness.

    Parameters
    ----------
    a : array_like, shape (n,)
        Source weights (non-negative, sum 1).
    b : array_like, shape (m,)
        Target weights (non-negative, sum 1).
    C : array_like, shape (n, m)
        Finite cost matrix.
    method : {"network_simplex", "lp", "highs", "highs-ds", "highs-ipm"}
        ``"network_simplex"``: POT's :func:`ot.emd`. ``"lp"``: the LP by
        HiGHS (:func:`scipy.optimize.linprog` with ``method="highs"``);
        ``"highs-ds"`` / ``"highs-ipm"`` force HiGHS' dual simplex or
        interior-point algorithm.
    max_iter : int, optional
        Iteration limit (default: ``max(1e5, 50 n m)`` pivots for the network
        simplex, HiGHS' own for the LP).

    Returns
    -------
    ExactOTResult
        ``cost``, ``plan`` (n, m), duals ``f`` (n,), ``g`` (m,),
        ``converged``, ``status`` and ``method``.

    Raises
    ------
    ValueError
        Invalid weights (negative, not summing to 1, wrong length), a cost
        matrix of the wrong shape or with NaN/inf entries, an unknown method.
    RuntimeError
        If the solver reports the problem infeasible, unbounded or
        numerically failed.

    Warns
    -----
    RuntimeWarning
        If the solver stops at the iteration limit; the returned result then
        has ``converged=False``, NaN potentials, and its plan is not optimal.

    References
    ----------
    R. Flamary et al., "POT: Python Optimal Transport", JMLR 22 (2021).
    N. Bonneel et al., "Displacement interpolation using Lagrangian mass
    transport", ACM Trans. Graph. 30 (2011) (the network simplex of POT).

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
    >>> round(exact_ot([0.5, 0.5], [0.5, 0.5], [[0.0, 1.0], [1.0, 0.0]],
    ...                method="lp").cost, 12)
    0.0
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
    M = np.ascontiguousarray(check_cost(C), dtype=np.float64)
    n, m = M.shape
    a = check_weights(a, "a", n=n)
    b = check_weights(b, "b", n=m)
    # Exact renormalisation (off by <= tol) keeps the problem feasible.
    a, b = a / a.sum(), b / b.sum()
    if max_iter is not None:
        check_positive_int(max_iter, "max_iter")
    if method == "network_simplex":
        out = _network_simplex(a, b, M, max_iter)
        used = method
    else:
        used = _LP_METHODS[method]
        out = _highs_lp(a, b, M, used, max_iter)
    cost, plan, f, g, converged, status = out
    return ExactOTResult(cost=cost, plan=plan, f=f, g=g, converged=converged,
                         status=status, method=used)


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
