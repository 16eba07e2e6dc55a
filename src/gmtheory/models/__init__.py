"""Generative models and their training (Part III of the book).

Modules (each holds one idea; public names are re-exported here):

- :mod:`.critics` -- Lipschitz critics, the gradient penalty and the
  empirical Lipschitz constant (the dual approach);
- :mod:`.wgan` -- training a critic, and a WGAN, cached and reproducible;
- :mod:`.semidiscrete_gan` -- the GAN with a dual vector on the data;
- :mod:`.toy_data` -- two-dimensional toy data;
- :mod:`.wae` -- the Wasserstein autoencoder with an MMD penalty (the primal
  approach).
"""

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
