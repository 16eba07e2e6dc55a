r"""The expected metric of a stochastic generator, and its Monte Carlo estimate.

A stochastic generator is the random map

.. math::

    f_\varepsilon(z) = \mu(z) + \sigma(z)\odot\varepsilon,

where the noise :math:`\varepsilon\in\mathbb R^D` is drawn **once**,
independently of :math:`z`, with :math:`\mathbb E\varepsilon_k = 0` and
:math:`\mathbb E\varepsilon_k^2 = s_k^2` (:math:`s_k = 1` in the standard
case).  Each realisation is a smooth map with pullback metric
:math:`M_\varepsilon = J_{f_\varepsilon}^\top J_{f_\varepsilon}`, and

.. math::

    \overline M(z) = \mathbb E_\varepsilon[M_\varepsilon(z)]
    = J_\mu(z)^\top J_\mu(z) + J_\sigma(z)^\top \operatorname{diag}(s^2)
      J_\sigma(z).

:class:`ExpectedMetric` evaluates the right-hand side exactly with
``torch.func``; :func:`monte_carlo_metric` and :func:`sample_metric` estimate
the left-hand side by differentiating sampled realisations, an independent
route used to check the theorem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.func import jacfwd, jvp, vmap

from ..validation import as_float_tensor, validate_finite, validate_points, validate_positive_int
from .jacobian import Generator, single_point, validate_callable, validate_generator
from .metrics import Metric

__all__ = [
    "ExpectedMetric",
    "MetricEstimate",
    "monte_carlo_metric",
    "sample_metric",
    "draw_noise",
]


_BATCH_MAP = "an nn.Module or a function mapping (n, d) to (n, D)"


class ExpectedMetric(Metric):
    r"""Expected pullback metric of :math:`f_\varepsilon = \mu + \sigma\odot\varepsilon`.

    .. math::

        \overline M(z) = J_\mu(z)^\top J_\mu(z)
        + J_\sigma(z)^\top \operatorname{diag}(s^2)\, J_\sigma(z),

    with :math:`s^2` the noise variances (all ones by default).

    Parameters
    ----------
    mean : callable
        :math:`\mu`, maps ``(n, d)`` to ``(n, D)`` with differentiable torch
        operations.
    std : callable
        :math:`\sigma`, maps ``(n, d)`` to ``(n, D)`` (non-negative).
    dim : int
        Latent dimension ``d``.
    noise_var : Tensor, shape (D,), optional
        Variances :math:`s_k^2 = \mathbb E\varepsilon_k^2`; default ones.

    Raises
    ------
    TypeError
        If ``mean`` or ``std`` is not callable.
    ValueError
        If ``dim`` is not a positive integer, ``noise_var`` is not a finite
        non-negative vector, or (on first use) ``mean`` and ``std`` disagree
        on ``D``.

    Notes
    -----
    Derived in :ref:`sg-random-map`.

    Examples
    --------
    >>> import torch
    >>> mu = lambda z: torch.cat([z, torch.zeros_like(z)], dim=1)
    >>> sd = lambda z: torch.cat([torch.zeros_like(z), 2 * z], dim=1)
    >>> ExpectedMetric(mu, sd, dim=2)(torch.ones(1, 2))
    tensor([[[5., 0.],
             [0., 5.]]])
    """

    def __init__(self, mean: Generator, std: Generator, dim: int,
                 noise_var: Tensor | None = None):
        super().__init__(dim)
        validate_callable(mean, "mean", _BATCH_MAP)
        validate_callable(std, "std", _BATCH_MAP)
        self.mean, self.std = mean, std
        if noise_var is not None:
            nv = validate_finite(as_float_tensor(noise_var, "noise_var"), "noise_var")
            if nv.ndim != 1 or bool((nv < 0).any()):
                raise ValueError(
                    "noise_var must be a 1-D tensor of non-negative variances "
                    f"(D,), got shape {tuple(nv.shape)} with minimum "
                    f"{float(nv.min()):.3g}."
                )
            noise_var = nv
        self.noise_var = noise_var

    def validate_maps(self, z: Tensor) -> None:
        D_mu = validate_generator(self.mean, z.detach(), "mean")
        D_sd = validate_generator(self.std, z.detach(), "std")
        if D_mu != D_sd:
            raise ValueError(
                f"mean and std must have the same output dimension D; mean "
                f"returns {D_mu} and std returns {D_sd} columns."
            )
        if self.noise_var is not None and self.noise_var.shape[0] != D_mu:
            raise ValueError(
                f"noise_var must have length D = {D_mu}, got "
                f"{self.noise_var.shape[0]}."
            )

    def jacobians(self, z: Tensor) -> tuple[Tensor, Tensor]:
        r"""Jacobians :math:`J_\mu` and :math:`J_\sigma`, each ``(n, D, d)``."""
        return self._jacobians(self._points(z))

    def _jacobians(self, z: Tensor) -> tuple[Tensor, Tensor]:
        def mean_and_std(x: Tensor) -> tuple[Tensor, Tensor]:
            return self.mean(x), self.std(x)

        return vmap(jacfwd(single_point(mean_and_std)))(z)

    def evaluate(self, z: Tensor) -> Tensor:
        J_mu, J_sd = self._jacobians(z)
        if self.noise_var is not None:
            J_sd_w = J_sd * self.noise_var.to(z.dtype)[:, None]
        else:
            J_sd_w = J_sd
        return J_mu.transpose(1, 2) @ J_mu + J_sd.transpose(1, 2) @ J_sd_w

    def evaluate_squared_speeds(self, z: Tensor, dz: Tensor) -> Tensor:
        r""":math:`\|J_\mu\Delta\|^2 + \|J_\sigma\Delta\|^2` by two JVPs per point.

        With ``noise_var`` the second term is weighted,
        :math:`\sum_i v_i (J_\sigma\Delta)_i^2`.
        """
        mean, std = single_point(self.mean), single_point(self.std)
        Jm = vmap(lambda x, u: jvp(mean, (x,), (u,))[1])(z, dz)
        Js = vmap(lambda x, u: jvp(std, (x,), (u,))[1])(z, dz)
        w = Js ** 2
        if self.noise_var is not None:
            w = w * self.noise_var.to(z.dtype)
        return (Jm ** 2).sum(-1) + w.sum(-1)

    def mean_metric(self, z: Tensor) -> Tensor:
        r"""Metric :math:`J_\mu^\top J_\mu` of the mean manifold, ``(n, d, d)``.

        Always :math:`J_\mu^\top J_\mu \preceq \overline M`.
        """
        J_mu, _ = self._jacobians(self._points(z))
        return J_mu.transpose(1, 2) @ J_mu


@dataclass
class MetricEstimate:
    """A Monte Carlo estimate of an expected metric.

    Attributes
    ----------
    mean : Tensor, shape (n, d, d)
        Sample mean of the realised metrics.
    std_error : Tensor, shape (n, d, d)
        Standard error of each entry (sample standard deviation / sqrt(N)).
    n_samples : int
        Number of noise draws ``N``.
    samples : Tensor, shape (N, n, d, d), or None
        The realised metrics, if ``keep_samples=True``.
    """

    mean: Tensor
    std_error: Tensor
    n_samples: int
    samples: Tensor | None = None

    def z_scores(self, reference: Tensor) -> Tensor:
        """``|mean - reference| / std_error`` entrywise (``inf`` where SE is 0
        and the entries differ, 0 where both vanish)."""
        diff = (self.mean - reference).abs()
        se = self.std_error
        out = torch.where(se > 0, diff / se.clamp_min(1e-300),
                          torch.where(diff > 0, torch.inf, 0.0))
        return out


def monte_carlo_metric(
    realise: Callable[[Tensor, Tensor], Tensor],
    z: Tensor,
    eps: Tensor,
    *,
    chunk: int = 2048,
    keep_samples: bool = False,
) -> MetricEstimate:
    r"""Average the pullback metrics of sampled realisations of a random map.

    .. math::

        \widehat M_N(z) = \frac1N\sum_{i=1}^N J_{f_{\varepsilon_i}}(z)^\top
        J_{f_{\varepsilon_i}}(z),

    where each Jacobian is obtained by differentiating the realised map
    ``z -> realise(z, eps_i)`` (forward mode), never from a formula.

    Parameters
    ----------
    realise : callable
        ``realise(z, e)`` with ``z`` of shape ``(1, d)`` and ``e`` of shape
        ``(D,)`` returns the realisation at ``z``, shape ``(1, D)``.
    z : Tensor, shape (n, d)
        Latent points.
    eps : Tensor, shape (N, D)
        Noise draws, one realisation per row (``N >= 2``).
    chunk : int, optional
        Draws processed at once (memory ~ ``chunk * n * D * d``); default 2048.
    keep_samples : bool, optional
        Return every realised metric in ``samples``; default False.

    Returns
    -------
    MetricEstimate

    Raises
    ------
    TypeError
        If ``realise`` is not callable.
    ValueError
        If ``z`` or ``eps`` is malformed, or ``N < 2``.

    Notes
    -----
    Used in :ref:`sg-coupling`.

    Examples
    --------
    >>> import torch
    >>> f = lambda z, e: torch.cat([z, z * e[:1]], dim=1)   # D = 2, d = 1
    >>> eps = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    >>> monte_carlo_metric(f, torch.zeros(1, 1), eps).mean
    tensor([[[2.]]])
    """
    if not callable(realise):
        raise TypeError(f"realise must be callable, got {type(realise).__name__}.")
    z = validate_points(z, "z")
    eps = validate_points(eps, "eps")
    N = eps.shape[0]
    if N < 2:
        raise ValueError(f"eps must hold at least 2 draws (rows) for a standard "
                         f"error, got {N}.")
    chunk = validate_positive_int(chunk, "chunk")
    eps = eps.to(z.dtype)  # noise draws: converting them loses nothing needed
    with torch.no_grad():  # one realisation first: a clear error, not vmap's
        try:
            out = realise(z[:1], eps[0])
        except RuntimeError as err:
            raise TypeError(
                f"realise(z, e) failed on z of shape {tuple(z[:1].shape)} and e "
                f"of shape {tuple(eps[0].shape)}: {err}"
            ) from err
    if not isinstance(out, Tensor) or out.ndim != 2 or out.shape[0] != 1:
        got = (f"shape {tuple(out.shape)}" if isinstance(out, Tensor)
               else type(out).__name__)
        raise ValueError(
            "realise(z, e) must return the realisation at the point z of "
            f"shape (1, d) as a tensor of shape (1, D); it returned {got}."
        )

    single = single_point(realise)   # (d,), (D,) -> (D,)
    jac = vmap(vmap(jacfwd(single), in_dims=(0, None)), in_dims=(None, 0))
    total = torch.zeros(z.shape[0], z.shape[1], z.shape[1], dtype=z.dtype)
    total_sq = torch.zeros_like(total)
    kept = []
    for start in range(0, N, int(chunk)):
        J = jac(z, eps[start:start + chunk])  # (c, n, D, d)
        M = J.transpose(2, 3) @ J
        total = total + M.sum(0)
        total_sq = total_sq + (M ** 2).sum(0)
        if keep_samples:
            kept.append(M)
    mean = validate_finite(total / N, "the Monte Carlo metric (realise's Jacobians)")
    var = ((total_sq - N * mean ** 2) / (N - 1)).clamp_min(0.0)
    samples = torch.cat(kept) if keep_samples else None
    return MetricEstimate(mean, (var / N).sqrt(), N, samples)


def draw_noise(n_samples: int, dim: int, rng: torch.Generator,
               noise: str = "gaussian", dtype: torch.dtype = torch.float64) -> Tensor:
    """Draw ``(n_samples, dim)`` zero-mean, unit-variance noise.

    Parameters
    ----------
    n_samples, dim : int
    rng : torch.Generator
        Seeded random number generator (required: every draw in the book is reproducible).
    noise : {"gaussian", "rademacher"}
        Standard normal, or independent random signs.
    dtype : torch.dtype

    Returns
    -------
    Tensor, shape (n_samples, dim)

    Notes
    -----
    Used in :ref:`sg-coupling`.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> draw_noise(4, 3, g, "rademacher").abs().unique()
    tensor([1.], dtype=torch.float64)
    """
    if not isinstance(rng, torch.Generator):
        raise TypeError("rng must be a seeded torch.Generator, got "
                        f"{type(rng).__name__}; use "
                        "torch.Generator().manual_seed(0).")
    validate_positive_int(n_samples, "n_samples")
    if noise == "gaussian":
        return torch.randn(int(n_samples), dim, generator=rng, dtype=dtype)
    if noise == "rademacher":
        bits = torch.randint(0, 2, (int(n_samples), dim), generator=rng)
        return (2 * bits - 1).to(dtype)
    raise ValueError(f"noise must be 'gaussian' or 'rademacher', got {noise!r}.")


def sample_metric(
    mean: Generator,
    std: Generator,
    z: Tensor,
    n_samples: int,
    rng: torch.Generator,
    *,
    noise: str | Callable[[int, int, torch.Generator], Tensor] = "gaussian",
    keep_samples: bool = False,
) -> MetricEstimate:
    r"""Monte Carlo estimate of :math:`\mathbb E_\varepsilon[M_\varepsilon(z)]` from sampled maps.

    .. math::

        f_{\varepsilon_i}(z) = \mu(z) + \sigma(z)\odot\varepsilon_i, \qquad
        \widehat M_N(z) = \frac1N \sum_{i=1}^N J_{f_{\varepsilon_i}}(z)^\top
        J_{f_{\varepsilon_i}}(z),

    an unbiased estimator of :class:`ExpectedMetric` whenever the noise has
    zero mean and unit variance; its standard error decays like
    :math:`N^{-1/2}`.

    Parameters
    ----------
    mean, std : callable
        :math:`\mu` and :math:`\sigma`, ``(n, d) -> (n, D)``.
    z : Tensor, shape (n, d)
        Latent points.
    n_samples : int
        Number of realisations ``N >= 2``.
    rng : torch.Generator
        Seeded source of the noise.
    noise : {"gaussian", "rademacher"} or callable, optional
        Noise law; a callable ``noise(N, D, rng)`` must return an
        ``(N, D)`` tensor (e.g. correlated or non-unit-variance noise).
        Default ``"gaussian"``.
    keep_samples : bool, optional
        Keep the realised metrics; default False.

    Returns
    -------
    MetricEstimate

    Raises
    ------
    TypeError
        If ``mean``/``std``/``noise`` are not callable or ``rng`` is not
        a ``torch.Generator``.
    ValueError
        If ``z`` is malformed, ``n_samples < 2``, or the noise has the wrong
        shape.

    Notes
    -----
    Used in :ref:`sg-mc-check`.

    Examples
    --------
    >>> import torch
    >>> mu = lambda z: torch.cat([z, torch.zeros_like(z)], dim=1)
    >>> sd = lambda z: torch.cat([torch.zeros_like(z), 2 * z], dim=1)
    >>> g = torch.Generator().manual_seed(0)
    >>> est = sample_metric(mu, sd, torch.ones(1, 2), 4000, g, noise="rademacher")
    >>> est.mean
    tensor([[[5., 0.],
             [0., 5.]]])
    """
    validate_callable(mean, "mean", _BATCH_MAP)
    validate_callable(std, "std", _BATCH_MAP)
    z = validate_points(z, "z")
    validate_positive_int(n_samples, "n_samples", minimum=2)
    D = validate_generator(mean, z.detach(), "mean")
    if validate_generator(std, z.detach(), "std") != D:
        raise ValueError("mean and std must return the same number of columns D.")
    if isinstance(noise, str):
        eps = draw_noise(int(n_samples), D, rng, noise, dtype=z.dtype)
    elif callable(noise):
        if not isinstance(rng, torch.Generator):
            raise TypeError("rng must be a seeded torch.Generator, got "
                            f"{type(rng).__name__}.")
        eps = noise(int(n_samples), D, rng)
        eps = validate_points(eps, "noise(...) output")
        if tuple(eps.shape) != (int(n_samples), D):
            raise ValueError(
                f"noise(N, D, rng) must return shape ({int(n_samples)}, "
                f"{D}), got {tuple(eps.shape)}."
            )
    else:
        raise TypeError("noise must be 'gaussian', 'rademacher' or a callable, "
                        f"got {type(noise).__name__}.")

    def realise(x: Tensor, e: Tensor) -> Tensor:
        return mean(x) + std(x) * e

    return monte_carlo_metric(realise, z, eps, keep_samples=keep_samples)
