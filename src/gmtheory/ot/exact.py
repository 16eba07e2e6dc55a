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
import torch
from scipy.optimize import linear_sum_assignment, linprog

from ..validation import validate_positive_int
from .backend import is_torch, to_output
from .inputs import validate_cost, validate_weights

__all__ = ["AssignmentOTResult", "ExactOTResult", "assignment_ot", "exact_ot"]

#: HiGHS algorithms of the LP route; ``"lp"`` is HiGHS' own choice (``"highs"``)
_LP_METHODS = {"lp": "highs", "highs": "highs", "highs-ds": "highs-ds",
               "highs-ipm": "highs-ipm"}
_METHODS = ("network_simplex",) + tuple(_LP_METHODS)


@dataclass(frozen=True)
class ExactOTResult:
    r"""Solution of the discrete Kantorovich problem.

    Attributes
    ----------
    cost : float
        Transport cost :math:`\sum_{ij} C_{ij} P_{ij}` of ``plan``; at
        convergence it is the optimal value of the problem.
    plan : ndarray or Tensor, shape (n, m)
        Optimal coupling :math:`P` (row sums ``a``, column sums ``b``).
    f, g : ndarray or Tensor, shapes (n,) and (m,)
        Optimal dual potentials: :math:`f_i + g_j \le C_{ij}` and
        :math:`\sum_i a_i f_i + \sum_j b_j g_j` equals ``cost``.
    converged : bool
        Whether the solver reported an optimal solution.
    message : str
        What happened, in a sentence (with the solver's own words); when not
        converged, what to do.
    method : str
        ``"network_simplex"`` or the HiGHS algorithm of the LP route.
    """

    cost: float
    plan: Any
    f: Any
    g: Any
    converged: bool
    message: str
    method: str = "network_simplex"


@dataclass(frozen=True)
class AssignmentOTResult:
    r"""Solution of the uniform, equal-size transport problem.

    Attributes
    ----------
    cost : float
        Optimal value :math:`\frac1n \sum_i C_{i\sigma(i)}`, the transport
        cost between the two uniform empirical measures.
    permutation : ndarray or Tensor of int, shape (n,)
        Optimal assignment :math:`\sigma`: point ``i`` goes to ``permutation[i]``.
    converged : bool
        Always True: the assignment solver is exact or raises.
    message : str
        What happened, in a sentence.
    """

    cost: float
    permutation: Any
    converged: bool
    message: str

    @property
    def plan(self) -> Any:
        r"""The coupling :math:`P_{i\sigma(i)} = 1/n`, shape (n, n), of the
        permutation's type (float64)."""
        perm = np.asarray(self.permutation)
        n = perm.shape[0]
        P = np.zeros((n, n))
        P[np.arange(n), perm] = 1.0 / n
        return to_output(P, isinstance(self.permutation, torch.Tensor))


def _marginal_constraints(n: int, m: int) -> sp.csr_matrix:
    """Sparse matrix mapping vec(P) (row-major) to its n row sums and the
    first m - 1 column sums (the last column sum is implied by the others)."""
    rows = sp.kron(sp.identity(n), np.ones((1, m)))
    cols = sp.kron(np.ones((1, n)), sp.identity(m))
    return sp.vstack([rows, cols.tocsr()[: m - 1]]).tocsr()


#: what the private routes return: cost, plan, f, g, converged, message
_Solution = tuple[float, np.ndarray, np.ndarray, np.ndarray, bool, str]


