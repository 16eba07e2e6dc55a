r"""Maximum mean discrepancy (MMD) with the Gaussian and the inverse
multiquadric kernel.

For a positive definite kernel :math:`k` the squared MMD between two
probability measures is

.. math::

    \mathrm{MMD}_k^2(\mu, \nu) = \mathbb E\,k(X, X') + \mathbb E\,k(Y, Y')
    - 2\,\mathbb E\,k(X, Y), \qquad X, X' \sim \mu,\ Y, Y' \sim \nu,

all independent.  It is finite for any pair of measures when :math:`k` is
bounded -- a Dirac against a Gaussian included, where the KL divergence is
infinite -- and it vanishes only for :math:`\mu = \nu` when :math:`k` is
characteristic (both kernels here are).  From samples
:math:`x_1..x_n \sim \mu`, :math:`y_1..y_m \sim \nu` there are two estimators:
the unbiased U-statistic, which leaves out the diagonal terms,

.. math::

    \widehat{\mathrm{MMD}}{}^2_u = \frac{1}{n(n-1)}\sum_{i\ne i'} k(x_i, x_{i'})
    + \frac{1}{m(m-1)}\sum_{j\ne j'} k(y_j, y_{j'})
    - \frac{2}{nm}\sum_{i,j} k(x_i, y_j),

and the biased V-statistic, which keeps them.  The V-statistic with weights
:math:`a, b` is the *exact* MMD between the discrete measures
:math:`\sum_i a_i\delta_{x_i}` and :math:`\sum_j b_j\delta_{y_j}`.

Everything is computed in torch, so the estimators are differentiable in the
points (this is the penalty of the Wasserstein autoencoder,
:mod:`gmtheory.models.wae`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..validation import validate_points, validate_positive
from .backend import is_torch, to_output, to_tensor
from .cost import cost_matrix
from .inputs import validate_weights

__all__ = ["KERNELS", "gaussian_mmd2", "kernel_matrix", "mmd2"]

#: names accepted by ``kernel=``
KERNELS = ("imq", "gaussian")


def _points(x: Any, name: str) -> Tensor:
    if isinstance(x, Tensor):
        t = x if x.dtype == torch.float64 else x.to(torch.float64)
    else:
        t = to_tensor(np.asarray(x, dtype=float))
    if t.ndim == 1:
        raise ValueError(
            f"{name} must have shape (n, k), got shape {tuple(t.shape)}; use "
            f"{name}[:, None] for points on the line."
        )
    return validate_points(t, name)


def kernel_matrix(x: Any, y: Any, kernel: str = "imq",
                  scale: float = 1.0) -> np.ndarray | Tensor:
    r"""Gram matrix :math:`K_{ij} = k(x_i, y_j)` of one of two kernels.

    .. math::

        k_{\text{imq}}(x, y) = \frac{C}{C + \|x - y\|^2}, \qquad
        k_{\text{gauss}}(x, y) = \exp\Big(-\frac{\|x - y\|^2}{2h^2}\Big),

    with ``scale`` the constant :math:`C` (IMQ) or the bandwidth :math:`h`
    (Gaussian).  Both are bounded by 1, positive definite and characteristic.

    Parameters
    ----------
    x : Tensor or ndarray, shape (n, k)
    y : Tensor or ndarray, shape (m, k)
    kernel : {"imq", "gaussian"}
    scale : float
        :math:`C > 0` or :math:`h > 0`.

    Returns
    -------
    ndarray or Tensor, shape (n, m), float64
        A tensor, differentiable in ``x`` and ``y``, if either is a tensor;
        else a NumPy array.

    Raises
    ------
    ValueError
        Unknown kernel, non-positive scale, or point clouds of different
        dimensions.

    See Also
    --------
    mmd2 : the squared MMD built from these matrices.
    cost_matrix : the squared distances inside both kernels.

    Notes
    -----
    Derived in :ref:`vp-relaxation` (the definition of the MMD).

    References
    ----------
    :cite:t:`gretton2012kernel`; :cite:t:`tolstikhin2018wasserstein` (the IMQ
    kernel of the WAE).

    Examples
    --------
    >>> kernel_matrix([[0.0]], [[1.0], [2.0]], "imq", scale=1.0)
    array([[0.5, 0.2]])
    >>> kernel_matrix(torch.zeros(1, 1), [[1.0]], "gaussian", scale=1.0)
    tensor([[0.6065]], dtype=torch.float64)
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}.")
    scale = validate_positive(scale, "scale")
    X, Y = _points(x, "x"), _points(y, "y")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"x and y must have the same dimension, got x of shape "
            f"{tuple(X.shape)} and y of shape {tuple(Y.shape)}."
        )
    sq = cost_matrix(X, Y, p=2)
    K = scale / (scale + sq) if kernel == "imq" else torch.exp(-sq / (2.0 * scale ** 2))
    return to_output(K, is_torch(x, y))


