r"""The RBF precision network of Arvanitidis, Hansen and Hauberg (2018).

The decoder variance is modelled through its inverse, the precision

.. math::

    \beta(z) = W\, v(z) + \zeta, \qquad
    v_k(z) = \exp\big(-\lambda_k \|z - c_k\|^2\big), \qquad
    \sigma(z) = \beta(z)^{-1/2},

with :math:`W \ge 0` entrywise (parametrised as :math:`W = e^U`), centres
:math:`c_k` found by k-means on the latent codes, bandwidths

.. math::

    \lambda_k = \tfrac12\,\big(a \cdot \bar r_k\big)^{-2}, \qquad
    \bar r_k = \text{mean distance of cluster } k \text{ to } c_k,

and a floor :math:`\zeta > 0`.  Near the data the RBF features are on and the
precision is large (small :math:`\sigma`); far from every centre
:math:`v(z)\to 0`, so :math:`\beta\to\zeta` and :math:`\sigma` grows to its
cap :math:`\zeta^{-1/2}`.  A standard MLP for :math:`\log\sigma` has no such
behaviour: off the data it extrapolates arbitrarily.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.cluster.vq import kmeans2
from torch import Tensor, nn

from ..geometry.jacobian import Generator
from ..validation import validate_points, validate_positive, validate_positive_int
from .training import adam_ascent

__all__ = ["RBFPrecision", "rbf_centres", "fit_rbf_precision", "RBFFit",
           "gaussian_log_likelihood"]


def rbf_centres(codes: Tensor, n_centres: int, *, bandwidth_scale: float = 1.0,
                seed: int = 0) -> tuple[Tensor, Tensor]:
    r"""Centres by k-means and LSO bandwidths :math:`\lambda_k = \frac12 (a\bar r_k)^{-2}`.

    Parameters
    ----------
    codes : Tensor, shape (n, d)
        Latent codes (encoder means).
    n_centres : int
        ``K``, with ``1 <= K <= n``.
    bandwidth_scale : float, optional
        ``a > 0``; default 1.
    seed : int, optional
        Seed of the k-means++ initialisation; default 0.

    Returns
    -------
    centres : Tensor, shape (K, d)
    bandwidths : Tensor, shape (K,)
        :math:`\lambda_k`.  A cluster with one member (zero spread) gets the
        median spread of the others.

    Raises
    ------
    ValueError
        If ``codes`` is malformed or ``n_centres`` is out of range.

    Examples
    --------
    >>> import torch
    >>> z = torch.tensor([[0.0, 0.0], [0.0, 2.0], [10.0, 0.0], [10.0, 2.0]])
    >>> c, lam = rbf_centres(z, 2)
    >>> sorted(c[:, 0].tolist()), lam.tolist()
    ([0.0, 10.0], [0.5, 0.5])
    """
    codes = validate_points(codes, "codes")
    n = codes.shape[0]
    if int(n_centres) != n_centres or not 1 <= n_centres <= n:
        raise ValueError(f"n_centres must be an integer in [1, {n}] (the number "
                         f"of codes), got {n_centres!r}.")
    a = validate_positive(bandwidth_scale, "bandwidth_scale")
    X = codes.detach().cpu().numpy().astype(np.float64)
    n_distinct = len(np.unique(X, axis=0))
    if n_distinct < n_centres:
        raise ValueError(f"codes hold only {n_distinct} distinct points, fewer "
                         f"than n_centres = {n_centres}; use fewer centres.")
    centres, labels = kmeans2(X, int(n_centres), minit="++", seed=int(seed))
    spread = np.full(int(n_centres), np.nan)
    for k in range(int(n_centres)):
        members = X[labels == k]
        if len(members) > 1:
            spread[k] = np.linalg.norm(members - centres[k], axis=1).mean()
    good = np.isfinite(spread) & (spread > 0)
    if not good.any():
        raise ValueError("every k-means cluster has zero spread; the codes are "
                         "degenerate (all equal?).")
    spread[~good] = np.median(spread[good])
    lam = 0.5 / (a * spread) ** 2
    return (torch.as_tensor(centres, dtype=codes.dtype),
            torch.as_tensor(lam, dtype=codes.dtype))


class RBFPrecision(nn.Module):
    r"""Precision :math:`\beta(z) = W v(z) + \zeta` with :math:`W = e^{U} \ge 0` entrywise.

    Parameters
    ----------
    centres : Tensor, shape (K, d)
    bandwidths : Tensor, shape (K,)
        :math:`\lambda_k > 0`.
    data_dim : int
        ``D``.
    zeta : float
        Floor :math:`\zeta > 0`; :math:`\sigma \le \zeta^{-1/2}` everywhere.

    Raises
    ------
    ValueError
        On shape mismatches or non-positive ``bandwidths``/``zeta``.

    Notes
    -----
    Derived in :ref:`sg-rbf-theory`, after :cite:t:`arvanitidis2018latent`.

    Examples
    --------
    >>> import torch
    >>> net = RBFPrecision(torch.zeros(1, 2), torch.ones(1), 3, zeta=0.25)
    >>> far = net.std(torch.tensor([[100.0, 0.0]]))
    >>> torch.allclose(far, torch.full((1, 3), 2.0))
    True
    """

    def __init__(self, centres: Tensor, bandwidths: Tensor, data_dim: int,
                 zeta: float):
        super().__init__()
        centres = validate_points(centres, "centres")
        bandwidths = torch.as_tensor(bandwidths, dtype=centres.dtype)
        if bandwidths.shape != (centres.shape[0],):
            raise ValueError(f"bandwidths must have shape ({centres.shape[0]},) "
                             f"to match centres, got {tuple(bandwidths.shape)}.")
        if not bool((bandwidths > 0).all()) or not bool(torch.isfinite(bandwidths).all()):
            raise ValueError("bandwidths must be finite and > 0.")
        validate_positive_int(data_dim, "data_dim")
        self.zeta = validate_positive(zeta, "zeta")
        self.register_buffer("centres", centres.clone())
        self.register_buffer("bandwidths", bandwidths.clone())
        # W = exp(U) >= 0; Adam then moves W on a log scale, which matters
        # because precisions near the data are several orders above zeta
        self.raw_weight = nn.Parameter(
            torch.zeros((int(data_dim), centres.shape[0]), dtype=centres.dtype))

    @property
    def weight(self) -> Tensor:
        """Non-negative weights ``W`` of shape ``(D, K)``."""
        return self.raw_weight.exp()

    def features(self, z: Tensor) -> Tensor:
        r"""RBF activations :math:`v_k(z)`, shape ``(n, K)``."""
        sq = ((z[:, None, :] - self.centres[None]) ** 2).sum(-1)
        return torch.exp(-self.bandwidths * sq)

    def forward(self, z: Tensor) -> Tensor:
        r"""Precision :math:`\beta(z)`, shape ``(n, D)``."""
        return self.features(z) @ self.weight.T + self.zeta

    precision = forward

    def std(self, z: Tensor) -> Tensor:
        r"""Standard deviation :math:`\sigma(z) = \beta(z)^{-1/2}`, ``(n, D)``."""
        return self.forward(z).rsqrt()


def gaussian_log_likelihood(x: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    r"""Row-wise :math:`\log\mathcal N(x; \mu, \operatorname{diag}\sigma^2)`, shape ``(n,)``.

    >>> import torch
    >>> x = torch.zeros(1, 1, dtype=torch.float64)
    >>> round(float(gaussian_log_likelihood(x, x, x + 1)), 10)  # -log sqrt(2 pi)
    -0.9189385332
    """
    return (-0.5 * ((x - mean) / std) ** 2 - std.log()
            - 0.5 * math.log(2 * math.pi)).sum(1)


@dataclass
class RBFFit:
    """Result of :func:`fit_rbf_precision`.

    Attributes
    ----------
    network : RBFPrecision
        Frozen, in eval mode.
    log_likelihood : Tensor, shape (steps,)
        Mean Gaussian log-likelihood per step.
    """

    network: RBFPrecision
    log_likelihood: Tensor


def fit_rbf_precision(
    codes: Tensor,
    data: Tensor,
    mean: Generator,
    *,
    n_centres: int = 32,
    bandwidth_scale: float = 1.0,
    zeta: float = 1e-2,
    steps: int = 1500,
    lr: float = 5e-2,
    seed: int = 0,
) -> RBFFit:
    r"""Fit the RBF precision network with the mean network frozen.

    Maximises the Gaussian log-likelihood of the data at their codes,

    .. math::

        \max_{W\ge0}\ \frac1n\sum_{i=1}^n \log\mathcal N\big(x_i;
        \mu(z_i), \operatorname{diag}\beta(z_i)^{-1}\big),

    by full-batch Adam on :math:`U = \log W`.

    Parameters
    ----------
    codes : Tensor, shape (n, d)
        Latent codes of the data.
    data : Tensor, shape (n, D)
    mean : callable
        Frozen mean network :math:`\mu`, ``(n, d) -> (n, D)``.
    n_centres, bandwidth_scale, seed
        Passed to :func:`rbf_centres`.
    zeta : float, optional
        Precision floor :math:`\zeta`; default 1e-2 (so :math:`\sigma\le 10`).
    steps : int, optional
        Adam steps; default 1500.
    lr : float, optional
        Adam learning rate; default 5e-2.

    Returns
    -------
    RBFFit

    Raises
    ------
    ValueError
        If ``codes`` and ``data`` do not have the same number of rows, or a
        parameter is out of range.

    Notes
    -----
    Used in :ref:`sg-rbf`.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> z = torch.randn(50, 1, generator=g, dtype=torch.float64)
    >>> x = z + 0.1 * torch.randn(50, 1, generator=g, dtype=torch.float64)
    >>> fit = fit_rbf_precision(z, x, lambda u: u, n_centres=4, steps=300)
    >>> bool(fit.network.std(z).median() < 0.2)   # near the data: small
    True
    """
    codes = validate_points(codes, "codes")
    data = validate_points(data, "data")
    if codes.shape[0] != data.shape[0]:
        raise ValueError(f"codes and data must have the same number of rows, "
                         f"got {codes.shape[0]} and {data.shape[0]}.")
    validate_positive_int(steps, "steps")
    validate_positive(lr, "lr")
    centres, lam = rbf_centres(codes, n_centres, bandwidth_scale=bandwidth_scale,
                               seed=seed)
    net = RBFPrecision(centres, lam, data.shape[1], zeta)
    with torch.no_grad():
        mu = mean(codes)
    history = adam_ascent(
        net.parameters(),
        lambda: gaussian_log_likelihood(data, mu, net.std(codes)).mean(),
        steps, lr, dtype=codes.dtype)
    net.eval().requires_grad_(False)
    return RBFFit(net, history)
