r"""A small, deterministic variational autoencoder for the bundled digits.

The model is the textbook VAE with a Gaussian decoder of fixed standard
deviation :math:`s` (so the reconstruction term is a scaled squared error)
and a diagonal Gaussian encoder:

.. math::

    p(z) = \mathcal N(0, I_d), \qquad
    p_\theta(x\mid z) = \mathcal N\big(\mu_\theta(z), s^2 I_D\big), \qquad
    q_\phi(z\mid x) = \mathcal N\big(m_\phi(x), \operatorname{diag}
    \sigma_\phi^2(x)\big),

trained by maximising the ELBO

.. math::

    \mathcal L(x) = \mathbb E_{q_\phi(z\mid x)}[\log p_\theta(x\mid z)]
    - \operatorname{KL}\big(q_\phi(z\mid x)\,\|\,p(z)\big)

with one reparameterised sample per data point.  All activations are
``tanh`` (and a final sigmoid), so the decoder is smooth -- the pullback
geometry needs :math:`C^2`.  Training is full-batch Adam in float64 from a
fixed seed inside :func:`gmtheory.models.cache.reproducible` (one thread, float64
initialisation, whatever the caller's settings), hence bit-for-bit reproducible, and
cached by :mod:`gmtheory.models.cache`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor, nn

from ..data import Digits, load_digits_data
from .cache import load_module, load_or_train, module_tensors, reproducible
from .mlp import mlp
from .training import adam_ascent

__all__ = ["VAEConfig", "DigitsVAE", "TrainedVAE", "train_digits_vae"]

#: bump when the training code changes, so cached weights are invalidated
TRAINING_VERSION = 3


@dataclass(frozen=True)
class VAEConfig:
    """Everything that determines a trained :class:`DigitsVAE`.

    Attributes
    ----------
    digits : tuple of int or None
        Classes to train on; ``None`` means all ten.
    latent_dim : int
        Latent dimension ``d``.
    hidden : int
        Width of the hidden layers (two per network).
    obs_std : float
        Fixed decoder standard deviation :math:`s`.
    steps : int
        Full-batch Adam steps.
    lr : float
        Adam learning rate.
    seed : int
        Seed of the initialisation and of the reparameterisation noise.
    """

    digits: tuple[int, ...] | None = None
    latent_dim: int = 2
    hidden: int = 64
    obs_std: float = 0.15
    steps: int = 2000
    lr: float = 3e-3
    seed: int = 0

    def as_dict(self) -> dict:
        d = asdict(self)
        d["digits"] = None if self.digits is None else list(self.digits)
        d["training_version"] = TRAINING_VERSION
        return d


class DigitsVAE(nn.Module):
    """Encoder and decoder MLPs of the digits VAE.

    Parameters
    ----------
    data_dim : int
        ``D`` (64 for the 8 x 8 digits).
    latent_dim : int
        ``d``.
    hidden : int
        Hidden width.
    """

    def __init__(self, data_dim: int = 64, latent_dim: int = 2, hidden: int = 64):
        super().__init__()
        self.data_dim, self.latent_dim = data_dim, latent_dim
        self.encoder = mlp([data_dim, hidden, hidden, 2 * latent_dim])
        self.decoder_net = mlp([latent_dim, hidden, hidden, data_dim])

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Encoder mean and standard deviation, each ``(n, d)``."""
        h = self.encoder(x)
        mean, log_std = h.chunk(2, dim=1)
        return mean, log_std.exp()

    def decode(self, z: Tensor) -> Tensor:
        r"""Decoder mean :math:`\mu_\theta(z)`, ``(n, d) -> (n, D)``, values in (0, 1)."""
        return torch.sigmoid(self.decoder_net(z))

    forward = decode

    def elbo(self, x: Tensor, obs_std: float, noise: Tensor | None = None) -> Tensor:
        r"""One-sample reparameterised ELBO of each row of ``x``, shape ``(n,)``.

        .. math::

            \hat{\mathcal L}(x) = \log\mathcal N\big(x;\mu_\theta(m + \sigma\odot
            \varepsilon), s^2 I\big) - \operatorname{KL}\big(\mathcal N(m,
            \operatorname{diag}\sigma^2)\,\|\,\mathcal N(0, I)\big),

        with the KL in closed form
        :math:`\tfrac12\sum_j(\sigma_j^2 + m_j^2 - 1 - \log\sigma_j^2)`.

        Notes
        -----
        Derived in :ref:`sg-vae`.
        """
        mean, std = self.encode(x)
        eps = torch.randn_like(mean) if noise is None else noise
        z = mean + std * eps
        recon = self.decode(z)
        D = x.shape[1]
        log_lik = (-0.5 * ((x - recon) / obs_std) ** 2).sum(1) - D * (
            math.log(obs_std) + 0.5 * math.log(2 * math.pi)
        )
        kl = 0.5 * (std ** 2 + mean ** 2 - 1.0 - 2.0 * std.log()).sum(1)
        return log_lik - kl


