r"""The relaxed primal problem of a generative model on :math:`\mathcal Z\times\mathcal X`.

With a latent measure :math:`\zeta = \sum_k a_k\delta_{z_k}`, data
:math:`\nu = \sum_j b_j\delta_{y_j}` and costs :math:`C_{kj} = c(g(z_k), y_j)`
of a fixed decoder :math:`g`, the transport problem of the model is the
linear programme :math:`E = \min\{\langle C, \pi\rangle : \pi\mathbf 1 = a,
\pi^\top\mathbf 1 = b, \pi \ge 0\}`.  Dropping the first marginal constraint
for a penalty :math:`\lambda D(\pi\mathbf 1, a)` with
:math:`D(p, a) = (p - a)^\top G (p - a)`, the squared MMD of a kernel with
Gram matrix :math:`G_{kk'} = k(z_k, z_{k'})`, gives

.. math::

    E_\lambda = \min_{\pi \ge 0,\ \pi^\top\mathbf 1 = b}
    \langle C, \pi\rangle + \lambda\,(\pi\mathbf 1 - a)^\top G\,(\pi\mathbf 1 - a),

a convex quadratic programme when :math:`G \succeq 0`.  Every column of
:math:`\pi` is a conditional :math:`b_j\,Q(\cdot\mid y_j)`, so :math:`\pi`
*is* a stochastic encoder; a deterministic encoder puts each column on one
atom, and :func:`deterministic_relaxed_primal` minimises over those maps by
enumeration.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize

from ..validation import validate_positive
from .backend import is_torch, to_output
from .inputs import validate_cost, validate_weights

__all__ = ["RelaxedPrimalResult", "deterministic_relaxed_primal", "relaxed_primal"]


@dataclass(frozen=True)
class RelaxedPrimalResult:
    r"""Result of :func:`relaxed_primal` or :func:`deterministic_relaxed_primal`.

    Attributes
    ----------
    value : float
        :math:`E_\lambda`, transport cost plus penalty at ``plan``.
    plan : ndarray or Tensor, shape (K, n)
        The optimal coupling; column :math:`j` sums to :math:`b_j` (a float64
        tensor if any input was a tensor).
    cost, penalty : float
        :math:`\langle C, \pi\rangle` and
        :math:`(\pi\mathbf 1 - a)^\top G(\pi\mathbf 1 - a)` (without
        :math:`\lambda`).
    gap : float
        Frank--Wolfe duality gap, an upper bound on ``value`` minus the
        true minimum (0 for the enumeration, which is exact).
    converged : bool
        Whether ``gap`` is below the requested tolerance.
    message : str
        What happened, in a sentence; when not converged, what to do.
    """

    value: float
    plan: Any
    cost: float
    penalty: float
    gap: float
    converged: bool
    message: str


def _problem(C: Any, a: Any, b: Any, G: Any, lam: float
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Validated float64 copies of ``(C, a, b, G)`` and ``lam``."""
    M = validate_cost(C)
    K, n = M.shape
    wa = validate_weights(a, "a", K)
    wb = validate_weights(b, "b", n)
    Gm = validate_cost(G, (K, K), name="G")
    if not np.allclose(Gm, Gm.T):
        raise ValueError("G must be a symmetric Gram matrix.")
    if np.linalg.eigvalsh(Gm).min() < -1e-10 * max(1.0, np.abs(Gm).max()):
        raise ValueError("G must be positive semi-definite (a kernel's Gram matrix).")
    lam = validate_positive(lam, "lam", strict=False)
    return M, wa, wb, Gm, lam


def _objective(P: np.ndarray, M: np.ndarray, wa: np.ndarray, Gm: np.ndarray,
               lam: float) -> tuple[float, float, float]:
    """``(value, cost, penalty)`` of the plan ``P``."""
    r = P.sum(1) - wa
    cost, pen = float(np.sum(M * P)), float(r @ Gm @ r)
    return cost + lam * pen, cost, pen


def _fw_gap(P: np.ndarray, M: np.ndarray, wa: np.ndarray, wb: np.ndarray,
            Gm: np.ndarray, lam: float) -> float:
    """Frank--Wolfe gap of ``P``: an upper bound on its suboptimality."""
    grad = M + 2.0 * lam * (Gm @ (P.sum(1) - wa))[:, None]
    return float(np.sum(grad * P) - wb @ grad.min(0))


#: relative thresholds that define the support of SLSQP's plan for the polish;
#: SLSQP may leave round-off entries (~1e-13 of the largest) off the support,
#: and a support that includes them makes the KKT system inconsistent
_SUPPORT_THRESHOLDS = (1e-12, 1e-9, 1e-6)


