"""Generative models and their training (Part III of the book).

Modules (each holds one idea; public names are re-exported here):

- :mod:`.critics` -- Lipschitz critics, the gradient penalty and the
  empirical Lipschitz constant (the dual approach);
- :mod:`.wgan` -- training a critic, and a WGAN, cached and reproducible;
- :mod:`.semidiscrete_gan` -- the GAN with a dual vector on the data;
- :mod:`.toy_data` -- two-dimensional toy data;
- :mod:`.wae` -- the Wasserstein autoencoder with an MMD penalty (the primal
  approach);
- :mod:`.compare` -- measurements comparing a trained VAE with a WAE.

:class:`AdamAscent`, the stateful Adam step that every model here trains
with, lives in :mod:`gmtheory._training` (the package's one Adam loop) and
is re-exported here for chapters that write their own training steps.
"""

from .._training import AdamAscent
from .compare import DIGITS_MEASURE_KEYS, code_log_magnification, digits_measures
from .critics import (
    CRITIC_METHODS,
    Critic,
    critic_value,
    empirical_lipschitz,
    gradient_penalty,
)
from .semidiscrete_gan import (
    SemiDiscreteGANConfig,
    TrainedSemiDiscreteGAN,
    train_semidiscrete_gan,
)
from .toy_data import eight_gaussians
from .wae import DigitsWAE, TrainedWAE, WAEConfig, train_digits_wae, wae_objective
from .wgan import (
    CriticConfig,
    TrainedCritic,
    TrainedWGAN,
    WGANConfig,
    train_critic,
    train_wgan,
)
