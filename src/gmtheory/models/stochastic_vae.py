r"""A digits VAE with a Gaussian decoder of learned variance :math:`\sigma(z)`.

The generative model is the stochastic generator

.. math::

    x = \mu_\theta(z) + \sigma(z)\odot\varepsilon, \qquad
    p(x\mid z) = \mathcal N\big(\mu_\theta(z), \operatorname{diag}
    \sigma^2(z)\big).

The mean network :math:`\mu_\theta` and the encoder are those of
:func:`gmtheory.train_digits_vae` (trained with a fixed variance).  With the
mean frozen, two variance models are then fitted by maximising the Gaussian
likelihood of the images at their latent codes:

* the *standard* :math:`\sigma` network, a tanh MLP predicting
  :math:`\log\sigma(z)`;
* the RBF precision network :math:`\beta(z) = W v(z) + \zeta`,
  :math:`\sigma = \beta^{-1/2}` (:mod:`gmtheory.models.rbf_precision`).

Both fits are deterministic and cached with :func:`gmtheory.load_or_train`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import torch
from torch import Tensor, nn

from ..geometry.expected_metric import ExpectedMetric
from .cache import load_module, load_or_train, module_tensors, reproducible
from .mlp import mlp
from .rbf_precision import RBFPrecision, fit_rbf_precision, gaussian_log_likelihood
from .training import adam_ascent
from .vae import TrainedVAE, VAEConfig, train_digits_vae

__all__ = ["StochasticVAEConfig", "SigmaNet", "StochasticVAE",
           "train_stochastic_vae"]

#: bump when the variance-fitting code changes
VARIANCE_VERSION = 2


@dataclass(frozen=True)
class StochasticVAEConfig:
    """Everything that determines a :class:`StochasticVAE`.

    Attributes
    ----------
    base : VAEConfig
        The mean VAE (default: digits 0 and 1, 2-D latent space).
    sigma_hidden : int
        Hidden width of the standard :math:`\\log\\sigma` MLP.
    sigma_steps, sigma_lr : int, float
        Full-batch Adam steps and learning rate of that MLP.
    n_centres : int
        Number of RBF centres ``K``.
    bandwidth_scale : float
        ``a`` in :math:`\\lambda_k = \\frac12(a\\bar r_k)^{-2}`.
    zeta : float
        Precision floor; :math:`\\sigma \\le \\zeta^{-1/2}`.
    rbf_steps, rbf_lr : int, float
        Adam steps and learning rate of the RBF weights.
    seed : int
        Seed of the MLP initialisation and of k-means.
    """

    base: VAEConfig = field(default_factory=lambda: VAEConfig(digits=(0, 1)))
    sigma_hidden: int = 32
    sigma_steps: int = 1500
    sigma_lr: float = 3e-3
    n_centres: int = 32
    bandwidth_scale: float = 1.0
    zeta: float = 1e-2
    rbf_steps: int = 1500
    rbf_lr: float = 5e-2
    seed: int = 0

    def as_dict(self) -> dict:
        d = asdict(self)
        d["base"] = self.base.as_dict()
        d["variance_version"] = VARIANCE_VERSION
        return d


class SigmaNet(nn.Module):
    r"""The standard variance network: a tanh MLP for :math:`\log\sigma(z)`.

    Parameters
    ----------
    latent_dim, data_dim, hidden : int
    """

    def __init__(self, latent_dim: int, data_dim: int, hidden: int):
        super().__init__()
        self.net = mlp([latent_dim, hidden, hidden, data_dim])

    def forward(self, z: Tensor) -> Tensor:
        r""":math:`\sigma(z)`, shape ``(n, D)``."""
        return self.net(z).exp()


@dataclass
class StochasticVAE:
    """A mean VAE with two fitted variance models.

    Attributes
    ----------
    vae : TrainedVAE
        The mean model (encoder, :math:`\\mu_\\theta`, data, codes).
    sigma_net : SigmaNet
        Standard :math:`\\log\\sigma` MLP (frozen).
    rbf : RBFPrecision
        RBF precision network (frozen).
    config : StochasticVAEConfig
    sigma_history, rbf_history : Tensor
        Mean log-likelihood per training step of each variance fit.
    cache_hits : dict of str to bool
        ``{"vae": ..., "sigma": ..., "rbf": ...}``.

    Notes
    -----
    Derived in :ref:`sg-rbf-theory`.
    """

    vae: TrainedVAE
    sigma_net: SigmaNet
    rbf: RBFPrecision
    config: StochasticVAEConfig
    sigma_history: Tensor
    rbf_history: Tensor
    cache_hits: dict = field(default_factory=dict)

    @property
    def codes(self) -> Tensor:
        """Encoder means of the training images, ``(n, d)``."""
        return self.vae.codes

    def mean(self, z: Tensor) -> Tensor:
        r"""Decoder mean :math:`\mu_\theta(z)`, ``(n, d) -> (n, D)``."""
        return self.vae.model.decode(z)

    def std(self, z: Tensor, kind: Literal["rbf", "standard"] = "rbf") -> Tensor:
        r"""Decoder standard deviation :math:`\sigma(z)`, ``(n, D)``."""
        return self._std_fn(kind)(z)

    def _std_fn(self, kind: str):
        if kind == "rbf":
            return self.rbf.std
        if kind == "standard":
            return self.sigma_net
        raise ValueError(f"kind must be 'rbf' or 'standard', got {kind!r}.")

    def expected_metric(self, kind: Literal["rbf", "standard"] = "rbf") -> ExpectedMetric:
        r"""Expected metric :math:`J_\mu^\top J_\mu + J_\sigma^\top J_\sigma` of one variance model."""
        return ExpectedMetric(self.mean, self._std_fn(kind), self.vae.config.latent_dim)

    def log_likelihood(self, kind: Literal["rbf", "standard"] = "rbf") -> float:
        """Mean Gaussian log-likelihood of the images at their codes."""
        X = self.vae.data.images
        return float(gaussian_log_likelihood(X, self.mean(self.codes),
                                             self.std(self.codes, kind)).mean())


def _fit_sigma_net(config: StochasticVAEConfig, vae: TrainedVAE) -> dict[str, Tensor]:
    torch.manual_seed(config.seed)
    X, z = vae.data.images, vae.codes
    net = SigmaNet(z.shape[1], X.shape[1], config.sigma_hidden).double()
    with torch.no_grad():
        mu = vae.model.decode(z)
    history = adam_ascent(
        net.parameters(), lambda: gaussian_log_likelihood(X, mu, net(z)).mean(),
        config.sigma_steps, config.sigma_lr)
    out = module_tensors(net)
    out["history"] = history
    return out


def _fit_rbf(config: StochasticVAEConfig, vae: TrainedVAE) -> dict[str, Tensor]:
    fit = fit_rbf_precision(
        vae.codes, vae.data.images, vae.model.decode,
        n_centres=config.n_centres, bandwidth_scale=config.bandwidth_scale,
        zeta=config.zeta, steps=config.rbf_steps, lr=config.rbf_lr,
        seed=config.seed,
    )
    out = module_tensors(fit.network)
    out["history"] = fit.log_likelihood
    return out


def train_stochastic_vae(config: StochasticVAEConfig | None = None,
                         cache_dir=None) -> StochasticVAE:
    """Train (or load) the mean VAE, then the two variance networks.

    Parameters
    ----------
    config : StochasticVAEConfig, optional
        Default: digits 0 and 1, 32 RBF centres, :math:`\\zeta = 10^{-2}`.
    cache_dir : path, optional
        Overrides the cache directory.

    Returns
    -------
    StochasticVAE

    Raises
    ------
    TypeError
        If ``config`` is not a :class:`StochasticVAEConfig`.

    Notes
    -----
    Used in :ref:`sg-digits-vae`.
    """
    config = StochasticVAEConfig() if config is None else config
    if not isinstance(config, StochasticVAEConfig):
        raise TypeError("config must be a StochasticVAEConfig, got "
                        f"{type(config).__name__}.")
    vae = train_digits_vae(config.base, cache_dir=cache_dir)
    key = config.as_dict()
    with reproducible():  # bit-for-bit reproducible, and faster here
        s_tensors, s_hit = load_or_train(
            "digits-sigma-net", key, lambda: _fit_sigma_net(config, vae),
            directory=cache_dir)
        r_tensors, r_hit = load_or_train(
            "digits-rbf-precision", key, lambda: _fit_rbf(config, vae),
            directory=cache_dir)
    d, D = config.base.latent_dim, vae.data.images.shape[1]
    sigma_net = load_module(SigmaNet(d, D, config.sigma_hidden).double(),
                            s_tensors)
    rbf = RBFPrecision(r_tensors["model.centres"], r_tensors["model.bandwidths"],
                       D, config.zeta)
    load_module(rbf, r_tensors)
    return StochasticVAE(vae, sigma_net, rbf, config, s_tensors["history"],
                         r_tensors["history"],
                         {"vae": vae.cache_hit, "sigma": s_hit, "rbf": r_hit})
