"""Closed-form Wasserstein distances used as independent checks.

- :func:`wasserstein_1d`: :math:`W_p` between two discrete measures on the
  line, through their quantile functions;
- :func:`wasserstein_1d_cdf`: :math:`W_1 = \\int |F - G|` through the
  cumulative distribution functions;
- :func:`gaussian_w2`: :math:`W_2` between two Gaussians (Bures formula).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .inputs import to_numpy, validate_cloud, validate_exponent, validate_weights

__all__ = ["wasserstein_1d", "wasserstein_1d_cdf", "gaussian_w2"]


def _points_and_weights(x: Any, w: Any, name: str, wname: str
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Validate 1-D support points and weights (uniform if ``w`` is None) and
    return them sorted by position."""
    pts = to_numpy(x, name)
    if pts.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of points on the line, got shape "
            f"{pts.shape}."
        )
    pts = validate_cloud(pts, name)[:, 0]  # non-empty, finite
    n = pts.shape[0]
    wts = np.full(n, 1.0 / n) if w is None else validate_weights(w, wname, n=n)
    order = np.argsort(pts, kind="stable")
    return pts[order], wts[order]


def wasserstein_1d(x: Any, y: Any, a: Any = None, b: Any = None,
                   p: float = 1.0) -> float:
    r"""Wasserstein distance :math:`W_p` on the real line via quantiles.

    For measures :math:`\mu = \sum_i a_i \delta_{x_i}` and
    :math:`\nu = \sum_j b_j \delta_{y_j}` on :math:`\R` with quantile
    functions :math:`F^{-1}` and :math:`G^{-1}`,

    .. math::

        W_p(\mu, \nu) = \Bigl( \int_0^1 |F^{-1}(u) - G^{-1}(u)|^p \, du
        \Bigr)^{1/p} .

    Both quantile functions are step functions, so the integral is an exact
    finite sum over the merged breakpoints of the two cumulative weights.

    Parameters
    ----------
    x : array_like, shape (n,)
        Support of the first measure.
    y : array_like, shape (m,)
        Support of the second measure.
    a : array_like, shape (n,), optional
        Weights of ``x`` (default uniform).
    b : array_like, shape (m,), optional
        Weights of ``y`` (default uniform).
    p : float
        Order :math:`p \ge 1`.

    Returns
    -------
    float
        :math:`W_p` itself, *not* its p-th power (``ot.wasserstein_1d`` of POT
        returns :math:`W_p^p`).

    Raises
    ------
    ValueError
        Points not 1-D or not finite, invalid weights, :math:`p < 1`.
    TypeError
        If ``p`` is not a real number.

    See Also
    --------
    wasserstein_1d_cdf : :math:`W_1` through the CDFs.
    exact_ot : any dimension, by the transport problem.

    Notes
    -----
    Derived in :ref:`ot-closed-forms`.

    References
    ----------
    :cite:t:`santambrogio2015optimal`, chapter 2;
    :cite:t:`peyre2019computational`, chapter 2.

    Examples
    --------
    >>> wasserstein_1d([0.0, 1.0], [2.0, 3.0])
    2.0
    >>> round(wasserstein_1d([0.0], [1.0, 3.0], p=2) ** 2, 12)  # (1 + 9) / 2
    5.0
    """
    p = validate_exponent(p, minimum=1.0, inclusive=True)
    xs, a_s = _points_and_weights(x, a, "x", "a")
    ys, b_s = _points_and_weights(y, b, "y", "b")
    ca = np.cumsum(a_s)
    cb = np.cumsum(b_s)
    ca[-1] = cb[-1] = 1.0
    u = np.unique(np.concatenate([[0.0], ca, cb]))
    du = np.diff(u)
    mid = 0.5 * (u[:-1] + u[1:])
    i = np.minimum(np.searchsorted(ca, mid), xs.shape[0] - 1)
    j = np.minimum(np.searchsorted(cb, mid), ys.shape[0] - 1)
    with np.errstate(over="ignore"):  # W_p beyond 1.8e308 is inf, no warning
        gaps = np.abs(xs[i] - ys[j])
    # factor out the largest gap before the p-th power, so that gaps near
    # 1e200 (or 1e-200) neither overflow nor underflow
    scale = float(gaps.max())
    if scale == 0.0 or not np.isfinite(scale):
        return scale
    return scale * float(np.sum(du * (gaps / scale) ** p)) ** (1.0 / p)


