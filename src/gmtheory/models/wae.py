r"""The Wasserstein autoencoder with an MMD penalty (WAE-MMD) on the digits.

A deterministic encoder :math:`f_\xi` and a decoder :math:`g_\theta` with the
architecture of the book's digits VAE (:mod:`gmtheory.models.vae`) minimise the
relaxed primal objective of Tolstikhin et al. (2018),

.. math::

    \frac1{|B|}\sum_{i\in B} \big\|x_i - g_\theta(f_\xi(x_i))\big\|^2
    + \lambda\,\widehat{\mathrm{MMD}}{}^2_u\big(\{f_\xi(x_i)\}_{i\in B},
    \{\tilde z_l\}_{l=1}^{m}\big), \qquad \tilde z_l \sim \mathcal N(0, I_d),

the transport cost :math:`c(x, y) = \|x - y\|^2` of the coupling
:math:`\pi_\xi = \frac1n\sum_i\delta_{(f_\xi(x_i), x_i)}` plus a penalty on
the distance of its first marginal (the aggregate posterior) from the prior.
Each step evaluates both terms on a random batch :math:`B` of ``batch``
images and as many prior draws, redrawn at every step from a seeded
generator (Algorithm 1 of Tolstikhin et al.); the MMD uses the inverse
multiquadric kernel and the unbiased U-statistic (:func:`gmtheory.ot.mmd2`).
Training is Adam through the package's one loop,
:func:`gmtheory.models.training.adam_ascent`,
inside :func:`gmtheory.models.cache.reproducible`, hence bit-for-bit reproducible,
and cached by configuration hash (:func:`gmtheory.models.cache.load_or_train`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from ..data import Digits, load_digits_data
from ..ot.mmd import KERNELS, mmd2
from ..validation import validate_points, validate_positive, validate_positive_int
from .cache import load_module, load_or_train, module_tensors, reproducible
from .mlp import mlp
from .training import adam_ascent
from .vae import VAEConfig

__all__ = [
    "DigitsWAE",
    "TrainedWAE",
    "WAEConfig",
    "train_digits_wae",
    "wae_objective",
]

#: bump when the training code changes, so cached weights are invalidated
WAE_TRAINING_VERSION = 1


@dataclass(frozen=True)
class WAEConfig:
    r"""Everything that determines a trained :class:`DigitsWAE`.

    Attributes
    ----------
    base : VAEConfig
        Digits, latent dimension, hidden width, Adam steps, learning rate and
        seed are taken from this VAE configuration (its ``obs_std`` is not
        used), so that ``WAEConfig()`` matches the book's default VAE.
    lam : float
        Penalty weight :math:`\lambda > 0`.
    kernel : {"imq", "gaussian"}
        Kernel of the MMD.
    kernel_scale : float or None
        IMQ constant :math:`C` or Gaussian bandwidth; ``None`` means
        :math:`C = 2d` (IMQ, the choice of Tolstikhin et al. for a standard
        normal prior) or :math:`h = 1` (Gaussian).
    batch : int
        Number of images (and of prior draws) per step.
    """

    base: VAEConfig = field(default_factory=VAEConfig)
    lam: float = 10.0
    kernel: str = "imq"
    kernel_scale: float | None = None
    batch: int = 256

    def __post_init__(self):
        if not isinstance(self.base, VAEConfig):
            raise TypeError(
                f"base must be a VAEConfig, got {type(self.base).__name__}."
            )
        validate_positive(self.lam, "lam")
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, got {self.kernel!r}.")
        if self.kernel_scale is not None:
            validate_positive(self.kernel_scale, "kernel_scale")
        validate_positive_int(self.batch, "batch", minimum=2)

    @property
    def scale(self) -> float:
        """The kernel scale actually used."""
        if self.kernel_scale is not None:
            return float(self.kernel_scale)
        return 2.0 * self.base.latent_dim if self.kernel == "imq" else 1.0

    def as_dict(self) -> dict:
        base = self.base.as_dict()
        base.pop("obs_std")
        return {"base": base, "lam": self.lam, "kernel": self.kernel,
                "scale": self.scale, "batch": self.batch,
                "wae_training_version": WAE_TRAINING_VERSION}


class DigitsWAE(nn.Module):
    """Deterministic encoder and the decoder of the digits VAE's architecture.

    Parameters
    ----------
    data_dim : int
        ``D`` (64 for the 8 x 8 digits).
    latent_dim : int
        ``d``.
    hidden : int
        Hidden width (two tanh layers per network, as in
        :class:`gmtheory.DigitsVAE`).
    """

    def __init__(self, data_dim: int = 64, latent_dim: int = 2, hidden: int = 64):
        super().__init__()
        self.data_dim, self.latent_dim = data_dim, latent_dim
        self.encoder = mlp([data_dim, hidden, hidden, latent_dim])
        self.decoder_net = mlp([latent_dim, hidden, hidden, data_dim])

    def encode(self, x: Tensor) -> Tensor:
        """Codes :math:`f_\\xi(x)`, ``(n, D) -> (n, d)``."""
        return self.encoder(x)

    def decode(self, z: Tensor) -> Tensor:
        r"""Decoder :math:`g_\theta(z)`, ``(n, d) -> (n, D)``, values in (0, 1)."""
        return torch.sigmoid(self.decoder_net(z))

    forward = decode


@dataclass
class TrainedWAE:
    """A trained digits WAE with the data it was trained on.

    Attributes
    ----------
    model : DigitsWAE
        In eval mode, float64, parameters frozen.
    config : WAEConfig
    data : Digits
    codes : Tensor, shape (n, d)
        Codes :math:`f_\\xi(x_i)` of the training images.
    history : Tensor, shape (steps, 2)
        Per step: reconstruction cost and MMD² estimate on the batch.
    cache_hit : bool
        Whether the weights were loaded from the cache.
    """

    model: DigitsWAE
    config: WAEConfig
    data: Digits
    codes: Tensor
    history: Tensor
    cache_hit: bool = False

    def decode(self, z: Any) -> Tensor:
        """Decoder, ``(n, d) -> (n, 64)``, float64 whatever the input dtype."""
        z = validate_points(z, "z", dim=self.config.base.latent_dim, dtype=torch.float64)
        return self.model.decode(z)

    def encode(self, x: Any) -> Tensor:
        """Codes of images, ``(n, 64) -> (n, d)``, float64."""
        x = validate_points(x, "x", dim=self.model.data_dim, dtype=torch.float64)
        return self.model.encode(x)


def wae_objective(model: DigitsWAE, X: Tensor, prior: Tensor,
                  config: WAEConfig) -> tuple[Tensor, Tensor]:
    r"""Reconstruction cost and MMD² of the WAE objective, each a 0-d tensor.

    .. math::

        \Big(\frac1{|B|}\sum_{i\in B}\|x_i - g(f(x_i))\|^2,\
        \widehat{\mathrm{MMD}}{}^2_u(\{f(x_i)\}_{i\in B}, \{\tilde z_l\})\Big).

    Parameters
    ----------
    model : DigitsWAE
    X : Tensor, shape (b, D)
        The batch of images.
    prior : Tensor, shape (m, d)
        Draws from :math:`\mathcal N(0, I_d)`.
    config : WAEConfig
    """
    codes = model.encode(X)
    recon = ((X - model.decode(codes)) ** 2).sum(1).mean()
    penalty = mmd2(codes, prior, config.kernel, config.scale)
    return recon, penalty


def _train(config: WAEConfig, X: Tensor) -> dict[str, Tensor]:
    with reproducible():
        base = config.base
        gen = torch.Generator().manual_seed(base.seed)
        torch.manual_seed(base.seed)
        model = DigitsWAE(X.shape[1], base.latent_dim, base.hidden).double()
        parts: list[Tensor] = []

        def objective() -> Tensor:
            batch = torch.randperm(X.shape[0], generator=gen)[:config.batch]
            prior = torch.randn(batch.shape[0], base.latent_dim, generator=gen,
                                dtype=torch.float64)
            recon, penalty = wae_objective(model, X[batch], prior, config)
            parts.append(torch.stack([recon.detach(), penalty.detach()]))
            return -(recon + config.lam * penalty)

        adam_ascent(model.parameters(), objective, base.steps, base.lr)
        tensors = module_tensors(model)
        tensors["history"] = torch.stack(parts)
        return tensors


def train_digits_wae(config: WAEConfig | None = None, cache_dir=None) -> TrainedWAE:
    """Train (or load from the cache) a WAE-MMD on the bundled digits.

    Parameters
    ----------
    config : WAEConfig, optional
        Defaults to ``WAEConfig()``: the default VAE's data, architecture and
        seed, IMQ kernel with :math:`C = 2d`, :math:`\\lambda = 10`.
    cache_dir : path, optional
        Overrides the cache directory (see :func:`gmtheory.models.cache.cache_dir`).

    Returns
    -------
    TrainedWAE

    Raises
    ------
    TypeError
        If ``config`` is not a :class:`WAEConfig`.

    Examples
    --------
    >>> cfg = WAEConfig(VAEConfig(digits=(0, 1), hidden=8, steps=3))
    >>> wae = train_digits_wae(cfg, cache_dir=getfixture("tmp_path"))
    >>> tuple(wae.codes.shape), wae.cache_hit
    ((360, 2), False)

    Notes
    -----
    Derived in :ref:`vp-relaxation`; trained in :ref:`vp-digits`.
    """
    config = WAEConfig() if config is None else config
    if not isinstance(config, WAEConfig):
        raise TypeError(f"config must be a WAEConfig, got {type(config).__name__}.")
    data = load_digits_data(config.base.digits)
    tensors, hit = load_or_train(
        "digits-wae", config.as_dict(), lambda: _train(config, data.images),
        directory=cache_dir,
    )
    base = config.base
    with reproducible():        # initialising the shell must not draw from
        model = DigitsWAE(      # the caller's random stream
            data.images.shape[1], base.latent_dim, base.hidden)
    load_module(model, tensors)
    with torch.no_grad():
        codes = model.encode(data.images)
    return TrainedWAE(model, config, data, codes, tensors["history"], hit)
