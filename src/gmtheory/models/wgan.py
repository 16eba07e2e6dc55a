r"""Training a Lipschitz critic, and a Wasserstein GAN, reproducibly and cached.

The WGAN solves the dual of :math:`\min_\theta W_1(g_{\theta\#}\zeta, \nu)`,

.. math::

    \min_\theta \max_\xi\ \int h_\xi(g_\theta(z))\,\dd\zeta(z)
    - \frac1n \sum_{j=1}^n h_\xi(y_j)
    \;[-\ \lambda\,\mathrm{GP}(h_\xi)] ,

alternating ``n_critic`` Adam ascent steps of the critic with one Adam
descent step of the generator (Arjovsky et al., 2017; Gulrajani et al.,
2017).  Both players use :class:`gmtheory.models.AdamAscent`, the
package's one training loop.  Training runs inside
:func:`gmtheory.models.cache.reproducible` from fixed seeds, so it is bit-for-bit
reproducible, and is cached by the hash of its configuration and data.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from ..validation import validate_points, validate_positive, validate_positive_int
from .cache import load_module, load_or_train, module_tensors, reproducible
from .critics import CRITIC_METHODS, Critic, critic_value, gradient_penalty
from .mlp import mlp
from .training import AdamAscent

__all__ = ["CriticConfig", "TrainedCritic", "TrainedWGAN", "WGANConfig",
           "data_digest", "mlp_generator", "train_critic", "train_wgan"]

#: bump when the training code changes, so cached weights are invalidated
TRAINING_VERSION = 1


def data_digest(*arrays: Tensor) -> str:
    """SHA-256 of the bytes and shapes of float64 tensors (part of a cache key)."""
    h = hashlib.sha256()
    for a in arrays:
        t = a.detach().to(torch.float64).contiguous()
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def mlp_generator(latent_dim: int = 2, hidden: int = 64, dim: int = 2,
                  seed: int = 0) -> nn.Sequential:
    r"""The generator :math:`g_\theta`, an MLP ``(n, latent_dim) -> (n, dim)``, trainable.

    Two hidden ReLU layers of width ``hidden``, seeded initialisation
    (:func:`gmtheory.models.mlp`).

    Examples
    --------
    >>> mlp_generator(seed=1)(torch.zeros(3, 2)).shape
    torch.Size([3, 2])
    """
    return mlp([latent_dim, hidden, hidden, dim], "relu", seed=seed)


@dataclass(frozen=True)
class CriticConfig:
    r"""Everything that determines a trained :class:`~gmtheory.models.Critic`.

    Attributes
    ----------
    method : {"none", "clip", "gp", "sn"}
        How the Lipschitz bound is held.
    hidden, depth : int
        Width and number of hidden layers.
    activation : str
        Hidden non-linearity.
    clip : float
        Weight box for ``"clip"``.
    penalty : float
        :math:`\lambda` of the gradient penalty (``"gp"`` only).
    lr : float
        Adam learning rate.
    betas : tuple of float
        Adam moment decay rates (Gulrajani et al. use (0.5, 0.9)).
    steps : int
        Critic steps (in :func:`train_critic`; per-step count in a WGAN is
        ``WGANConfig.n_critic``).
    seed : int
        Seed of the initialisation and of the penalty's interpolation weights.
    """

    method: str = "gp"
    hidden: int = 64
    depth: int = 2
    activation: str = "relu"
    clip: float = 0.01
    penalty: float = 10.0
    lr: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.9)
    steps: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in CRITIC_METHODS:
            raise ValueError(
                f"method must be one of {CRITIC_METHODS}, got {self.method!r}.")
        validate_positive_int(self.steps, "steps")
        validate_positive(self.lr, "lr")
        validate_positive(self.penalty, "penalty", strict=False)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["betas"] = list(self.betas)
        d["training_version"] = TRAINING_VERSION
        return d

    def build(self, dim: int) -> Critic:
        """A freshly initialised critic of this configuration."""
        return Critic(dim, self.hidden, self.depth, self.method, self.clip,
                      self.activation, self.seed)


def _critic_objective(critic: Critic, config: CriticConfig, x: Tensor, y: Tensor,
                      gen: torch.Generator, record: dict) -> Tensor:
    """Critic value, minus the gradient penalty for ``method="gp"``."""
    value = critic_value(critic, x, y)
    record["value"] = value.detach()
    if config.method == "gp":
        value = value - config.penalty * gradient_penalty(critic, x, y, rng=gen)
    return value


def snapshot_loop(g: nn.Module, z_eval: Tensor, steps: int, every: int,
                   step: Callable[[int], None]) -> dict[str, Tensor]:
    """Run ``step(k)`` for ``k < steps``, keeping ``g(z_eval)`` every ``every``
    steps, before the first and after the last."""
    snaps, kept = [], []
    for k in range(steps + 1):
        if k % every == 0 or k == steps:
            with torch.no_grad():
                snaps.append(g(z_eval))
            kept.append(k)
        if k < steps:
            step(k)
    return {"snapshots": torch.stack(snaps), "snapshot_steps": torch.tensor(kept)}


def cached_training(kind: str, config: Any, data: tuple[Tensor, ...],
                     train: Callable[[], dict[str, Tensor]], cache_dir: Any,
                     timed: bool = False) -> tuple[dict[str, Tensor], bool]:
    """Run ``train()`` inside :func:`reproducible`, cached by configuration and data.

    The cache key is ``config.as_dict()`` with the :func:`data_digest` of
    ``data``; with ``timed`` the wall time of the run is stored as
    ``"seconds"`` next to the weights.
    """
    def run() -> dict[str, Tensor]:
        start = time.perf_counter()
        with reproducible():
            out = train()
        if timed:
            out["seconds"] = torch.tensor(time.perf_counter() - start)
        return out

    key = config.as_dict() | {"data": data_digest(*data)}
    return load_or_train(kind, key, run, directory=cache_dir)


@dataclass
class TrainedCritic:
    """A critic trained on fixed samples.

    Attributes
    ----------
    critic : Critic
        In eval mode, parameters frozen, float64.
    config : CriticConfig
    value_history : Tensor, shape (steps,)
        Critic value :math:`\\frac1n\\sum h(x_i) - \\frac1m\\sum h(y_j)` per step.
    cache_hit : bool
    """

    critic: Critic
    config: CriticConfig
    value_history: Tensor
    cache_hit: bool = field(default=False)


def train_critic(x: Any, y: Any, config: CriticConfig | None = None,
                 cache_dir: Any = None) -> TrainedCritic:
    r"""Train a critic to maximise :math:`\frac1n\sum_i h(x_i) - \frac1m\sum_j h(y_j)` on fixed samples.

    Full-batch Adam ascent; with ``method="gp"`` the objective is penalised
    by :math:`\lambda\,\mathrm{GP}` on segments between ``x[i]`` and
    ``y[i]``.

    Parameters
    ----------
    x : Tensor, shape (n, d)
        Samples of the model :math:`\mu`.
    y : Tensor, shape (n, d)
        Samples of the data :math:`\nu` (same ``n``, paired for the penalty).
    config : CriticConfig, optional
    cache_dir : path, optional

    Returns
    -------
    TrainedCritic

    Raises
    ------
    TypeError
        ``config`` not a :class:`CriticConfig`.
    ValueError
        Points of the wrong shape or not finite.

    Notes
    -----
    Bit-for-bit reproducible and cached by configuration and data. Derived
    in :ref:`gd-lipschitz`.

    Examples
    --------
    >>> import tempfile
    >>> x, y = torch.zeros(8, 2), torch.ones(8, 2)
    >>> cfg = CriticConfig(steps=5, hidden=8)
    >>> res = train_critic(x, y, cfg, cache_dir=tempfile.mkdtemp())
    >>> res.value_history.shape, res.cache_hit
    (torch.Size([5]), False)
    """
    config = CriticConfig() if config is None else config
    if not isinstance(config, CriticConfig):
        raise TypeError(f"config must be a CriticConfig, got {type(config).__name__}.")
    X = validate_points(x, "x", dtype=torch.float64).detach()
    Y = validate_points(y, "y", dim=X.shape[1], dtype=torch.float64).detach()
    if X.shape != Y.shape:
        raise ValueError(f"x and y must have the same shape, got {tuple(X.shape)} "
                         f"and {tuple(Y.shape)}.")

    def train() -> dict[str, Tensor]:
        torch.manual_seed(config.seed)
        gen = torch.Generator().manual_seed(config.seed)
        critic = config.build(X.shape[1])
        ascent = AdamAscent(critic.parameters(), config.lr, config.betas,
                            critic.project)
        record: dict = {}
        history = torch.empty(config.steps, dtype=torch.float64)
        for step in range(config.steps):
            ascent.step(lambda: _critic_objective(critic, config, X, Y, gen, record))
            history[step] = record["value"]
        out = module_tensors(critic, "critic.")
        out["value_history"] = history
        return out

    tensors, hit = cached_training("critic", config, (X, Y), train, cache_dir)
    with reproducible():
        critic = load_module(config.build(X.shape[1]), tensors, "critic.")
    return TrainedCritic(critic, config, tensors["value_history"], hit)


@dataclass(frozen=True)
class WGANConfig:
    """Everything that determines a trained WGAN.

    Attributes
    ----------
    critic : CriticConfig
        The critic (its ``steps`` is ignored; see ``n_critic``).
    latent_dim, hidden : int
        Latent dimension and generator width.
    gen_steps : int
        Generator steps.
    n_critic : int
        Critic steps per generator step.
    lr : float
        Generator learning rate (Adam, the critic's ``betas``).
    snapshot_every : int
        Keep the generated samples of a fixed latent batch every so many
        generator steps (and before the first).
    n_eval : int
        Size of that latent batch.
    seed : int
        Seed of the generator's initialisation and of all noise.
    """

    critic: CriticConfig = CriticConfig()
    latent_dim: int = 2
    hidden: int = 64
    gen_steps: int = 500
    n_critic: int = 5
    lr: float = 1e-3
    snapshot_every: int = 25
    n_eval: int = 512
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.critic, CriticConfig):
            raise TypeError("critic must be a CriticConfig.")
        for name in ("latent_dim", "hidden", "gen_steps", "n_critic",
                     "snapshot_every", "n_eval"):
            validate_positive_int(getattr(self, name), name)
        validate_positive(self.lr, "lr")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["critic"] = self.critic.as_dict()
        return d


@dataclass
class TrainedWGAN:
    """A trained WGAN.

    Attributes
    ----------
    generator : nn.Sequential
        :math:`g_\\theta`, eval mode, frozen.
    critic : Critic
        The last critic, eval mode, frozen.
    config : WGANConfig
    estimates : Tensor, shape (gen_steps,)
        The critic's value on its last batch before each generator step (its
        estimate of :math:`W_1`).
    snapshot_steps : Tensor of int, shape (k,)
    snapshots : Tensor, shape (k, n_eval, d)
        Generated samples of a fixed latent batch at those steps.
    seconds : float
        Wall time of the training run (measured when it was trained).
    cache_hit : bool
    """

    generator: nn.Sequential
    critic: Critic
    config: WGANConfig
    estimates: Tensor
    snapshot_steps: Tensor
    snapshots: Tensor
    seconds: float
    cache_hit: bool = field(default=False)


def train_wgan(data: Any, config: WGANConfig | None = None,
               cache_dir: Any = None) -> TrainedWGAN:
    r"""Train a WGAN (critic and generator) on a point cloud.

    Each generator step: ``n_critic`` critic ascent steps on fresh generated
    batches of the data's size (with the penalty for ``"gp"``, the weight
    clipping for ``"clip"``), then one generator step on
    :math:`-\frac1n\sum_i h_\xi(g_\theta(z_i))` maximised, i.e. the critic
    objective minimised in :math:`\theta`.

    Parameters
    ----------
    data : Tensor, shape (n, d)
        Training samples :math:`y_j`.
    config : WGANConfig, optional
    cache_dir : path, optional

    Returns
    -------
    TrainedWGAN

    Raises
    ------
    TypeError
        ``config`` not a :class:`WGANConfig`.
    ValueError
        ``data`` not a finite ``(n, d)`` point cloud.

    Notes
    -----
    Derived in :ref:`gd-lipschitz` (the gradient penalty); trained in
    :ref:`gd-wgan`.

    References
    ----------
    Arjovsky, Chintala & Bottou (2017), ICML; Gulrajani et al. (2017), NeurIPS.

    Examples
    --------
    >>> import tempfile
    >>> cfg = WGANConfig(CriticConfig(hidden=8), hidden=8, gen_steps=3,
    ...                  n_critic=2, snapshot_every=3, n_eval=4)
    >>> res = train_wgan(torch.randn(16, 2), cfg, cache_dir=tempfile.mkdtemp())
    >>> res.snapshots.shape, res.snapshot_steps.tolist()
    (torch.Size([2, 4, 2]), [0, 3])
    """
    config = WGANConfig() if config is None else config
    if not isinstance(config, WGANConfig):
        raise TypeError(f"config must be a WGANConfig, got {type(config).__name__}.")
    Y = validate_points(data, "data", dtype=torch.float64).detach()
    n, d = Y.shape
    c = config.critic

    def train() -> dict[str, Tensor]:
        torch.manual_seed(config.seed)
        gen = torch.Generator().manual_seed(config.seed)
        g = mlp_generator(config.latent_dim, config.hidden, d, config.seed)
        critic = c.build(d)
        critic_opt = AdamAscent(critic.parameters(), c.lr, c.betas, critic.project)
        gen_opt = AdamAscent(g.parameters(), config.lr, c.betas)
        z_eval = torch.randn(config.n_eval, config.latent_dim, generator=gen)
        estimates = torch.empty(config.gen_steps, dtype=torch.float64)
        record: dict = {}

        def noise() -> Tensor:
            return torch.randn(n, config.latent_dim, generator=gen)

        def step(k: int) -> None:
            for _ in range(config.n_critic):
                with torch.no_grad():
                    fake = g(noise())
                critic_opt.step(lambda: _critic_objective(
                    critic, c, fake, Y, gen, record))  # noqa: B023
            estimates[k] = record["value"]
            gen_opt.step(lambda: -critic(g(noise())).mean())

        out = snapshot_loop(g, z_eval, config.gen_steps,
                             config.snapshot_every, step)
        out |= module_tensors(g, "generator.") | module_tensors(critic, "critic.")
        out["estimates"] = estimates
        return out

    tensors, hit = cached_training("wgan", config, (Y,), train, cache_dir,
                                    timed=True)
    with reproducible():
        g = load_module(mlp_generator(config.latent_dim, config.hidden, d),
                        tensors, "generator.")
        critic = load_module(c.build(d), tensors, "critic.")
    return TrainedWGAN(g, critic, config, tensors["estimates"],
                       tensors["snapshot_steps"], tensors["snapshots"],
                       float(tensors["seconds"]), hit)
