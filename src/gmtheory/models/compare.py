r"""Comparing a trained digits VAE with a trained digits WAE.

Two measurements of the chapter *VAEs as the primal approach*, packaged so
that the chapter and ``benchmarks/vae_wae_seed_record.py`` (which records
them over several training and measurement seeds) run the same code:

- :func:`digits_measures` -- the aggregate posterior against the prior
  (squared MMD), the reconstruction cost, and the exact :math:`W_2^2` of
  decoded prior draws to half of the data, with its data-vs-data floor;
- :func:`code_log_magnification` -- :math:`\log_{10}` of the magnification
  factor :math:`\sqrt{\det J^\top J}` of a decoder at given codes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..geometry.metrics import PullbackMetric
from ..ot.cost import cost_matrix
from ..ot.exact import assignment_ot
from ..ot.mmd import mmd2
from ..validation import validate_points, validate_positive_int
from .vae import TrainedVAE
from .wae import TrainedWAE

__all__ = ["DIGITS_MEASURE_KEYS", "code_log_magnification", "digits_measures"]

#: the keys of :func:`digits_measures`, in the order of the chapter's record
DIGITS_MEASURE_KEYS = (
    "mmd_imq_vae", "mmd_imq_wae", "mmd_gaussian_vae", "mmd_gaussian_wae",
    "rec_vae_mean", "rec_vae_sample", "rec_wae",
    "w2_floor", "w2_vae_mean", "w2_vae_sample", "w2_wae",
)

#: (kernel, scale) pairs of the MMD comparison: the kernel WAE training used
#: (IMQ with C = 2d = 4) and a Gaussian kernel that training did not see
_MMD_KERNELS = (("imq", 4.0), ("gaussian", 1.0))


def _mean_sq_distance(A: Tensor, B: Tensor) -> float:
    """:math:`\\frac1n\\sum_i\\|a_i-b_i\\|^2` for two ``(n, D)`` batches."""
    return ((A - B) ** 2).sum(1).mean().item()


def digits_measures(vae: TrainedVAE, wae: TrainedWAE, seed: int = 0,
                    n_prior_draws: int = 3) -> dict[str, float]:
    r"""Aggregate posterior, reconstruction and sample quality of two models.

    With images :math:`y_1,\dots,y_n`, VAE encoder
    :math:`q(z\mid y)=\mathcal N(m(y),\operatorname{diag}s^2(y))`, decoder
    mean :math:`\mu_\theta`, observation noise :math:`\sigma`, WAE encoder
    :math:`f_\xi` and decoder :math:`g_\theta`, and prior
    :math:`p=\mathcal N(0, I_d)`:

    .. math::

        \mathrm{mmd}_{k,\mathrm{vae}} &= \tfrac1R\textstyle\sum_{r=1}^R
            \widehat{\mathrm{MMD}}{}^2_{u,k}\big(\{m(y_j)+s(y_j)\odot
            \varepsilon^r_j\}_j, \{\tilde z^r_j\}_j\big),\\
        \mathrm{mmd}_{k,\mathrm{wae}} &= \tfrac1R\textstyle\sum_{r=1}^R
            \widehat{\mathrm{MMD}}{}^2_{u,k}\big(\{f_\xi(y_j)\}_j,
            \{\tilde z^r_j\}_j\big),\\
        \mathrm{rec}_{\mathrm{vae,mean}} &= \tfrac1n\textstyle\sum_j
            \|y_j-\mu_\theta(m(y_j))\|^2, \quad
        \mathrm{rec}_{\mathrm{wae}} = \tfrac1n\textstyle\sum_j
            \|y_j-g_\theta(f_\xi(y_j))\|^2,\\
        \mathrm{w2}_{\bullet} &= W_2^2\big(\tfrac1h\textstyle\sum_{i\le h}
            \delta_{x_i}, \tfrac1h\sum_{i\le h}\delta_{y_{\pi(i)}}\big),
            \qquad h = \lfloor n/2\rfloor,

    with :math:`R` = ``n_prior_draws`` independent prior samples
    :math:`\tilde z^r` of size :math:`n`, and :math:`x_i` one of: the other
    half :math:`y_{\pi(h+i)}` of the data (``w2_floor``),
    :math:`\mu_\theta(z_i)` (``w2_vae_mean``),
    :math:`\mu_\theta(z_i)+\sigma\eta_i` (``w2_vae_sample``) or
    :math:`g_\theta(z_i)` (``w2_wae``), the same :math:`z_i\sim p` for all
    three models. ``rec_vae_sample`` is the reconstruction cost at the first
    draw :math:`m(y_j)+s(y_j)\odot\varepsilon^1_j`. :math:`W_2^2` is exact
    (an assignment problem, :func:`gmtheory.ot.assignment_ot`).

    Parameters
    ----------
    vae : TrainedVAE
        From :func:`gmtheory.train_digits_vae`.
    wae : TrainedWAE
        From :func:`gmtheory.models.train_digits_wae`, trained on the same
        images with the same latent dimension.
    seed : int
        Seed of every random draw (prior samples, encoder noise, the random
        halves of the data, the observation noise), drawn in float64 from
        one ``torch.Generator`` so that the result does not depend on the
        caller's default dtype.
    n_prior_draws : int
        :math:`R`, the number of independent prior samples the MMD is
        averaged over.

    Returns
    -------
    dict of str to float
        Keys :data:`DIGITS_MEASURE_KEYS`.

    Raises
    ------
    TypeError
        If ``vae`` or ``wae`` is not a trained model of the right class.
    ValueError
        If the two models were trained on different images or latent
        dimensions, or ``seed`` / ``n_prior_draws`` is not a valid integer.

    References
    ----------
    Tolstikhin, Bousquet, Gelly and Schoelkopf, *Wasserstein auto-encoders*,
    ICLR 2018.

    Notes
    -----
    Derived in :ref:`vp-digits`; also used by
    ``benchmarks/vae_wae_seed_record.py``.

    Examples
    --------
    >>> import gmtheory as gm
    >>> tmp = getfixture("tmp_path")
    >>> base = gm.VAEConfig(digits=(0, 1), steps=2)
    >>> vae = gm.train_digits_vae(base, cache_dir=tmp)
    >>> wae = gm.models.train_digits_wae(gm.models.WAEConfig(base),
    ...                                  cache_dir=tmp)
    >>> meas = gm.models.digits_measures(vae, wae, seed=0)
    >>> list(meas) == list(gm.models.DIGITS_MEASURE_KEYS)
    True
    >>> meas["w2_floor"] > 0
    True
    """
    if not isinstance(vae, TrainedVAE):
        raise TypeError("vae must be a TrainedVAE (gm.train_digits_vae()), "
                        f"got {type(vae).__name__}.")
    if not isinstance(wae, TrainedWAE):
        raise TypeError("wae must be a TrainedWAE "
                        "(gm.models.train_digits_wae()), "
                        f"got {type(wae).__name__}.")
    if not torch.equal(vae.data.images, wae.data.images):
        raise ValueError("vae and wae were trained on different images; "
                         "train both on the same digits.")
    d = vae.config.latent_dim
    if wae.config.base.latent_dim != d:
        raise ValueError(f"latent dimensions differ: VAE {d}, WAE "
                         f"{wae.config.base.latent_dim}.")
    seed = validate_positive_int(seed, "seed", minimum=0)
    n_prior_draws = validate_positive_int(n_prior_draws, "n_prior_draws")
    return _measure_pair(vae, wae, torch.Generator().manual_seed(seed),
                         n_prior_draws)


def _measure_pair(vae: TrainedVAE, wae: TrainedWAE, g: torch.Generator,
                  n_draws: int) -> dict[str, float]:
    """The measures of :func:`digits_measures`, every draw from ``g``."""
    X, d, f64 = vae.data.images, vae.config.latent_dim, torch.float64
    n, h = X.shape[0], X.shape[0] // 2
    m, sd = vae.model.encode(X)
    priors = [torch.randn(n, d, generator=g, dtype=f64)
              for _ in range(n_draws)]
    z_vae = [m + sd * torch.randn(n, d, generator=g, dtype=f64)
             for _ in range(n_draws)]
    out = {}
    for kern, scale in _MMD_KERNELS:
        for name, codes in [("vae", z_vae), ("wae", [wae.codes] * n_draws)]:
            out[f"mmd_{kern}_{name}"] = float(np.mean(
                [mmd2(c, p, kern, scale) for c, p in zip(codes, priors)]))
    out["rec_vae_mean"] = _mean_sq_distance(X, vae.decode(m))
    out["rec_vae_sample"] = _mean_sq_distance(X, vae.decode(z_vae[0]))
    out["rec_wae"] = _mean_sq_distance(X, wae.decode(wae.codes))

    perm = torch.randperm(n, generator=g)
    half, other = X[perm[:h]], X[perm[h:2 * h]]
    z_new = torch.randn(h, d, generator=g, dtype=f64)
    noise = torch.randn(h, X.shape[1], generator=g, dtype=f64)

    def w2(A: Tensor) -> float:
        # the assignment is solved in NumPy: form the costs there too
        C = cost_matrix(A.detach().numpy(), half.numpy())
        return float(assignment_ot(C).cost)

    out["w2_floor"] = w2(other)
    out["w2_vae_mean"] = w2(vae.decode(z_new))
    out["w2_vae_sample"] = w2(vae.decode(z_new) + vae.config.obs_std * noise)
    out["w2_wae"] = w2(wae.decode(z_new))
    return out


def code_log_magnification(decoder: Callable[[Tensor], Tensor],
                           codes: Any) -> Tensor:
    r""":math:`\log_{10}` of a decoder's magnification factor at codes.

    .. math::

        \log_{10}\sqrt{\det M(z)}, \qquad M(z) = J_g(z)^\top J_g(z),

    the factor by which the decoder :math:`g` stretches a small latent area
    around :math:`z` (the pullback metric of :class:`gmtheory.PullbackMetric`).

    Parameters
    ----------
    decoder : callable
        Maps ``(n, d)`` to ``(n, D)`` with differentiable torch operations.
    codes : Tensor, shape (n, d)
        Latent points.

    Returns
    -------
    Tensor, shape (n,)
        ``-inf`` where the Jacobian is rank deficient.

    Raises
    ------
    ValueError
        If ``codes`` is not a finite ``(n, d)`` batch.
    TypeError
        If ``codes`` is not a floating-point tensor or array.

    References
    ----------
    Bishop, Svensén and Williams, *Magnification factors for the SOM and GTM
    algorithms*, Proceedings of WSOM 1997; Arvanitidis, Hansen and Hauberg,
    *Latent space oddity: on the curvature of deep generative models*, ICLR
    2018.

    Notes
    -----
    Derived in :ref:`vp-geometry`; also used by
    ``benchmarks/vae_wae_seed_record.py``.

    Examples
    --------
    >>> import torch
    >>> f = lambda z: torch.cat([3 * z, z ** 2], dim=1)
    >>> code_log_magnification(f, torch.zeros(1, 2))  # det M = 81
    tensor([0.9542])
    """
    codes = validate_points(codes, "codes")
    metric = PullbackMetric(decoder, dim=codes.shape[1])
    return metric.magnification(codes).log10()