def _polish(P: np.ndarray, M: np.ndarray, wa: np.ndarray, wb: np.ndarray,
            Gm: np.ndarray, lam: float, threshold: float) -> np.ndarray | None:
    """The KKT solution on the support ``P > threshold * max P``, or None if
    it is not feasible."""
    # Solve the KKT equations on the support of P: for (k, j) in the support
    # C_kj + 2 lam (G (P 1 - a))_k + v_j = 0, and the column sums are b.
    _K, n = M.shape
    ks, js = np.nonzero(P > threshold * P.max())
    s = ks.size
    A = np.zeros((s + n, s + n))
    rhs = np.zeros(s + n)
    for i, (k, j) in enumerate(zip(ks, js)):
        A[i, :s] = 2.0 * lam * Gm[k, ks]
        A[i, s + j] = 1.0
        rhs[i] = -M[k, j] + 2.0 * lam * (Gm[k] @ wa)
        A[s + j, i] = 1.0
    rhs[s:] = wb
    x = np.linalg.lstsq(A, rhs, rcond=None)[0]
    if (x[:s] < 0).any() or not np.allclose(A @ x, rhs, atol=1e-12):
        return None
    Q = np.zeros_like(P)
    Q[ks, js] = x[:s]
    return Q


def relaxed_primal(C: Any, a: Any, b: Any, G: Any, lam: float, *,
                   tol: float = 1e-9, max_iter: int = 2000) -> RelaxedPrimalResult:
    r"""Solve the relaxed primal problem :math:`E_\lambda` over stochastic encoders.

    .. math::

        E_\lambda = \min_{\pi \ge 0,\ \pi^\top\mathbf 1 = b}
        \langle C, \pi\rangle + \lambda\,(\pi\mathbf 1 - a)^\top G\,
        (\pi\mathbf 1 - a).

    Solved by sequential quadratic programming (SciPy's SLSQP), polished by
    solving the KKT equations on the plan's support (read at a few relative
    thresholds, since SLSQP leaves round-off entries off it), and certified
    by the Frank--Wolfe gap: for the gradient :math:`\Gamma` of the
    convex objective :math:`f` at :math:`\pi`,
    :math:`f(\pi) - \min f \le \langle\Gamma, \pi\rangle - \sum_j b_j
    \min_k\Gamma_{kj}`. The plan with the smaller gap is returned.

    Parameters
    ----------
    C : array_like, shape (K, n)
        Costs :math:`c(g(z_k), y_j)`.
    a : array_like, shape (K,)
        Latent (prior) weights :math:`\zeta`.
    b : array_like, shape (n,)
        Data weights :math:`\nu`.
    G : array_like, shape (K, K)
        Positive semi-definite Gram matrix of the kernel on the latent atoms.
    lam : float
        Penalty weight :math:`\lambda \ge 0`.
    tol : float, default 1e-9
        Accepted Frank--Wolfe gap.
    max_iter : int, default 2000
        SLSQP iterations.

    Returns
    -------
    RelaxedPrimalResult
        ``value``, ``plan``, ``cost``, ``penalty``, ``gap``, ``converged`` and
        ``message``; the plan is a float64 tensor if any input was a tensor.

    Raises
    ------
    ValueError
        Invalid weights, costs, a Gram matrix that is not symmetric positive
        semi-definite, or a negative ``lam``.

    Warns
    -----
    RuntimeWarning
        If the certified gap exceeds ``tol``.

    See Also
    --------
    deterministic_relaxed_primal : the minimum over deterministic encoders.
    exact_ot : the unrelaxed problem :math:`E` (the limit
        :math:`\lambda \to \infty`).
    kernel_matrix : a Gram matrix ``G``.

    Notes
    -----
    Derived in :ref:`vp-relaxation`.

    References
    ----------
    :cite:t:`tolstikhin2018wasserstein`; :cite:t:`bousquet2017optimal`.

    Examples
    --------
    >>> C = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> res = relaxed_primal(C, [0.5, 0.5], [0.5, 0.5], np.eye(2), lam=1.0)
    >>> round(res.value, 8), res.converged
    (0.0, True)
    """
    as_torch = is_torch(C, a, b, G)
    M, wa, wb, Gm, lam = _problem(C, a, b, G, lam)
    K, n = M.shape

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        P = x.reshape(K, n)
        r = P.sum(1) - wa
        grad = M + 2.0 * lam * (Gm @ r)[:, None]
        return float(np.sum(M * P) + lam * r @ Gm @ r), grad.ravel()

    A = np.kron(np.ones((1, K)), np.eye(n))        # column sums of P
    cons = {"type": "eq", "fun": lambda x: A @ x - wb, "jac": lambda x: A}
    x0 = (wa[:, None] * wb[None, :]).ravel()       # the product coupling
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sol = minimize(fun, x0, jac=True, method="SLSQP", constraints=[cons],
                       bounds=[(0.0, None)] * (K * n),
                       options={"ftol": 1e-16, "maxiter": max_iter})
    P = np.clip(sol.x.reshape(K, n), 0.0, None)
    P *= wb / P.sum(0)                             # exact column sums
    gap = _fw_gap(P, M, wa, wb, Gm, lam)
    candidates = [_polish(P, M, wa, wb, Gm, lam, t) for t in _SUPPORT_THRESHOLDS]
    for polished in candidates:
        if polished is not None:
            gap_p = _fw_gap(polished, M, wa, wb, Gm, lam)
            if gap_p < gap:
                P, gap = polished, gap_p
    value, cost, pen = _objective(P, M, wa, Gm, lam)
    converged = gap <= tol
    if converged:
        message = (f"Converged: the Frank-Wolfe gap {max(gap, 0.0):.3g} is below "
                   f"tol={tol:g}.")
    else:
        message = (f"Not converged: Frank-Wolfe gap {gap:.3g} > tol={tol:g} after "
                   f"SLSQP ({sol.message}); the value is certified only to "
                   "within the gap. Increase max_iter.")
        warnings.warn(f"relaxed_primal: {message}", RuntimeWarning, stacklevel=2)
    return RelaxedPrimalResult(value, to_output(P, as_torch), cost, pen,
                               max(gap, 0.0), converged, message)


