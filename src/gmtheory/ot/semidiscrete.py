r"""Semi-discrete optimal transport by averaged stochastic gradient ascent.

Between a measure :math:`\zeta` that we can only sample and a discrete
:math:`\nu = \sum_j b_j \delta_{y_j}`, the Kantorovich dual reduces to a
concave problem in one vector :math:`g \in \mathbb R^m`,

.. math::

    W_c(\zeta, \nu) = \max_{g \in \mathbb R^m} H(g), \qquad
    H(g) = \mathbb E_{x\sim\zeta}\big[g^{\bar c}(x)\big] + \sum_j b_j g_j,
    \qquad g^{\bar c}(x) = \min_j\,[c(x, y_j) - g_j],

whose stochastic gradient at a sample :math:`x` is :math:`b - e_{j^\star(x)}`,
with :math:`j^\star(x)` the index of the *Laguerre cell* containing :math:`x`
(Genevay, Cuturi, Peyré & Bach, 2016).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..validation import check_positive, check_positive_int
from .cost import cost_matrix
from .inputs import check_cloud, check_exponent, check_potential, check_weights

__all__ = ["SemiDiscreteResult", "laguerre_cells", "semidiscrete_dual",
           "semidiscrete_ot"]


@dataclass(frozen=True)
class SemiDiscreteResult:
    r"""Result of :func:`semidiscrete_ot`.

    Attributes
    ----------
    g : ndarray, shape (m,)
        Averaged dual vector :math:`\bar g` (normalised to mean zero).
    value : float
        Monte Carlo estimate of :math:`H(\bar g)` on a fresh sample, a
        lower bound on :math:`W_c(\zeta, \nu)` up to Monte Carlo error.
    value_se : float
        Standard error of ``value``.
    cell_masses : ndarray, shape (m,)
        Estimated :math:`\zeta`-mass of each Laguerre cell of :math:`\bar g`
        (the optimality condition is ``cell_masses == b``).
    mass_error : float
        :math:`\sum_j |\text{cell mass}_j - b_j|`, the estimated norm of the
        gradient of :math:`H` (includes Monte Carlo noise of order
        :math:`\sqrt{m / n_\text{eval}}`).
    iterations : int
        Number of stochastic gradient steps.
    converged : bool
        Whether ``mass_error <= tol``.
    g_history : ndarray, shape (k, m)
        Averaged iterate at ``record_every`` steps, for convergence plots.
    message : str
        What happened, in a sentence; when not converged, what to do.
    """

    g: np.ndarray
    value: float
    value_se: float
    cell_masses: np.ndarray
    mass_error: float
    iterations: int
    converged: bool
    g_history: np.ndarray
    message: str


def _targets(y: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    Y = check_cloud(y, "y")
    bw = np.full(Y.shape[0], 1.0 / Y.shape[0]) if b is None else check_weights(b, "b", Y.shape[0])
    return Y, bw


def _draw(sampler: Callable, n: int, rng: np.random.Generator, k: int) -> np.ndarray:
    """Draw ``n`` samples and check them: shape ``(n, k)``, finite."""
    out = sampler(n, rng)
    try:
        X = check_cloud(out, "the output of sampler(n, generator)")
    except (TypeError, ValueError) as err:
        raise type(err)(
            f"{err} The sampler must return n finite samples, shape (n, k) = "
            f"({n}, {k})."
        ) from None
    if X.shape != (n, k):
        raise ValueError(
            f"sampler(n, generator) must return an (n, k) = ({n}, {k}) array of "
            f"samples, got shape {X.shape}."
        )
    return X


def laguerre_cells(x: Any, y: Any, g: Any, p: float = 2.0) -> np.ndarray:
    r"""Index of the Laguerre cell of each point: :math:`\arg\min_j [c(x, y_j) - g_j]`.

    Parameters
    ----------
    x : array_like, shape (N, k)
    y : array_like, shape (m, k)
    g : array_like, shape (m,)
        Dual vector (weights of the power diagram).
    p : float
        Cost :math:`c(x, y) = \|x - y\|^p`.

    Returns
    -------
    ndarray of int, shape (N,)

    Examples
    --------
    >>> laguerre_cells([[0.1], [0.9]], [[0.0], [1.0]], [0.0, 0.0]).tolist()
    [0, 1]
    """
    C = cost_matrix(x, y, p)
    gv = check_potential(g, "g", C.shape[1], "the support y")
    return np.argmin(C - gv[None, :], axis=1)


def semidiscrete_dual(g: Any, x: Any, y: Any, b: Any = None,
                      p: float = 2.0) -> tuple[float, float]:
    r"""Monte Carlo estimate of :math:`H(g) = \mathbb E_\zeta[g^{\bar c}] + \langle g, b\rangle`.

    Parameters
    ----------
    g : array_like, shape (m,)
    x : array_like, shape (N, k)
        Samples of :math:`\zeta` (or grid points with equal weights).
    y : array_like, shape (m, k)
    b : array_like, shape (m,), optional
        Target weights (default uniform).
    p : float

    Returns
    -------
    (value, standard_error) : tuple of float

    Examples
    --------
    >>> x = np.linspace(0.0, 1.0, 5)[:, None]
    >>> semidiscrete_dual([0.0], x, [[0.0]])[0]
    0.375
    """
    Y, bw = _targets(y, b)
    gv = check_potential(g, "g", Y.shape[0], "the support y")
    vals = (cost_matrix(x, Y, p) - gv[None, :]).min(axis=1) + bw @ gv
    if len(vals) < 2:
        raise ValueError(
            f"x must hold at least 2 samples for a standard error, got {len(vals)}."
        )
    return float(vals.mean()), float(vals.std(ddof=1) / math.sqrt(len(vals)))


def semidiscrete_ot(sampler: Callable[[int, np.random.Generator], Any], y: Any,
                    b: Any = None, *, p: float = 2.0, n_iter: int = 20_000,
                    batch_size: int = 32, step: float = 1.0,
                    n_eval: int = 100_000, tol: float = 0.02,
                    record_every: int = 100, seed: int = 0,
                    warn: bool = True, g0: Any = None) -> SemiDiscreteResult:
    r"""Semi-discrete OT: averaged SGD on the dual vector of the discrete side.

    Maximises :math:`H(g) = \mathbb E_{x\sim\zeta}[g^{\bar c}(x)] + \langle g, b\rangle`
    with the stochastic gradient :math:`b - \frac1B \sum_{s} e_{j^\star(x_s)}`
    over a mini-batch of :math:`B` samples, the step
    :math:`\gamma_k = \gamma / \sqrt{k}`, and returns the running average of
    the iterates,

    .. math:: g_k = g_{k-1} + \frac{\gamma}{\sqrt k}\,\Big(b - \frac1B\sum_s e_{j^\star(x_s)}\Big),
              \qquad \bar g_k = \frac1k \sum_{l \le k} g_l .

    Parameters
    ----------
    sampler : callable
        ``sampler(n, generator)`` returns ``n`` samples of :math:`\zeta`,
        shape (n, k), using the :class:`numpy.random.Generator` it is given.
    y : array_like, shape (m, k)
        Support of :math:`\nu`.
    b : array_like, shape (m,), optional
        Weights of :math:`\nu` (default uniform).
    p : float, default 2
        Cost :math:`c(x, y) = \|x - y\|^p`.
    n_iter : int, default 20000
        Number of SGD steps.
    batch_size : int, default 32
        Samples per step.
    step : float, default 1.0
        :math:`\gamma`, in units of the cost.
    n_eval : int, default 100000
        Fresh samples used to estimate the value and the cell masses.
    tol : float, default 0.02
        Accept when :math:`\sum_j|\text{cell mass}_j - b_j| \le` ``tol``.
    record_every : int, default 100
        Store the averaged iterate every so many steps.
    seed : int, default 0
        Seed of the generator passed to ``sampler``.
    warn : bool, default True
        Emit a :class:`RuntimeWarning` when the mass error exceeds ``tol``.
    g0 : array_like, shape (m,), optional
        Starting dual vector (default zero), e.g. the previous solution when
        :math:`\zeta` changes little between calls (a generator in training).

    Returns
    -------
    SemiDiscreteResult

    Raises
    ------
    ValueError
        Bad weights, a sampler returning the wrong shape, or non-positive
        ``n_iter``, ``batch_size``, ``step``, ``n_eval`` or ``tol``.

    Warns
    -----
    RuntimeWarning
        If the estimated cell masses differ from ``b`` by more than ``tol``.

    Notes
    -----
    :math:`H` is concave and, when :math:`\zeta` has a density, differentiable
    with gradient :math:`b - (\zeta(L_j(g)))_j`; its maximiser is unique up to
    adding a constant, which the mean-zero normalisation removes. Chapter
    "Kantorovich duality and the c-transform".

    References
    ----------
    Genevay, Cuturi, Peyré & Bach (2016), *Stochastic optimization for
    large-scale optimal transport*, NeurIPS.

    Examples
    --------
    >>> def uniform01(n, rng):
    ...     return rng.uniform(size=(n, 1))
    >>> res = semidiscrete_ot(uniform01, [[0.25], [0.75]], n_iter=2000,
    ...                       n_eval=20000)
    >>> res.converged, abs(res.value - 1 / 48) < 3e-3
    (True, True)
    """
    Y, bw = _targets(y, b)
    m, k = Y.shape
    p = check_exponent(p)
    for name, val in (("n_iter", n_iter), ("batch_size", batch_size),
                      ("record_every", record_every)):
        check_positive_int(val, name, allow_bool=False)
    check_positive_int(n_eval, "n_eval", minimum=2, allow_bool=False)
    step = check_positive(step, "step")
    tol = check_positive(tol, "tol")
    if not callable(sampler):
        raise TypeError("sampler must be a callable sampler(n, generator).")

    rng = np.random.default_rng(seed)
    g = np.zeros(m) if g0 is None else check_potential(g0, "g0", m).copy()
    g_bar = np.zeros(m)
    history = []
    for it in range(1, int(n_iter) + 1):
        X = _draw(sampler, batch_size, rng, k)
        cost = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
        if p != 2:
            cost = np.sqrt(cost) ** p
        j = np.argmin(cost - g[None, :], axis=1)
        grad = bw - np.bincount(j, minlength=m) / batch_size
        g = g + step / math.sqrt(it) * grad
        g_bar += (g - g_bar) / it
        if it % record_every == 0:
            history.append(g_bar - g_bar.mean())
    g_bar = g_bar - g_bar.mean()
    X = _draw(sampler, int(n_eval), rng, k)
    value, se = semidiscrete_dual(g_bar, X, Y, bw, p)
    masses = np.bincount(laguerre_cells(X, Y, g_bar, p), minlength=m) / len(X)
    err = float(np.abs(masses - bw).sum())
    converged = err <= tol
    if converged:
        message = (f"Converged: after {n_iter} SGD steps the Laguerre cell masses "
                   f"differ from b by {err:.3g} (L1, on {int(n_eval)} fresh "
                   f"samples) <= tol={tol:g}.")
    else:
        message = (f"Not converged: after {n_iter} steps the Laguerre cell masses "
                   f"differ from b by {err:.3g} (L1) > tol={tol:g}; increase "
                   "n_iter or batch_size, or tune step.")
        if warn:
            warnings.warn(f"semidiscrete_ot: {message}", RuntimeWarning, stacklevel=2)
    return SemiDiscreteResult(
        g=g_bar, value=value, value_se=se, cell_masses=masses,
        mass_error=err, iterations=int(n_iter), converged=converged,
        g_history=np.asarray(history).reshape(-1, m), message=message,
    )