def mmd2(x: Any, y: Any, kernel: str = "imq", scale: float = 1.0, *,
         unbiased: bool = True, a: Any = None, b: Any = None) -> Any:
    r"""Squared maximum mean discrepancy between two samples.

    .. math::

        \widehat{\mathrm{MMD}}{}^2 = \bar K_{xx} + \bar K_{yy} - 2\bar K_{xy},

    where :math:`\bar K_{xy} = a^\top K_{xy} b`, and :math:`\bar K_{xx}`,
    :math:`\bar K_{yy}` are the averages of the Gram matrices over the pairs
    :math:`i \ne i'` (U-statistic, ``unbiased=True``, uniform weights only)
    or over all pairs with weights (V-statistic, ``unbiased=False``).

    Parameters
    ----------
    x : Tensor or ndarray, shape (n, k)
    y : Tensor or ndarray, shape (m, k)
    kernel : {"imq", "gaussian"}
        See :func:`kernel_matrix`.
    scale : float
        IMQ constant :math:`C` or Gaussian bandwidth :math:`h`.
    unbiased : bool, default True
        U-statistic (unbiased; may be negative) or V-statistic (biased,
        :math:`\ge 0`).
    a, b : array_like, shape (n,) and (m,), optional
        Probability weights of the points, V-statistic only; with them the
        result is the exact MMD between the two discrete measures.

    Returns
    -------
    float or Tensor
        A 0-d tensor, differentiable in the points, if ``x`` or ``y`` is a
        tensor; a float otherwise.

    Raises
    ------
    ValueError
        Fewer than two points for the U-statistic, weights given with
        ``unbiased=True``, or invalid weights, points or kernel.

    See Also
    --------
    kernel_matrix : the Gram matrices.
    gaussian_mmd2 : the closed form between two Gaussians.
    sinkhorn_divergence : a transport-based alternative.

    Notes
    -----
    Derived in :ref:`vp-relaxation`; the penalty of the WAE
    (:mod:`gmtheory.models.wae`).

    References
    ----------
    :cite:t:`gretton2012kernel`, lemma 6.

    Examples
    --------
    >>> x = [[0.0], [1.0]]
    >>> round(mmd2(x, x, unbiased=False), 12)
    0.0
    >>> round(mmd2([[0.0]], [[1.0]], "imq", 1.0, unbiased=False), 6)
    1.0
    """
    as_torch = is_torch(x, y)
    X, Y = _points(x, "x"), _points(y, "y")
    n, m = X.shape[0], Y.shape[0]
    if unbiased:
        if a is not None or b is not None:
            raise ValueError(
                "weights a, b are only supported by the V-statistic; pass "
                "unbiased=False."
            )
        if n < 2 or m < 2:
            raise ValueError(
                f"the unbiased estimator needs at least 2 points in each "
                f"sample, got n={n}, m={m}; pass unbiased=False."
            )
    wa = torch.as_tensor(validate_weights(np.full(n, 1.0 / n) if a is None else a,
                                       "a", n))
    wb = torch.as_tensor(validate_weights(np.full(m, 1.0 / m) if b is None else b,
                                       "b", m))
    Kxx = kernel_matrix(X, X, kernel, scale)
    Kyy = kernel_matrix(Y, Y, kernel, scale)
    Kxy = kernel_matrix(X, Y, kernel, scale)
    cross = wa @ Kxy @ wb
    if unbiased:
        xx = (Kxx.sum() - Kxx.diagonal().sum()) / (n * (n - 1))
        yy = (Kyy.sum() - Kyy.diagonal().sum()) / (m * (m - 1))
    else:
        xx, yy = wa @ Kxx @ wa, wb @ Kyy @ wb
    return to_output(xx + yy - 2.0 * cross, as_torch)