def _gauge(f: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shift ``(f + t, g - t)`` so that ``g[-1] = 0`` (the LP's gauge)."""
    return f + g[-1], g - g[-1]


def _network_simplex(a: np.ndarray, b: np.ndarray, M: np.ndarray,
                     max_iter: int | None) -> _Solution:
    """POT's network simplex: ``(cost, plan, f, g, converged, message)``."""
    import ot as pot  # loaded on use: POT imports scikit-learn

    n, m = M.shape
    limit = max(100_000, 50 * n * m) if max_iter is None else int(max_iter)
    with warnings.catch_warnings():
        # POT warns on its own; the result code is reported below instead
        warnings.simplefilter("ignore", UserWarning)
        plan, log = pot.emd(a, b, M, numItermax=limit, log=True)
    code = int(log["result_code"])
    if code == 3:
        message = (f"The network simplex stopped at the iteration limit ({limit} "
                   "pivots): the plan is feasible but not optimal and the "
                   "potentials are NaN. Increase max_iter.")
        warnings.warn(f"exact_ot: {message}", RuntimeWarning, stacklevel=3)
        nan_n, nan_m = np.full(n, np.nan), np.full(m, np.nan)
        return float(np.sum(plan * M)), plan, nan_n, nan_m, False, message
    if code != 1:
        raise RuntimeError(
            f"exact_ot: the network simplex failed ({log['warning']}). Check "
            "that the weights and costs are sensible."
        )
    f, g = _gauge(np.asarray(log["u"], float), np.asarray(log["v"], float))
    return (float(log["cost"]), plan, f, g, True,
            "Optimal: the network simplex found an optimal plan and potentials.")


def _highs_lp(a: np.ndarray, b: np.ndarray, M: np.ndarray, method: str,
              max_iter: int | None) -> _Solution:
    """The transport LP by HiGHS: ``(cost, plan, f, g, converged, message)``."""
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
        message = (f"HiGHS stopped at the iteration limit ({res.message}): the "
                   "plan is not optimal and the potentials are NaN. Increase "
                   "max_iter, or use method='network_simplex'.")
        warnings.warn(f"exact_ot: {message}", RuntimeWarning, stacklevel=3)
        nan_n, nan_m = np.full(n, np.nan), np.full(m, np.nan)
        if res.x is None:
            return np.nan, np.full((n, m), np.nan), nan_n, nan_m, False, message
        plan = np.clip(res.x.reshape(n, m), 0.0, None)
        return float(res.fun), plan, nan_n, nan_m, False, message
    if res.status != 0:
        raise RuntimeError(
            f"exact_ot: the transport LP failed (HiGHS status {res.status}: "
            f"{res.message}). Check that the weights and costs are sensible."
        )
    plan = np.clip(res.x.reshape(n, m), 0.0, None)
    duals = np.asarray(res.eqlin.marginals)
    f = duals[:n].copy()
    g = np.append(duals[n:], 0.0)
    return float(res.fun), plan, f, g, True, f"Optimal: HiGHS solved the transport LP ({res.message})."


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
    a : array_like or Tensor, shape (n,)
        Source weights (non-negative, sum 1).
    b : array_like or Tensor, shape (m,)
        Target weights (non-negative, sum 1).
    C : array_like or Tensor, shape (n, m)
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
        ``cost`` (a float), ``plan`` (n, m), duals ``f`` (n,), ``g`` (m,),
        ``converged``, ``message`` and ``method``. The plan and the
        potentials are float64 NumPy arrays, or float64 tensors if any of
        ``a``, ``b``, ``C`` is a tensor (the problem is solved on detached
        values: no gradient flows through them).

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

    See Also
    --------
    assignment_ot : the uniform, equal-size case by the Hungarian method.
    sinkhorn : the entropic problem.
    cost_matrix : the cost :math:`\|x - y\|^p` between two clouds.
    dual_value, dual_violation : check the returned potentials.

    Notes
    -----
    Derived in :ref:`ot-kantorovich`; duality and complementary slackness
    in :ref:`du-dual`.

    References
    ----------
    :cite:t:`peyre2019computational`, chapter 3;
    :cite:t:`villani2009optimal`, chapter 5.
    The network simplex is POT's (R. Flamary et al., "POT: Python Optimal
    Transport", JMLR 22, 2021), after N. Bonneel et al., "Displacement
    interpolation using Lagrangian mass transport", ACM Trans. Graph. 30
    (2011).

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
    as_torch = is_torch(a, b, C)
    M = np.ascontiguousarray(validate_cost(C), dtype=np.float64)
    n, m = M.shape
    a = validate_weights(a, "a", n=n)
    b = validate_weights(b, "b", n=m)
    # Exact renormalisation (off by <= tol) keeps the problem feasible.
    a, b = a / a.sum(), b / b.sum()
    if max_iter is not None:
        validate_positive_int(max_iter, "max_iter")
    if method == "network_simplex":
        out = _network_simplex(a, b, M, max_iter)
        used = method
    else:
        used = _LP_METHODS[method]
        out = _highs_lp(a, b, M, used, max_iter)
    cost, plan, f, g, converged, message = out
    return ExactOTResult(cost=cost, plan=to_output(plan, as_torch),
                         f=to_output(f, as_torch), g=to_output(g, as_torch),
                         converged=converged, message=message, method=used)


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
    x_cost : array_like or Tensor, shape (n, n)
        Finite square cost matrix.

    Returns
    -------
    AssignmentOTResult
        ``cost`` (the OT value with uniform weights, a float) and
        ``permutation`` (an int64 tensor if ``x_cost`` is a tensor, else an
        integer array); ``.plan`` gives the (n, n) coupling of the same type.

    Raises
    ------
    ValueError
        If the cost matrix is not square, not 2-D or not finite.

    See Also
    --------
    exact_ot : any weights and sizes.

    Notes
    -----
    Derived in :ref:`ot-kantorovich` (the Birkhoff--von Neumann theorem).

    References
    ----------
    :cite:t:`peyre2019computational`, chapter 3.

    Examples
    --------
    >>> res = assignment_ot([[4.0, 1.0], [1.0, 4.0]])
    >>> res.cost, res.permutation.tolist()
    (1.0, [1, 0])
    """
    M = validate_cost(x_cost, name="x_cost")
    if M.shape[0] != M.shape[1]:
        raise ValueError(
            f"x_cost must be square (two uniform measures of the same size), got "
            f"shape {M.shape}; use exact_ot for unequal sizes."
        )
    rows, cols = linear_sum_assignment(M)
    perm = np.empty(M.shape[0], dtype=int)
    perm[rows] = cols
    return AssignmentOTResult(
        cost=float(M[rows, cols].mean()),
        permutation=to_output(perm, is_torch(x_cost)), converged=True,
        message="Optimal: linear_sum_assignment found an optimal permutation.")
