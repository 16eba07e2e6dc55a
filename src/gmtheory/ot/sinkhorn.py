r"""Entropic optimal transport: log-domain Sinkhorn and the Sinkhorn divergence.

The entropic problem with regularisation :math:`\varepsilon > 0`,

.. math::

    \mathrm{OT}_\varepsilon(a, b) = \min_{P \in \Pi(a, b)}
    \langle P, C\rangle + \varepsilon\,\mathrm{KL}(P \,\|\, a \otimes b),

has the dual :math:`\max_{f, g} \langle f, a\rangle + \langle g, b\rangle
- \varepsilon \langle e^{(f \oplus g - C)/\varepsilon} - 1, a \otimes b\rangle`,
and Sinkhorn's algorithm is block coordinate ascent on it: each half-step
replaces one potential by the soft c-transform of the other,

.. math::

    f_i \leftarrow -\varepsilon \log \sum_j b_j e^{(g_j - C_{ij})/\varepsilon},
    \qquad
    g_j \leftarrow -\varepsilon \log \sum_i a_i e^{(f_i - C_{ij})/\varepsilon}.

Computed with a log-sum-exp (torch), the iteration never under- or overflows,
whatever :math:`\varepsilon`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..validation import validate_positive, validate_positive_int, validate_real
from .backend import checked_problem, is_torch, to_output, uniform
from .cost import cost_matrix

__all__ = ["SinkhornResult", "sinkhorn", "sinkhorn_divergence"]

_AUTODIFF = ("envelope", "unroll")


@dataclass(frozen=True)
class SinkhornResult:
    r"""Result of :func:`sinkhorn`.

    Attributes
    ----------
    cost : float or Tensor
        Transport cost of the entropic plan, :math:`\langle P, C\rangle`
        (what :func:`ot.sinkhorn2` returns).
    value : float or Tensor
        Entropic value :math:`\langle f, a\rangle + \langle g, b\rangle`, the
        dual objective at the returned potentials; it equals
        :math:`\mathrm{OT}_\varepsilon(a, b)` at convergence, is a lower bound on
        it always, and is the quantity to differentiate.
    plan : ndarray or Tensor, shape (n, m)
        :math:`P_{ij} = a_i b_j e^{(f_i + g_j - C_{ij})/\varepsilon}`; its column
        sums are exactly ``b``, its row sums ``a`` up to ``violation``.
    f, g : ndarray or Tensor, shapes (n,) and (m,)
        Dual potentials.
    iterations : int
        Number of Sinkhorn iterations (each is one update of ``f`` and ``g``).
    converged : bool
        Whether the marginal violation fell below ``tol``.
    message : str
        What happened, in a sentence; when not converged, what to do.
    violation : float
        Final :math:`\|P\mathbf 1 - a\|_1`.
    violation_history : ndarray, shape (iterations,)
        :math:`\|P\mathbf 1 - a\|_1` after each iteration.
    eps : float
        The regularisation used.
    """

    cost: Any
    value: Any
    plan: Any
    f: Any
    g: Any
    iterations: int
    converged: bool
    message: str
    violation: float
    violation_history: np.ndarray
    eps: float


def _check_options(eps: float, max_iter: int, tol: float, autodiff: str) -> float:
    eps = validate_real(eps, "eps")
    if not (math.isfinite(eps) and eps > 0):
        raise ValueError(
            f"eps must be > 0 (the entropic regularisation), got {eps}; for "
            "eps = 0 use the exact solver gmtheory.ot.exact_ot."
        )
    validate_positive_int(max_iter, "max_iter", allow_bool=False)
    validate_positive(tol, "tol")
    if autodiff not in _AUTODIFF:
        raise ValueError(f"autodiff must be one of {_AUTODIFF}, got {autodiff!r}.")
    return eps


def _softmin(K: Tensor, pot: Tensor, logw: Tensor, eps: float, dim: int) -> Tensor:
    """Soft c-transform: ``-eps * logsumexp(K + pot/eps + log w)`` over ``dim``.

    ``K = -C / eps``; ``pot`` and ``logw`` live on the summed-over side.
    """
    shift = pot / eps + logw
    inner = K + (shift[None, :] if dim == 1 else shift[:, None])
    return -eps * torch.logsumexp(inner, dim=dim)


def sinkhorn(a: Any, b: Any, C: Any, eps: float, *, max_iter: int = 10_000,
             tol: float = 1e-9, autodiff: str = "envelope",
             symmetric: bool = False, warn: bool = True) -> SinkhornResult:
    r"""Entropic optimal transport by Sinkhorn iterations in the log domain.

    .. math::

        \mathrm{OT}_\varepsilon(a, b) = \min_{P \in \Pi(a, b)}
        \sum_{ij} C_{ij} P_{ij} + \varepsilon\,\mathrm{KL}(P \,\|\, a\otimes b)

    Parameters
    ----------
    a : ndarray or Tensor, shape (n,)
        Source weights (non-negative, sum 1).
    b : ndarray or Tensor, shape (m,)
        Target weights.
    C : ndarray or Tensor, shape (n, m)
        Finite cost matrix.
    eps : float
        Regularisation :math:`\varepsilon > 0`, in the units of ``C``.
    max_iter : int, default 10000
        Largest number of iterations.
    tol : float, default 1e-9
        Stop when the row-marginal violation :math:`\|P\mathbf 1 - a\|_1` is
        below ``tol`` (the column marginals are exact after every iteration).
    autodiff : {"envelope", "unroll"}, default "envelope"
        How gradients reach tensor inputs. ``"envelope"``: iterate without a
        graph, then take one differentiable half-step; the gradient of
        ``value`` is then the envelope-theorem gradient
        (:math:`\partial\,\mathrm{OT}_\varepsilon / \partial C = P`), exact at
        convergence, at the memory cost of one iteration. ``"unroll"``:
        differentiate through every iteration (memory grows with the
        iterations); use it to differentiate ``cost``.
    symmetric : bool, default False
        For :math:`\mathrm{OT}_\varepsilon(a, a)` with a symmetric ``C``: keep
        :math:`f = g` and use the averaged update
        :math:`f \leftarrow \frac12(f + \text{softmin}(f))`, which converges in
        a few iterations where the plain update oscillates.
    warn : bool, default True
        Emit a :class:`RuntimeWarning` if ``max_iter`` is reached first.

    Returns
    -------
    SinkhornResult
        ``cost``, ``value``, ``plan``, ``f``, ``g``, ``iterations``,
        ``converged``, ``message``, ``violation``, ``violation_history``,
        ``eps``.
        NumPy inputs give NumPy arrays and floats; if any of ``a, b, C`` is a
        tensor, results are float64 tensors carrying gradients.

    Raises
    ------
    ValueError
        If ``eps <= 0``, weights are not probability vectors of the right
        lengths, ``C`` is not a finite (n, m) matrix, or an option is invalid.

    Warns
    -----
    RuntimeWarning
        If the iterations stop before convergence; the message states the
        remaining marginal violation.

    See Also
    --------
    sinkhorn_divergence : the debiased divergence between two clouds.
    exact_ot : the unregularised problem (:math:`\varepsilon = 0`).
    cost_matrix : the cost :math:`\|x - y\|^p` between two clouds.

    Notes
    -----
    The stopping test costs nothing: the row sums of the current plan are
    :math:`a_i e^{(f_i - f_i^{\text{new}})/\varepsilon}`, where
    :math:`f^{\text{new}}` is the next update, which is computed anyway.
    Derived in :ref:`du-entropic`; the algorithm and its check in
    :ref:`du-sinkhorn`.

    References
    ----------
    :cite:t:`cuturi2013sinkhorn`; :cite:t:`peyre2019computational`,
    chapter 4.

    Examples
    --------
    >>> C = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> res = sinkhorn([0.5, 0.5], [0.5, 0.5], C, eps=0.1)
    >>> res.converged, round(res.cost, 6), res.plan.sum(0)
    (True, 4.5e-05, array([0.5, 0.5]))
    """
    eps = _check_options(eps, max_iter, tol, autodiff)
    as_torch = is_torch(a, b, C)
    a_t, b_t, C_t = checked_problem(a, b, C)
    loga_t, logb_t = torch.log(a_t), torch.log(b_t)

    track = autodiff == "unroll" and torch.is_grad_enabled()
    with torch.set_grad_enabled(track):
        K = -(C_t if track else C_t.detach()) / eps
        loga = loga_t if track else loga_t.detach()
        logb = logb_t if track else logb_t.detach()
        a_w = a_t if track else a_t.detach()
        if symmetric and (K.shape[0] != K.shape[1]
                          or not torch.equal(a_w.detach(), b_t.detach())):
            raise ValueError("symmetric=True needs a == b and a square C.")
        f = torch.zeros(K.shape[0], dtype=K.dtype)
        g = f if symmetric else _softmin(K, f, loga, eps, dim=0)
        history = []
        converged = False
        for _ in range(int(max_iter)):
            f_new = _softmin(K, g, logb, eps, dim=1)
            # row sums of the current plan: a * exp((f - f_new) / eps)
            viol = float((a_w * torch.expm1((f - f_new) / eps)).abs().sum().detach())
            history.append(viol)
            if viol < tol:
                converged = True
                break
            if symmetric:
                f = g = 0.5 * (f + f_new)
            else:
                f = f_new
                g = _softmin(K, f, loga, eps, dim=0)
    iterations = len(history)
    if not converged and not symmetric:
        # the last pair (f, g) was not measured yet: measure it
        with torch.no_grad():
            f_new = _softmin(-C_t.detach() / eps, g.detach(), logb_t.detach(), eps, 1)
            viol = float((a_t.detach() * torch.expm1((f.detach() - f_new) / eps)).abs().sum())
        history[-1] = viol
        # the last update of g may have been the one that met tol
        converged = viol < tol
    if converged:
        message = (f"Converged: the marginal violation {history[-1]:.3g} fell "
                   f"below tol={tol:g} after {iterations} iterations.")
    else:
        message = (f"Not converged: after {iterations} iterations the marginals "
                   f"are violated by {history[-1]:.3g} (L1 norm of P 1 - a) > "
                   f"tol={tol:g}. Increase max_iter or eps.")
        if warn:
            warnings.warn(f"sinkhorn: {message}", RuntimeWarning, stacklevel=2)
    if not track:
        # one differentiable half-step: envelope-theorem gradients
        f = f.detach()
        g = _softmin(-C_t / eps, f, loga_t, eps, dim=0)
    plan = torch.exp(loga_t[:, None] + logb_t[None, :]
                     + (f[:, None] + g[None, :] - C_t) / eps)
    cost = (plan * C_t).sum()
    value = (f * a_t).sum() + (g * b_t).sum()
    return SinkhornResult(
        cost=to_output(cost, as_torch),
        value=to_output(value, as_torch),
        plan=to_output(plan, as_torch),
        f=to_output(f, as_torch),
        g=to_output(g, as_torch),
        iterations=iterations,
        converged=converged,
        message=message,
        violation=history[-1],
        violation_history=np.asarray(history),
        eps=eps,
    )


def sinkhorn_divergence(x: Any, y: Any, eps: float, *, a: Any = None,
                        b: Any = None, p: float = 2.0, **options: Any) -> Any:
    r"""Debiased Sinkhorn divergence between two weighted point clouds.

    .. math::

        S_\varepsilon(\alpha, \beta) = \mathrm{OT}_\varepsilon(\alpha, \beta)
        - \tfrac12 \mathrm{OT}_\varepsilon(\alpha, \alpha)
        - \tfrac12 \mathrm{OT}_\varepsilon(\beta, \beta),
        \qquad c(x, y) = \|x - y\|_2^p .

    Parameters
    ----------
    x : ndarray or Tensor, shape (n, k) or (n,)
        Support of :math:`\alpha` (1-D: points on the line).
    y : ndarray or Tensor, shape (m, k) or (m,)
        Support of :math:`\beta`.
    eps : float
        Regularisation :math:`\varepsilon > 0`.
    a, b : array_like, shapes (n,) and (m,), optional
        Weights (default uniform).
    p : float, default 2
        Cost exponent (1 or 2 make :math:`e^{-c/\varepsilon}` a positive
        definite kernel, which is what makes :math:`S_\varepsilon \ge 0`).
    **options
        Passed to :func:`sinkhorn` (``max_iter``, ``tol``, ``autodiff``).

    Returns
    -------
    float or Tensor
        :math:`S_\varepsilon`, differentiable in ``x``, ``y`` for tensor input.

    Raises
    ------
    ValueError
        As :func:`sinkhorn`, or if ``x``, ``y`` are not point clouds of the same
        dimension.

    See Also
    --------
    sinkhorn : the entropic problem it solves three times.
    cost_matrix : the cost between the clouds.

    Notes
    -----
    :math:`S_\varepsilon(\alpha, \alpha) = 0`, :math:`S_\varepsilon \ge 0`, and
    :math:`S_\varepsilon \to W_c` as :math:`\varepsilon \to 0`. The three
    terms are the ``value`` of :func:`sinkhorn`; the two self-terms use its
    symmetric update. Derived in :ref:`du-entropic`.

    References
    ----------
    :cite:t:`feydy2019interpolating`.

    Examples
    --------
    >>> x = np.array([[0.0], [1.0]])
    >>> abs(sinkhorn_divergence(x, x[::-1], eps=0.1)) < 1e-12
    True
    """
    # tensors are taken to float64 first, so float32 clouds lose no digits
    X = x.to(torch.float64) if isinstance(x, Tensor) else x
    Y = y.to(torch.float64) if isinstance(y, Tensor) else y
    C_xy = cost_matrix(X, Y, p)  # validates x, y and p
    n, m = C_xy.shape
    a = uniform(n) if a is None else a
    b = uniform(m) if b is None else b

    def ot(C: Any, wu: Any, wv: Any, sym: bool) -> Any:
        return sinkhorn(wu, wv, C, eps, symmetric=sym, **options).value

    return (ot(C_xy, a, b, False) - 0.5 * ot(cost_matrix(X, X, p), a, a, True)
            - 0.5 * ot(cost_matrix(Y, Y, p), b, b, True))