def deterministic_relaxed_primal(C: Any, a: Any, b: Any, G: Any, lam: float,
                                 max_maps: int = 2_000_000) -> RelaxedPrimalResult:
    r"""Minimise the relaxed objective over deterministic encoders, by enumeration.

    A deterministic encoder :math:`f` sends data point :math:`y_j` to one
    latent atom :math:`z_{f(j)}`, so :math:`\pi_f = \sum_j b_j
    \delta_{(z_{f(j)}, y_j)}` and

    .. math::

        E^{\det}_\lambda = \min_{f:\{1..n\}\to\{1..K\}} \sum_j b_j C_{f(j)j}
        + \lambda\,(p_f - a)^\top G\,(p_f - a), \qquad
        (p_f)_k = \sum_{j: f(j) = k} b_j .

    All :math:`K^n` maps are tried, so the result is exact (``gap = 0``).

    Parameters
    ----------
    C, a, b, G, lam
        As in :func:`relaxed_primal`.
    max_maps : int
        Refuse problems with more than this many maps.

    Returns
    -------
    RelaxedPrimalResult
        With ``gap = 0`` and ``converged = True``; the plan is a float64
        tensor if any input was a tensor.

    Raises
    ------
    ValueError
        If :math:`K^n` exceeds ``max_maps``, or invalid inputs.

    See Also
    --------
    relaxed_primal : the minimum over stochastic encoders (a convex QP).

    Notes
    -----
    Derived in :ref:`vp-relaxation`.

    References
    ----------
    :cite:t:`tolstikhin2018wasserstein`.

    Examples
    --------
    >>> C = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> res = deterministic_relaxed_primal(C, [0.5, 0.5], [0.5, 0.5],
    ...                                    np.eye(2), lam=1.0)
    >>> res.plan
    array([[0.5, 0. ],
           [0. , 0.5]])
    """
    as_torch = is_torch(C, a, b, G)
    M, wa, wb, Gm, lam = _problem(C, a, b, G, lam)
    K, n = M.shape
    if K ** n > max_maps:
        raise ValueError(
            f"{K}^{n} = {K ** n} encoder maps exceed max_maps={max_maps}; use "
            "fewer data points or latent atoms."
        )
    maps = np.array(list(itertools.product(range(K), repeat=n)))   # (K^n, n)
    costs = (M[maps, np.arange(n)] * wb).sum(1)
    marg = np.zeros((maps.shape[0], K))
    for j in range(n):
        marg[np.arange(maps.shape[0]), maps[:, j]] += wb[j]
    r = marg - wa
    pens = np.einsum("mk,kl,ml->m", r, Gm, r)
    best = int(np.argmin(costs + lam * pens))
    P = np.zeros((K, n))
    P[maps[best], np.arange(n)] = wb
    value, cost, pen = _objective(P, M, wa, Gm, lam)
    return RelaxedPrimalResult(value, to_output(P, as_torch), cost, pen, 0.0, True,
                               f"Exact: the best of {K ** n} deterministic encoders.")