@dataclass
class TrainedVAE:
    """A trained digits VAE with the data it was trained on.

    Attributes
    ----------
    model : DigitsVAE
        In eval mode, float64, parameters frozen.
    config : VAEConfig
    data : Digits
    codes : Tensor, shape (n, d)
        Encoder means of the training images.
    elbo_history : Tensor, shape (steps,)
        Mean one-sample ELBO per training step.
    cache_hit : bool
        Whether the weights were loaded from the cache.
    """

    model: DigitsVAE
    config: VAEConfig
    data: Digits
    codes: Tensor
    elbo_history: Tensor
    cache_hit: bool = field(default=False)

    def decode(self, z: Tensor) -> Tensor:
        """Decoder mean, ``(n, d) -> (n, 64)``, in float64 whatever the input dtype."""
        return self.model.decode(z.to(torch.float64))


def _train(config: VAEConfig, X: Tensor) -> dict[str, Tensor]:
    with reproducible():
        return _train_reproducibly(config, X)


def _train_reproducibly(config: VAEConfig, X: Tensor) -> dict[str, Tensor]:
    gen = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    model = DigitsVAE(X.shape[1], config.latent_dim, config.hidden).double()

    def mean_elbo() -> Tensor:
        noise = torch.randn(X.shape[0], config.latent_dim, generator=gen,
                            dtype=torch.float64)
        return model.elbo(X, config.obs_std, noise).mean()

    history = adam_ascent(model.parameters(), mean_elbo, config.steps, config.lr)
    tensors = module_tensors(model)
    tensors["elbo_history"] = history
    return tensors


def train_digits_vae(config: VAEConfig | None = None, cache_dir=None) -> TrainedVAE:
    """Train (or load from the cache) a VAE on the bundled digits.

    Parameters
    ----------
    config : VAEConfig, optional
        Defaults to ``VAEConfig()``: all ten digits, 2-D latent space.
    cache_dir : path, optional
        Overrides the cache directory (see :func:`gmtheory.models.cache.cache_dir`).

    Returns
    -------
    TrainedVAE

    Notes
    -----
    Used from :ref:`lv-vae` onwards.
    """
    config = VAEConfig() if config is None else config
    if not isinstance(config, VAEConfig):
        raise TypeError(f"config must be a VAEConfig, got {type(config).__name__}.")
    data = load_digits_data(config.digits)
    tensors, hit = load_or_train(
        "digits-vae", config.as_dict(), lambda: _train(config, data.images),
        directory=cache_dir,
    )
    model = DigitsVAE(data.images.shape[1], config.latent_dim, config.hidden).double()
    load_module(model, tensors)
    with torch.no_grad():
        codes = model.encode(data.images)[0]
    return TrainedVAE(model, config, data, codes, tensors["elbo_history"], hit)