def _gauss_expectation(mean: np.ndarray, cov: np.ndarray, h: float) -> float:
    # E exp(-|W|^2 / (2 h^2)) for W ~ N(mean, cov)
    k = mean.shape[0]
    A = np.eye(k) + cov / h ** 2
    quad = mean @ np.linalg.solve(cov + h ** 2 * np.eye(k), mean)
    return float(np.exp(-0.5 * quad) / math.sqrt(np.linalg.det(A)))


def gaussian_mmd2(m1: Any, S1: Any, m2: Any, S2: Any, bandwidth: float) -> float:
    r"""Closed-form Gaussian-kernel MMD² between two Gaussian distributions.

    For :math:`W \sim \mathcal N(\mu, \Sigma)` in :math:`\mathbb R^k`,
    :math:`\mathbb E\,e^{-\|W\|^2/2h^2} = \det(I + \Sigma/h^2)^{-1/2}
    \exp\big(-\frac12\mu^\top(\Sigma + h^2 I)^{-1}\mu\big)`, and with
    :math:`X - X' \sim \mathcal N(0, 2S_1)`, :math:`Y - Y' \sim
    \mathcal N(0, 2S_2)`, :math:`X - Y \sim \mathcal N(m_1 - m_2, S_1 + S_2)`:

    .. math::

        \mathrm{MMD}^2 = \phi(0, 2S_1) + \phi(0, 2S_2) - 2\phi(m_1 - m_2,
        S_1 + S_2).

    Parameters
    ----------
    m1, m2 : array_like, shape (k,)
    S1, S2 : array_like, shape (k, k)
        Symmetric positive semi-definite covariances.
    bandwidth : float
        :math:`h > 0` of the Gaussian kernel.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Shapes that do not match, non-finite entries, or a non-positive
        bandwidth.

    See Also
    --------
    mmd2 : the estimators from samples.

    Notes
    -----
    Used to test :func:`mmd2`, and in :ref:`vp-check-kl`.

    References
    ----------
    :cite:t:`gretton2012kernel`.

    Examples
    --------
    >>> round(gaussian_mmd2([0.0], [[1.0]], [0.0], [[1.0]], 1.0), 12)
    0.0
    """
    h = validate_positive(bandwidth, "bandwidth")
    mu1, mu2 = np.asarray(m1, dtype=float), np.asarray(m2, dtype=float)
    C1, C2 = np.asarray(S1, dtype=float), np.asarray(S2, dtype=float)
    if mu1.ndim != 1 or mu1.shape != mu2.shape:
        raise ValueError(
            f"m1 and m2 must be vectors of the same length, got shapes "
            f"{mu1.shape} and {mu2.shape}."
        )
    k = mu1.shape[0]
    for C, name in ((C1, "S1"), (C2, "S2")):
        if C.shape != (k, k):
            raise ValueError(f"{name} must have shape ({k}, {k}), got {C.shape}.")
        if not np.allclose(C, C.T):
            raise ValueError(f"{name} must be symmetric.")
    if not all(np.isfinite(v).all() for v in (mu1, mu2, C1, C2)):
        raise ValueError("means and covariances must be finite.")
    zero = np.zeros(k)
    return (_gauss_expectation(zero, 2 * C1, h) + _gauss_expectation(zero, 2 * C2, h)
            - 2 * _gauss_expectation(mu1 - mu2, C1 + C2, h))
