r"""Semi-discrete optimal transport: averaged SGD, then damped Newton if needed.

Between a measure :math:`\zeta` that we can only sample and a discrete
:math:`\nu = \sum_j b_j \delta_{y_j}`, the Kantorovich dual reduces to a
concave problem in one vector :math:`g \in \mathbb R^m`,

.. math::

    W_c(\zeta, \nu) = \max_{g \in \mathbb R^m} H(g), \qquad
    H(g) = \mathbb E_{x\sim\zeta}\big[g^{\bar c}(x)\big] + \sum_j b_j g_j,
    \qquad g^{\bar c}(x) = \min_j\,[c(x, y_j) - g_j],

whose stochastic gradient at a sample :math:`x` is :math:`b - e_{j^\star(x)}`,
with :math:`j^\star(x)` the index of the *Laguerre cell* containing :math:`x`
(Genevay, Cuturi, Peyré & Bach, 2016). Averaged SGD on it is slow when
:math:`H` is ill-conditioned (two atoms close together); a second phase,
damped Newton on an entropic smoothing of :math:`H` on a fixed sample with
the smoothing annealed (after Kitagawa, Mérigot & Thibert, 2019), then
brings the cell masses to :math:`b`."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..validation import validate_positive, validate_positive_int
from .cost import cost_matrix
from .ctransform import c_transform, cbar_transform
from .inputs import validate_cloud, validate_exponent, validate_potential, validate_weights

__all__ = ["SemiDiscreteResult", "laguerre_cells", "semidiscrete_dual",
           "semidiscrete_ot"]


@dataclass(frozen=True)
class SemiDiscreteResult:
    r"""Result of :func:`semidiscrete_ot`.

    Attributes
    ----------
    g : ndarray, shape (m,)
        Dual vector (normalised to mean zero): the averaged SGD iterate
        :math:`\bar g`, or the Newton iterate when that phase ran.
    value : float
        Monte Carlo estimate of :math:`H(g)` on a fresh sample, a
        lower bound on :math:`W_c(\zeta, \nu)` up to Monte Carlo error.
    value_se : float
        Standard error of ``value``.
    cell_masses : ndarray, shape (m,)
        Estimated :math:`\zeta`-mass of each Laguerre cell of ``g``
        (the optimality condition is ``cell_masses == b``).
    mass_error : float
        :math:`\sum_j |\text{cell mass}_j - b_j|`, the estimated norm of the
        gradient of :math:`H` (includes Monte Carlo noise of order
        :math:`\sqrt{m / n_\text{eval}}`).
    iterations : int
        Number of stochastic gradient steps (0 for ``method="newton"``).
    converged : bool
        Whether ``mass_error <= tol``.
    g_history : ndarray, shape (k, m)
        Averaged SGD iterate at ``record_every`` steps, for convergence plots.
    message : str
        What was done: the phases that ran, the final mass error against
        ``tol`` and, when not converged, what to change.
    newton_iterations : int
        Number of damped Newton steps (0 when the Newton phase did not run).
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
    newton_iterations: int


