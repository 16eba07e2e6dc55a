r"""The semi-discrete GAN: a dual *vector* on the data instead of a critic network.

For data :math:`\nu = \frac1n\sum_j \delta_{y_j}` and the quadratic cost,
the dual of :math:`W_2^2(g_{\theta\#}\zeta, \nu)` is a concave problem in
one vector :math:`\tilde h \in \mathbb R^n` (semi-discrete transport),

.. math::

    W_2^2(g_{\theta\#}\zeta, \nu) = \max_{\tilde h \in \mathbb R^n}
    \int \tilde h^{\bar c}(g_\theta(z))\,\dd\zeta(z)
    + \frac1n\sum_j \tilde h_j ,
    \qquad \tilde h^{\bar c}(x) = \min_j\,[\|x - y_j\|^2 - \tilde h_j] ,

"option 1" of the source.  The potential :math:`h = \tilde h^{\bar c}` is
differentiable at almost every generated point, so the generator is trained
by the dual (envelope) gradient
:math:`\int [\partial_\theta g_\theta]^\top \nabla h(g_\theta(z))\,\dd\zeta`.
Each generator step first improves :math:`\tilde h` by averaged SGD
(:func:`gmtheory.ot.semidiscrete_ot`, warm-started from the previous
vector), then takes one Adam step on the generator.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..ot.cost import cost_matrix
from ..ot.ctransform import cbar_transform
from ..ot.semidiscrete import semidiscrete_ot
from ..validation import validate_points, validate_positive, validate_positive_int
from .cache import load_module, module_tensors, reproducible
from .training import AdamAscent
from .wgan import TRAINING_VERSION, cached_training, mlp_generator, snapshot_loop

__all__ = ["SemiDiscreteGANConfig", "TrainedSemiDiscreteGAN",
           "train_semidiscrete_gan"]


@dataclass(frozen=True)
class SemiDiscreteGANConfig:
    """Everything that determines a trained semi-discrete GAN.

    Attributes
    ----------
    latent_dim, hidden : int
        Latent dimension and generator width (as :class:`WGANConfig`).
    gen_steps : int
        Generator steps.
    lr : float
        Generator learning rate (Adam, betas (0.5, 0.9) as the WGAN).
    batch_size : int
        Latent samples per generator step.
    dual_iter, dual_batch : int
        SGD steps on the dual vector per generator step, and their batch.
    dual_step : float
        :math:`\\gamma` of :func:`gmtheory.ot.semidiscrete_ot`.
    snapshot_every, n_eval : int
        As :class:`WGANConfig`.
    seed : int
    """

    latent_dim: int = 2
    hidden: int = 64
    gen_steps: int = 200
    lr: float = 1e-3
    batch_size: int = 256
    dual_iter: int = 10
    dual_batch: int = 128
    dual_step: float = 8.0
    snapshot_every: int = 25
    n_eval: int = 512
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("latent_dim", "hidden", "gen_steps", "batch_size",
                     "dual_iter", "dual_batch", "snapshot_every", "n_eval"):
            validate_positive_int(getattr(self, name), name)
        validate_positive(self.lr, "lr")
        validate_positive(self.dual_step, "dual_step")

    def as_dict(self) -> dict:
        return asdict(self) | {"training_version": TRAINING_VERSION}


@dataclass
class TrainedSemiDiscreteGAN:
    """A trained semi-discrete GAN.

    Attributes
    ----------
    generator : nn.Sequential
        Eval mode, frozen.
    dual : Tensor, shape (n,)
        The last dual vector :math:`\\tilde h` on the data (mean zero).
    config : SemiDiscreteGANConfig
    mass_errors : Tensor, shape (gen_steps,)
        :math:`\\sum_j|\\zeta(L_j) - 1/n|` of each dual solve (Monte Carlo).
    snapshot_steps : Tensor of int, shape (k,)
    snapshots : Tensor, shape (k, n_eval, d)
    seconds : float
        Wall time of the training run (measured when it was trained).
    cache_hit : bool
    """

    generator: nn.Sequential
    dual: Tensor
    config: SemiDiscreteGANConfig
    mass_errors: Tensor
    snapshot_steps: Tensor
    snapshots: Tensor
    seconds: float
    cache_hit: bool = field(default=False)


def train_semidiscrete_gan(data: Any, config: SemiDiscreteGANConfig | None = None,
                           cache_dir: Any = None) -> TrainedSemiDiscreteGAN:
    r"""Train a generator against the semi-discrete dual of :math:`W_2^2`.

    Each step: ``dual_iter`` steps of averaged SGD on :math:`\tilde h`
    (warm start), then one Adam step of the generator on

    .. math:: \frac1B\sum_{i=1}^B \min_j\,\big[\|g_\theta(z_i) - y_j\|^2
              - \tilde h_j\big] ,

    whose gradient is the dual envelope gradient.

    Parameters
    ----------
    data : Tensor, shape (n, d)
        Training samples :math:`y_j`.
    config : SemiDiscreteGANConfig, optional
    cache_dir : path, optional

    Returns
    -------
    TrainedSemiDiscreteGAN

    Raises
    ------
    TypeError
        ``config`` of the wrong type.
    ValueError
        ``data`` not a finite ``(n, d)`` point cloud.

    Notes
    -----
    The generator's loss is :func:`gmtheory.ot.cbar_transform` of the dual
    vector on :func:`gmtheory.ot.cost_matrix`. Derived in
    :ref:`gd-semidiscrete`; compared with a WGAN-GP in :ref:`gd-sdgan`.

    References
    ----------
    Genevay, Cuturi, Peyré & Bach (2016), NeurIPS; Genevay, Peyré & Cuturi
    (2017), *GAN and VAE from an optimal transport point of view*.

    Examples
    --------
    >>> import tempfile
    >>> cfg = SemiDiscreteGANConfig(hidden=8, gen_steps=2, batch_size=8,
    ...                             dual_iter=5, snapshot_every=2, n_eval=4)
    >>> res = train_semidiscrete_gan(torch.randn(6, 2), cfg,
    ...                              cache_dir=tempfile.mkdtemp())
    >>> res.dual.shape, res.snapshots.shape
    (torch.Size([6]), torch.Size([2, 4, 2]))
    """
    config = SemiDiscreteGANConfig() if config is None else config
    if not isinstance(config, SemiDiscreteGANConfig):
        raise TypeError(
            f"config must be a SemiDiscreteGANConfig, got {type(config).__name__}.")
    Y = validate_points(data, "data", dtype=torch.float64).detach()
    n, d = Y.shape
    cfg = config

    def train() -> dict[str, Tensor]:
        gen = torch.Generator().manual_seed(cfg.seed)
        g = mlp_generator(cfg.latent_dim, cfg.hidden, d, cfg.seed)
        opt = AdamAscent(g.parameters(), cfg.lr, (0.5, 0.9))
        z_eval = torch.randn(cfg.n_eval, cfg.latent_dim, generator=gen)

        def sampler(k: int, rng: np.random.Generator) -> np.ndarray:
            z = torch.as_tensor(rng.standard_normal((k, cfg.latent_dim)))
            with torch.no_grad():
                return g(z).numpy()

        state = {"dual": np.zeros(n)}
        errors = torch.empty(cfg.gen_steps, dtype=torch.float64)

        def step(k: int) -> None:
            # SGD only (no Newton phase): a few warm-started steps per
            # generator step, as the cached models were trained
            sd = semidiscrete_ot(sampler, Y.numpy(), n_iter=cfg.dual_iter,
                                 batch_size=cfg.dual_batch, step=cfg.dual_step,
                                 n_eval=n, record_every=cfg.dual_iter,
                                 seed=cfg.seed * 1_000_003 + k, warn=False,
                                 g0=state["dual"], method="sgd")
            state["dual"], errors[k] = sd.g, sd.mass_error
            h_tilde = torch.as_tensor(sd.g)

            def objective() -> Tensor:
                x = g(torch.randn(cfg.batch_size, cfg.latent_dim, generator=gen))
                return -cbar_transform(h_tilde, cost_matrix(x, Y)).mean()

            opt.step(objective)

        out = snapshot_loop(g, z_eval, cfg.gen_steps, cfg.snapshot_every, step)
        out |= module_tensors(g, "generator.") | {
            "dual": torch.as_tensor(state["dual"]), "mass_errors": errors}
        return out

    tensors, hit = cached_training("semidiscrete-gan", cfg, (Y,), train,
                                    cache_dir, timed=True)
    with reproducible():
        g = load_module(mlp_generator(cfg.latent_dim, cfg.hidden, d), tensors,
                        "generator.")
    return TrainedSemiDiscreteGAN(g, tensors["dual"], cfg, tensors["mass_errors"],
                                  tensors["snapshot_steps"], tensors["snapshots"],
                                  float(tensors["seconds"]), hit)