def wasserstein_1d_cdf(x: Any, y: Any, a: Any = None, b: Any = None) -> float:
    r""":math:`W_1` on the real line as the :math:`L^1` distance of the CDFs.

    .. math::

        W_1(\mu, \nu) = \int_{\R} |F(t) - G(t)| \, dt ,

    an exact finite sum over the merged sorted support, where both
    cumulative distribution functions are constant between support points.

    Parameters
    ----------
    x : array_like, shape (n,)
    y : array_like, shape (m,)
    a : array_like, shape (n,), optional
        Weights of ``x`` (default uniform).
    b : array_like, shape (m,), optional
        Weights of ``y`` (default uniform).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Points not 1-D or not finite, invalid weights.

    See Also
    --------
    wasserstein_1d : :math:`W_p` through the quantile functions.

    Notes
    -----
    It agrees with :func:`wasserstein_1d` at ``p=1``. Derived in
    :ref:`ot-closed-forms`.

    References
    ----------
    :cite:t:`santambrogio2015optimal`, chapter 2.

    Examples
    --------
    >>> wasserstein_1d_cdf([0.0, 1.0], [2.0, 3.0])
    2.0
    """
    xs, a_s = _points_and_weights(x, a, "x", "a")
    ys, b_s = _points_and_weights(y, b, "y", "b")
    t = np.union1d(xs, ys)
    F = np.cumsum(a_s)[np.searchsorted(xs, t, side="right") - 1]
    F = np.where(t < xs[0], 0.0, F)
    G = np.cumsum(b_s)[np.searchsorted(ys, t, side="right") - 1]
    G = np.where(t < ys[0], 0.0, G)
    return float(np.sum(np.abs(F - G)[:-1] * np.diff(t)))


def _psd(S: Any, name: str, k: int) -> np.ndarray:
    M = to_numpy(S, name)
    if M.shape != (k, k):
        raise ValueError(f"{name} must have shape ({k}, {k}), got {M.shape}.")
    if not np.isfinite(M).all():
        raise ValueError(f"{name} contains NaN or infinite entries.")
    scale = max(1.0, float(np.abs(M).max()))
    if not np.allclose(M, M.T, rtol=0, atol=1e-12 * scale):
        raise ValueError(f"{name} must be symmetric.")
    lam = np.linalg.eigvalsh(M).min()
    if lam < -1e-12 * scale:
        raise ValueError(
            f"{name} must be positive semi-definite; its smallest eigenvalue "
            f"is {lam:.3g}."
        )
    return M


def _sqrt_psd(M: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix by eigendecomposition
    (round-off negative eigenvalues are clipped to 0)."""
    lam, V = np.linalg.eigh(0.5 * (M + M.T))
    return (V * np.sqrt(np.clip(lam, 0.0, None))) @ V.T


def gaussian_w2(m1: Any, S1: Any, m2: Any, S2: Any) -> float:
    r""":math:`W_2` between two Gaussians (Bures--Wasserstein formula).

    .. math::

        W_2^2\bigl(\mathcal N(m_1, \Sigma_1), \mathcal N(m_2, \Sigma_2)\bigr)
        = \|m_1 - m_2\|^2 + \tr \Sigma_1 + \tr \Sigma_2
          - 2 \tr \bigl(\Sigma_1^{1/2} \Sigma_2 \Sigma_1^{1/2}\bigr)^{1/2} .

    Parameters
    ----------
    m1, m2 : array_like, shape (k,)
        Means.
    S1, S2 : array_like, shape (k, k)
        Symmetric positive semi-definite covariances.

    Returns
    -------
    float
        :math:`W_2` (not squared).

    Raises
    ------
    ValueError
        Mismatched shapes, non-finite entries, a covariance that is not
        symmetric positive semi-definite.

    See Also
    --------
    gaussian_mmd2 : the Gaussian-kernel MMD between two Gaussians.
    exact_ot : the discrete problem between samples.

    Notes
    -----
    Derived in :ref:`ot-closed-forms`. The matrix square roots
    are symmetric eigendecompositions rather than :func:`scipy.linalg.sqrtm`,
    which warns on singular (degenerate) covariances. Near
    :math:`W_2 = 0` the result carries an error of order
    :math:`\sqrt{\text{round-off}}`, as any formula for a square root does.

    References
    ----------
    :cite:t:`peyre2019computational`, chapter 2.

    Examples
    --------
    >>> gaussian_w2([0.0], [[1.0]], [3.0], [[4.0]])  # |0-3|^2 + (1-2)^2
    3.1622776601683795
    """
    mu1, mu2 = to_numpy(m1, "m1"), to_numpy(m2, "m2")
    if mu1.ndim != 1 or mu1.shape != mu2.shape:
        raise ValueError(
            f"m1 and m2 must be 1-D means of the same length, got shapes "
            f"{mu1.shape} and {mu2.shape}."
        )
    if not (np.isfinite(mu1).all() and np.isfinite(mu2).all()):
        raise ValueError("m1 and m2 must be finite.")
    k = mu1.shape[0]
    A, B = _psd(S1, "S1", k), _psd(S2, "S2", k)
    rA = _sqrt_psd(A)
    cross = _sqrt_psd(rA @ B @ rA)
    w2 = float(np.sum((mu1 - mu2) ** 2) + np.trace(A) + np.trace(B)
               - 2.0 * np.trace(cross))
    return float(np.sqrt(max(w2, 0.0)))