def _targets(y: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    Y = validate_cloud(y, "y")
    bw = np.full(Y.shape[0], 1.0 / Y.shape[0]) if b is None else validate_weights(b, "b", Y.shape[0])
    return Y, bw


def _draw(sampler: Callable, n: int, rng: np.random.Generator, k: int) -> np.ndarray:
    """Draw ``n`` samples and check them: shape ``(n, k)``, finite."""
    out = sampler(n, rng)
    try:
        X = validate_cloud(out, "the output of sampler(n, generator)")
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
    gv = validate_potential(g, "g", C.shape[1], "the support y")
    return cbar_transform(gv, C, return_argmin=True, check=False)[1]


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
    gv = validate_potential(g, "g", Y.shape[0], "the support y")
    vals = cbar_transform(gv, cost_matrix(x, Y, p), check=False) + bw @ gv
    if len(vals) < 2:
        raise ValueError(
            f"x must hold at least 2 samples for a standard error, got {len(vals)}."
        )
    return float(vals.mean()), float(vals.std(ddof=1) / math.sqrt(len(vals)))


#: methods of :func:`semidiscrete_ot`
_METHODS = ("sgd+newton", "sgd", "newton")
#: first smoothing of the Newton phase, as a fraction of the mean cost range
#: :math:`\bar C = \frac1N\sum_i(\max_j C_{ij} - \min_j C_{ij})`
_EPS_START = 0.1
#: factor by which the smoothing shrinks from one Newton stage to the next
_EPS_DECAY = 0.1
#: smallest smoothing, as a fraction of :math:`\bar C / N`: below it the
#: smoothed bands around the cell boundaries hold no sample point
_EPS_FLOOR = 1e-3
#: largest move of a dual entry in one Newton step, in units of eps
_TRUST = 10.0
#: sufficient-increase constant of the backtracking (Armijo) line search
_ARMIJO = 0.25
#: entries of the (rows x m) blocks in which the sample is processed
_BLOCK = 1 << 20


@dataclass(frozen=True)
class _NewtonPhase:
    """What the Newton phase did (internal)."""

    g: np.ndarray
    steps: int
    eps: float  # the last smoothing used (NaN if no step was needed)
    sample_error: float
    reached: bool


def _smoothed_semidual(C: np.ndarray, g: np.ndarray, logb: np.ndarray,
                       b: np.ndarray, eps: float, hessian: bool
                       ) -> tuple[float, np.ndarray, np.ndarray | None]:
    r"""Value, mean soft assignment and Hessian of :math:`H_\varepsilon` on a sample.

    :math:`H_\varepsilon(g) = -\frac{\varepsilon}{N}\sum_i \log\sum_j
    b_j e^{(g_j - C_{ij})/\varepsilon} + \langle g, b\rangle`; returns
    :math:`(H_\varepsilon(g), \bar\pi, -\nabla^2 H_\varepsilon(g))` with
    :math:`\bar\pi = \frac1N\sum_i\pi_i` (so :math:`\nabla H_\varepsilon =
    b - \bar\pi`) and :math:`-\nabla^2 H_\varepsilon = \frac1{\varepsilon N}
    \sum_i(\operatorname{diag}\pi_i - \pi_i\pi_i^\top)`, processed in row
    blocks to bound the memory. A row whose soft assignment is one-hot to
    :math:`10^{-13}` adds nothing to the Hessian and is skipped there: at
    small :math:`\varepsilon` only the points near a cell boundary count,
    which also avoids the cancellation in :math:`\operatorname{diag}\bar\pi -
    \frac1N\sum_i\pi_i\pi_i^\top`.
    """
    N, m = C.shape
    total, mean_pi = 0.0, np.zeros(m)
    hess = np.zeros((m, m)) if hessian else None
    rows = max(1, _BLOCK // m)
    for s in range(0, N, rows):
        Z = (g[None, :] - C[s:s + rows]) / eps + logb[None, :]
        zmax = Z.max(axis=1, keepdims=True)
        E = np.exp(Z - zmax)
        S = E.sum(axis=1, keepdims=True)
        total += float((zmax + np.log(S)).sum())
        P = E / S
        mean_pi += P.sum(axis=0)
        if hess is not None:
            soft = P[S[:, 0] > 1.0 + 1e-13]
            hess += np.diag(soft.sum(axis=0)) - soft.T @ soft
    value = -eps * total / N + float(b @ g)
    mean_pi /= N
    return value, mean_pi, None if hess is None else hess / (eps * N)


def _hard_error(C: np.ndarray, g: np.ndarray, b: np.ndarray) -> float:
    """L1 distance between the Laguerre cell masses on the sample and ``b``."""
    cells = cbar_transform(g, C, return_argmin=True, check=False)[1]
    return float(np.abs(np.bincount(cells, minlength=len(b)) / len(C) - b).sum())


def _newton_direction(A: np.ndarray, grad: np.ndarray, scale: float,
                      radius: float) -> np.ndarray:
    r"""Regularised Newton step :math:`d = (A + \lambda I)^{-1}\nabla`.

    :math:`A = -\nabla^2 H_\varepsilon` is positive semi-definite with
    :math:`A\mathbf 1 = 0`, and :math:`\mathbf 1^\top\nabla = 0`, so
    :math:`d` has mean zero. :math:`\lambda \ge \|\nabla\|_\infty / \bar C`
    (Levenberg--Marquardt, vanishing with the gradient so that the steps
    become Newton steps near the maximiser) is raised until
    :math:`\|d\|_\infty \le` ``radius``: the quadratic model of
    :math:`H_\varepsilon` only holds while the soft assignments change by
    little, and where they are one-hot :math:`A` is (nearly) zero.
    """
    w, V = np.linalg.eigh(A)
    w = np.clip(w, 0.0, None)
    coef = V.T @ grad
    lam = max(float(np.abs(grad).max()) / scale, 1e-12 * float(w.max()))
    d = V @ (coef / (w + lam))
    while np.abs(d).max() > radius:
        lam *= 4.0
        d = V @ (coef / (w + lam))
    return d


def _newton_phase(C: np.ndarray, b: np.ndarray, g: np.ndarray,
                  target: float, max_steps: int) -> _NewtonPhase:
    r"""Damped Newton on the smoothed semi-dual of a fixed sample, eps annealed.

    Stops as soon as the *hard* Laguerre cells of the sample carry ``b`` to
    ``target`` (L1), after ``max_steps`` Newton steps, or when the smoothing
    reaches its floor. Atoms of zero weight are left out and given an empty
    cell on the sample.
    """
    N, m = C.shape
    scale = float((C.max(axis=1) - C.min(axis=1)).mean())
    scale = scale if scale > 0 else 1.0
    active = b > 0
    Ca, ba, ga = C[:, active], b[active], g[active].copy()
    logb = np.log(ba)
    eps, eps_min = _EPS_START * scale, _EPS_FLOOR * scale / N
    steps, last_eps = 0, math.nan
    err = _hard_error(Ca, ga, ba)
    while err > target and steps < max_steps and eps >= eps_min:
        last_eps = eps
        value, mean_pi, A = _smoothed_semidual(Ca, ga, logb, ba, eps, True)
        while steps < max_steps:
            grad = ba - mean_pi
            if np.abs(grad).sum() <= target / 4:
                break  # the smoothed problem is solved at this eps
            d = _newton_direction(A, grad, scale, _TRUST * eps)
            slope, t = float(grad @ d), 1.0
            if not slope > 0:
                break  # no ascent direction left at this eps
            while t >= 1e-12:  # backtracking (Armijo)
                trial = _smoothed_semidual(Ca, ga + t * d, logb, ba, eps, True)
                if trial[0] >= value + _ARMIJO * t * slope:
                    break
                t /= 2
            steps += 1
            if t < 1e-12:
                break  # no ascent along d: go to a smaller eps
            ga = ga + t * d
            value, mean_pi, A = trial
            err = _hard_error(Ca, ga, ba)
            if err <= target:
                break
        eps *= _EPS_DECAY
    out = np.empty(m)
    out[active] = ga
    if not active.all():
        # empty cells: c(x_i, y_j) - g_j above the minimum over the active
        # atoms at every sample point, by a margin of one cost range
        phi = cbar_transform(ga, Ca, check=False)
        out[~active] = c_transform(phi, C[:, ~active], check=False) - scale
    err = _hard_error(C, out, b)
    return _NewtonPhase(out - out.mean(), steps, last_eps, err, err <= target)


def _evaluate(sampler: Callable, n_eval: int, rng: np.random.Generator,
              Y: np.ndarray, bw: np.ndarray, g: np.ndarray, p: float
              ) -> tuple[float, float, np.ndarray, float]:
    """Value, its standard error, cell masses and L1 mass error on fresh samples."""
    X = _draw(sampler, n_eval, rng, Y.shape[1])
    value, se = semidiscrete_dual(g, X, Y, bw, p)
    masses = np.bincount(laguerre_cells(X, Y, g, p), minlength=len(bw)) / len(X)
    return value, se, masses, float(np.abs(masses - bw).sum())


def _noise(b: np.ndarray, *sizes: int) -> float:
    r"""Expected L1 Monte Carlo error of cell masses estimated from samples.

    :math:`\sqrt{2/\pi}\sum_j\sqrt{b_j(1-b_j)\sum_s 1/n_s}`, the mean of
    :math:`\sum_j|Z_j|` for independent normal errors of the binomial
    variances of the samples of sizes :math:`n_s`.
    """
    inv = sum(1.0 / n for n in sizes)
    return float(math.sqrt(2 / math.pi) * np.sqrt(b * (1 - b) * inv).sum())


def semidiscrete_ot(sampler: Callable[[int, np.random.Generator], Any], y: Any,
                    b: Any = None, *, p: float = 2.0, n_iter: int = 20_000,
                    batch_size: int = 32, step: float = 1.0,
                    n_eval: int = 100_000, tol: float = 0.02,
                    record_every: int = 100, seed: int = 0,
                    warn: bool = True, g0: Any = None,
                    method: str = "sgd+newton", n_newton: int | None = None,
                    newton_iter: int = 100) -> SemiDiscreteResult:
    r"""Semi-discrete OT: averaged SGD on the dual vector, then damped Newton if needed.

    Maximises :math:`H(g) = \mathbb E_{x\sim\zeta}[g^{\bar c}(x)] + \langle g, b\rangle`.

    **Phase 1, averaged SGD.** With the stochastic gradient
    :math:`b - \frac1B \sum_{s} e_{j^\star(x_s)}` over a mini-batch of
    :math:`B` samples and the step :math:`\gamma_k = \gamma / \sqrt{k}`,
    the running average of the iterates,

    .. math:: g_k = g_{k-1} + \frac{\gamma}{\sqrt k}\,\Big(b - \frac1B\sum_s e_{j^\star(x_s)}\Big),
              \qquad \bar g_k = \frac1k \sum_{l \le k} g_l .

    The cell masses of :math:`\bar g` are then estimated on ``n_eval``
    fresh samples; if they match ``b`` to ``tol`` (L1), :math:`\bar g` is
    returned.

    **Phase 2, damped Newton** (``method="sgd+newton"`` when phase 1 missed
    ``tol``, or ``method="newton"``). On a fixed sample
    :math:`x_1,\dots,x_N` of :math:`\zeta` (:math:`N` = ``n_newton``) and
    from the current :math:`g`, damped Newton ascent on the smoothed
    semi-dual

    .. math::

        H_\varepsilon(g) = -\frac{\varepsilon}{N}\sum_{i=1}^N
        \log\sum_{j=1}^m b_j\, e^{(g_j - c(x_i, y_j))/\varepsilon}
        + \langle g, b\rangle ,
        \qquad
        \nabla H_\varepsilon = b - \bar\pi, \qquad
        -\nabla^2 H_\varepsilon = \frac1\varepsilon\Big(\operatorname{diag}\bar\pi
        - \frac1N\sum_i \pi_i\pi_i^\top\Big),

    where :math:`\pi_{ij} \propto b_j e^{(g_j - c(x_i, y_j))/\varepsilon}`
    is the soft assignment of :math:`x_i` (rows summing to one) and
    :math:`\bar\pi = \frac1N\sum_i\pi_i`. With
    :math:`A = -\nabla^2 H_\varepsilon` (exact on the sample, however
    close two atoms are; :math:`A\mathbf 1 = 0`), each step solves

    .. math:: (A + \lambda I)\, d = \nabla H_\varepsilon(g), \qquad
              g \leftarrow g + t\, d,

    with :math:`\lambda = \|\nabla H_\varepsilon\|_\infty / \bar C`
    (Levenberg--Marquardt), raised until :math:`\|d\|_\infty \le
    10\varepsilon` (the range over which the soft assignments, hence the
    quadratic model, change), and :math:`t = 1, \frac12, \dots` the first
    step at which :math:`H_\varepsilon` increases by a quarter of its
    linear prediction (Armijo); :math:`d` has mean zero, as the gradient.
    :math:`\varepsilon` starts at a tenth of the mean cost range
    :math:`\bar C = \frac1N\sum_i(\max_j c(x_i, y_j) - \min_j c(x_i, y_j))`
    and is divided by ten once :math:`H_\varepsilon` is maximised
    (:math:`\|\nabla H_\varepsilon\|_1` below a quarter of the target),
    down to :math:`10^{-3}\bar C/N`. The phase stops on the
    *mass*, not on the value: as soon as the hard Laguerre cells of the
    sample carry ``b`` to :math:`\max(\mathrm{tol}/10,\ m/N)` (L1), or
    after ``newton_iter`` steps. As :math:`\varepsilon \to 0`,
    :math:`H_\varepsilon` tends to the semi-dual of the sample, whose
    maximiser tends to that of :math:`H` as :math:`N \to \infty`. The
    result is then evaluated on ``n_eval`` fresh samples.

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
        Number of SGD steps (ignored by ``method="newton"``).
    batch_size : int, default 32
        Samples per step.
    step : float, default 1.0
        :math:`\gamma`, in units of the cost.
    n_eval : int, default 100000
        Fresh samples used to estimate the value and the cell masses (after
        each phase).
    tol : float, default 0.02
        Accept when :math:`\sum_j|\text{cell mass}_j - b_j| \le` ``tol``.
        It cannot be met below the Monte Carlo noise of the estimate, about
        :math:`\sqrt{2/\pi}\sum_j\sqrt{b_j(1-b_j)/n_\text{eval}}`.
    record_every : int, default 100
        Store the averaged SGD iterate every so many steps.
    seed : int, default 0
        Seed of the generator passed to ``sampler``.
    warn : bool, default True
        Emit a :class:`RuntimeWarning` when the mass error exceeds ``tol``.
    g0 : array_like, shape (m,), optional
        Starting dual vector (default zero), e.g. the previous solution when
        :math:`\zeta` changes little between calls (a generator in training).
    method : {"sgd+newton", "sgd", "newton"}, default "sgd+newton"
        ``"sgd"``: phase 1 only (the algorithm of the book).
        ``"sgd+newton"``: phase 2 runs only when phase 1 missed ``tol``, so
        on problems where SGD converges the result is that of ``"sgd"``.
        ``"newton"``: phase 2 only, from ``g0``.
    n_newton : int, optional
        Size :math:`N` of the fixed sample of phase 2 (default ``n_eval``).
        Memory grows as :math:`N m`; the sampling error of the cells as
        :math:`1/\sqrt N`.
    newton_iter : int, default 100
        Most Newton steps of phase 2.

    Returns
    -------
    SemiDiscreteResult
        ``message`` says which phases ran and the final mass error.

    Raises
    ------
    ValueError
        Bad weights, a sampler returning the wrong shape, an unknown
        ``method``, or non-positive ``n_iter``, ``batch_size``, ``step``,
        ``n_eval``, ``n_newton``, ``newton_iter`` or ``tol``.

    Warns
    -----
    RuntimeWarning
        If the estimated cell masses differ from ``b`` by more than ``tol``;
        the text is ``message``, with advice that applies to the case.

    See Also
    --------
    laguerre_cells : the cells of a dual vector.
    semidiscrete_dual : Monte Carlo estimate of :math:`H(g)`.
    gmtheory.ot.exact_ot : discrete OT, for a sample of :math:`\zeta`.

    Notes
    -----
    Derived in :ref:`du-semidiscrete`. :math:`H` is concave and, when
    :math:`\zeta` has a density, differentiable with gradient
    :math:`b - (\zeta(L_j(g)))_j`; its maximiser is unique up to adding a
    constant, which the mean-zero normalisation removes.

    Averaged SGD is slow along directions where :math:`H` is steep, such as
    :math:`g_j - g_l` for two atoms :math:`y_j, y_l` close to each other:
    their common boundary moves by :math:`\delta` when :math:`g_j - g_l`
    moves by :math:`2\|y_j - y_l\|\delta` (squared cost), so the noise of
    the steps throws the boundary far and more steps help little. Newton's
    method is invariant to this scaling. :cite:t:`kitagawa2019newton` prove
    the global linear convergence of damped Newton on the exact semi-dual
    (for costs such as the squared distance, and cell masses and their
    derivatives computed exactly); here the masses are sampled, and the
    smoothing makes the semi-dual of the sample twice differentiable.

    References
    ----------
    :cite:t:`genevay2016stochastic` (averaged SGD);
    :cite:t:`kitagawa2019newton` (damped Newton).

    Examples
    --------
    >>> def uniform01(n, rng):
    ...     return rng.uniform(size=(n, 1))
    >>> res = semidiscrete_ot(uniform01, [[0.25], [0.75]], n_iter=2000,
    ...                       n_eval=20000)
    >>> res.converged, abs(res.value - 1 / 48) < 3e-3
    (True, True)
    >>> res.message.startswith("averaged SGD ran 2000 steps")
    True
    """
    Y, bw = _targets(y, b)
    m, k = Y.shape
    p = validate_exponent(p)
    for name, val in (("n_iter", n_iter), ("batch_size", batch_size),
                      ("record_every", record_every),
                      ("newton_iter", newton_iter)):
        validate_positive_int(val, name, allow_bool=False)
    validate_positive_int(n_eval, "n_eval", minimum=2, allow_bool=False)
    n_fixed = int(n_eval) if n_newton is None else validate_positive_int(
        n_newton, "n_newton", allow_bool=False)
    step = validate_positive(step, "step")
    tol = validate_positive(tol, "tol")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
    if not callable(sampler):
        raise TypeError("sampler must be a callable sampler(n, generator).")

    rng = np.random.default_rng(seed)
    g = np.zeros(m) if g0 is None else validate_potential(g0, "g0", m).copy()
    history: list[np.ndarray] = []
    phases: list[str] = []
    n_sgd, run_newton = 0, method == "newton"
    if method != "newton":
        g_bar = np.zeros(m)
        for it in range(1, int(n_iter) + 1):
            X = _draw(sampler, batch_size, rng, k)
            j = cbar_transform(g, cost_matrix(X, Y, p, check=False),
                               return_argmin=True, check=False)[1]
            grad = bw - np.bincount(j, minlength=m) / batch_size
            g = g + step / math.sqrt(it) * grad
            g_bar += (g - g_bar) / it
            if it % record_every == 0:
                history.append(g_bar - g_bar.mean())
        g = g_bar - g_bar.mean()
        n_sgd = int(n_iter)
        value, se, masses, err = _evaluate(sampler, int(n_eval), rng, Y, bw, g, p)
        phases.append(f"averaged SGD ran {n_sgd} steps")
        run_newton = method == "sgd+newton" and err > tol
        if run_newton:
            phases[0] += f" (cell-mass error {err:.3g} > tol)"
    newton = None
    if run_newton:
        X = _draw(sampler, n_fixed, rng, k)
        newton = _newton_phase(cost_matrix(X, Y, p), bw, g,
                               max(tol / 10, m / n_fixed), int(newton_iter))
        g = newton.g
        value, se, masses, err = _evaluate(sampler, int(n_eval), rng, Y, bw, g, p)
        last = "" if newton.steps == 0 else f"final eps {newton.eps:.2g}, "
        phases.append(
            f"damped Newton on the smoothed semi-dual of {n_fixed} fixed samples "
            f"ran {newton.steps} steps ({last}cell-mass error "
            f"{newton.sample_error:.2g} on that sample)")
    converged = err <= tol
    message = (
        f"{', then '.join(phases)}; the Laguerre cell masses differ from b by "
        f"{err:.3g} (L1, on {int(n_eval)} fresh samples) "
        f"{'<=' if converged else '>'} tol={tol:g}")
    if converged:
        message += "."
    else:
        message += "; " + _advice(newton, bw, err, int(n_eval), n_fixed, tol,
                                  int(newton_iter)) + "."
        if warn:
            warnings.warn(f"semidiscrete_ot: {message}", RuntimeWarning,
                          stacklevel=2)
    return SemiDiscreteResult(
        g=g, value=value, value_se=se, cell_masses=masses,
        mass_error=err, iterations=n_sgd, converged=converged,
        g_history=np.asarray(history).reshape(-1, m), message=message,
        newton_iterations=0 if newton is None else newton.steps,
    )


def _advice(newton: _NewtonPhase | None, b: np.ndarray, err: float,
            n_eval: int, n_fixed: int, tol: float, newton_iter: int) -> str:
    """What to do when the cell masses missed ``tol`` (one clause)."""
    if newton is None:  # method="sgd"
        floor = _noise(b, n_eval)
        if err <= 1.5 * floor:
            return (f"the Monte Carlo noise of the estimate alone is about "
                    f"{floor:.2g}: raise n_eval (the noise falls as "
                    "1/sqrt(n_eval)) or tol")
        return ("more SGD steps help little when the problem is ill-conditioned "
                "(e.g. close atoms); use method='sgd+newton' (the default), "
                "which finishes with damped Newton on a fixed sample")
    if newton.reached:
        floor = _noise(b, n_eval, n_fixed)
        return (f"the cells carry b on the fixed sample (to "
                f"{newton.sample_error:.2g}), so the rest is sampling noise "
                f"(about {floor:.2g} expected): raise n_eval and n_newton (it "
                "falls as 1/sqrt(n)) or tol")
    if newton.steps >= newton_iter:
        return (f"the Newton phase used all newton_iter={newton_iter} steps; "
                "raise newton_iter")
    return ("the Newton phase could not split the fixed sample into cells of "
            "masses b: check that y has no repeated atoms and that the sampler "
            "draws from a density (no repeated points), as semi-discrete OT "
            "by Laguerre cells requires")
