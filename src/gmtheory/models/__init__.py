"""Generative models and their training (Parts I and III of the book).

Modules (each holds one idea; public names are re-exported here):

- :mod:`.mlp` -- the one multilayer-perceptron builder;
- :mod:`.training` -- the one Adam loop (:class:`AdamAscent`);
- :mod:`.cache` -- content-addressed cache of trained weights and
  :func:`reproducible`;
- :mod:`.vae` -- the small digits VAE (Part I);
- :mod:`.rbf_precision`, :mod:`.stochastic_vae` -- the variance networks and
  the stochastic VAE behind the expected metric (Part I);
- :mod:`.critics` -- Lipschitz critics, the gradient penalty and the
  empirical Lipschitz constant (the dual approach);
- :mod:`.wgan` -- training a critic, and a WGAN, cached and reproducible;
- :mod:`.semidiscrete_gan` -- the GAN with a dual vector on the data;
- :mod:`.toy_data` -- two-dimensional toy data;
- :mod:`.wae` -- the Wasserstein autoencoder with an MMD penalty (the primal
  approach);
- :mod:`.compare` -- measurements comparing a trained VAE with a WAE.

:class:`AdamAscent`, the stateful Adam step that every model here trains
with, is re-exported here for chapters that write their own training steps.
"""

from . import cache
from .cache import cache_dir, config_key, load_or_train, reproducible
from .compare import DIGITS_MEASURE_KEYS, code_log_magnification, digits_measures
from .critics import (
    CRITIC_METHODS,
    Critic,
    critic_value,
    empirical_lipschitz,
    gradient_penalty,
)
from .mlp import mlp, random_mlp
from .rbf_precision import (
    RBFFit,
    RBFPrecision,
    fit_rbf_precision,
    gaussian_log_likelihood,
    rbf_centres,
)
from .semidiscrete_gan import (
    SemiDiscreteGANConfig,
    TrainedSemiDiscreteGAN,
    train_semidiscrete_gan,
)
from .stochastic_vae import (
    SigmaNet,
    StochasticVAE,
    StochasticVAEConfig,
    train_stochastic_vae,
)
from .toy_data import eight_gaussians
from .training import AdamAscent, adam_ascent
from .vae import DigitsVAE, TrainedVAE, VAEConfig, train_digits_vae
from .wae import DigitsWAE, TrainedWAE, WAEConfig, train_digits_wae, wae_objective
from .wgan import (
    CriticConfig,
    TrainedCritic,
    TrainedWGAN,
    WGANConfig,
    train_critic,
    train_wgan,
)
