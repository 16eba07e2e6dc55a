r"""Lipschitz critics: the neural Kantorovich potential of a Wasserstein GAN.

By Kantorovich--Rubinstein, for the cost :math:`c(x, y) = \|x - y\|`,

.. math::

    W_1(\mu, \nu) = \max_{\operatorname{Lip}(h) \le 1}
    \int h\,\dd\mu - \int h\,\dd\nu ,

and a WGAN replaces :math:`h` by a network :math:`h_\xi`.  The network is
not 1-Lipschitz by construction; three ways of holding the bound are
implemented by :class:`Critic`:

- ``"clip"``: clip every weight to :math:`[-c, c]` after each step
  (Arjovsky et al., 2017): the network is then :math:`K`-Lipschitz for some
  unknown :math:`K`;
- ``"gp"``: add the gradient penalty :func:`gradient_penalty` to the
  objective (Gulrajani et al., 2017);
- ``"sn"``: divide every weight matrix by its spectral norm, estimated by
  power iteration (Miyato et al., 2018; ``torch``'s own
  :func:`~torch.nn.utils.parametrizations.spectral_norm`).

:func:`empirical_lipschitz` measures how well the bound holds on a point set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from ..ot.cost import cost_matrix
from ..validation import validate_points, validate_positive, validate_positive_int
from .mlp import mlp

__all__ = ["CRITIC_METHODS", "Critic", "critic_value", "empirical_lipschitz",
           "gradient_penalty"]

#: the ways of holding a critic's Lipschitz bound
CRITIC_METHODS = ("none", "clip", "gp", "sn")


class Critic(nn.Module):
    r"""A multilayer perceptron critic :math:`h_\xi:\mathbb R^d\to\mathbb R`.

    Parameters
    ----------
    dim : int, default 2
        Input dimension :math:`d`.
    hidden : int, default 64
        Width of each hidden layer.
    depth : int, default 2
        Number of hidden layers.
    method : {"none", "clip", "gp", "sn"}, default "gp"
        How the Lipschitz bound is held (module docstring).  ``"gp"`` and
        ``"none"`` leave the network unconstrained; the penalty is added by
        the training objective.
    clip : float, default 0.01
        Box :math:`[-c, c]` for ``method="clip"``.
    activation : {"relu", "tanh", "softplus"}, default "relu"
    seed : int, default 0
        Seed of the initialisation (the global random state is untouched,
        except by the spectral-norm power iteration's random start).

    Raises
    ------
    ValueError
        Unknown method or activation, non-positive sizes or ``clip``.

    Notes
    -----
    Derived in :ref:`gd-lipschitz`.

    Examples
    --------
    >>> h = Critic(dim=2, hidden=8, method="sn", seed=1).double()
    >>> h(torch.zeros(5, 2, dtype=torch.float64)).shape
    torch.Size([5])
    """

    def __init__(self, dim: int = 2, hidden: int = 64, depth: int = 2,
                 method: str = "gp", clip: float = 0.01,
                 activation: str = "relu", seed: int = 0) -> None:
        super().__init__()
        if method not in CRITIC_METHODS:
            raise ValueError(f"method must be one of {CRITIC_METHODS}, got {method!r}.")
        dim = validate_positive_int(dim, "dim")
        hidden = validate_positive_int(hidden, "hidden")
        depth = validate_positive_int(depth, "depth")
        self.method = method
        self.clip = validate_positive(clip, "clip")
        self.dim = dim
        self.net = mlp([dim] + [hidden] * depth + [1], activation, seed=seed)
        if method == "sn":
            for i, layer in enumerate(self.net):
                if isinstance(layer, nn.Linear):
                    self.net[i] = spectral_norm(layer)
        if method == "clip":
            self.project()

    def forward(self, x: Tensor) -> Tensor:
        """Critic values, ``(n, d) -> (n,)``."""
        return self.net(x)[:, 0]

    @torch.no_grad()
    def project(self) -> None:
        """Clip every parameter to ``[-clip, clip]`` (only for ``method="clip"``)."""
        if self.method == "clip":
            for p in self.parameters():
                p.clamp_(-self.clip, self.clip)


def critic_value(critic: Callable[[Tensor], Tensor], x: Any, y: Any) -> Tensor:
    r"""The critic objective :math:`\frac1n\sum_i h(x_i) - \frac1m\sum_j h(y_j)`.

    The book's sign convention: the model's samples :math:`x_i` come first,
    the data :math:`y_j` second, so that for a 1-Lipschitz :math:`h` this is a
    lower bound on :math:`W_1(\mu, \nu)` and the generator *minimises* it.

    Parameters
    ----------
    critic : callable
        ``(n, d) -> (n,)``.
    x : Tensor, shape (n, d)
        Samples of the model :math:`\mu`.
    y : Tensor, shape (m, d)
        Samples of the data :math:`\nu`.

    Returns
    -------
    Tensor, scalar

    Raises
    ------
    ValueError
        Points of the wrong shape or not finite.

    Notes
    -----
    Derived in :ref:`gd-objective`.

    Examples
    --------
    >>> h = lambda t: t[:, 0]
    >>> float(critic_value(h, torch.ones(3, 2), torch.zeros(2, 2)))
    1.0
    """
    X = validate_points(x, "x")
    Y = validate_points(y, "y", dim=X.shape[1])
    return critic(X).mean() - critic(Y).mean()


def gradient_penalty(critic: Callable[[Tensor], Tensor], x: Any, y: Any,
                     t: Any = None, rng: torch.Generator | None = None) -> Tensor:
    r"""The WGAN-GP penalty :math:`\frac1n\sum_i (\|\nabla h(\hat x_i)\| - 1)^2`.

    .. math::

        \hat x_i = t_i x_i + (1 - t_i) y_i, \qquad t_i \sim U[0, 1],

    the points on the segments between paired samples, where an optimal
    critic has gradient norm one (Gulrajani et al., 2017, proposition 1).

    Parameters
    ----------
    critic : callable
        ``(n, d) -> (n,)``, differentiable.
    x, y : Tensor, shape (n, d)
        Paired samples of the model and of the data.
    t : Tensor, shape (n,), optional
        Interpolation weights; drawn uniformly with ``rng`` if omitted.
    rng : torch.Generator, optional
        Random source for ``t``.

    Returns
    -------
    Tensor, scalar
        Differentiable with respect to the critic's parameters.

    Raises
    ------
    ValueError
        ``x`` and ``y`` of different shapes, non-finite, or ``t`` not of
        shape ``(n,)``.

    Notes
    -----
    Derived in :ref:`gd-lipschitz`.

    References
    ----------
    Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville (2017), *Improved
    training of Wasserstein GANs*, NeurIPS.

    Examples
    --------
    >>> w = torch.tensor([3.0, 4.0])
    >>> h = lambda p: p @ w
    >>> float(gradient_penalty(h, torch.zeros(4, 2), torch.ones(4, 2)))
    16.0
    """
    X = validate_points(x, "x")
    Y = validate_points(y, "y", dim=X.shape[1])
    if X.shape != Y.shape:
        raise ValueError(
            f"x and y must be paired samples of the same shape, got "
            f"{tuple(X.shape)} and {tuple(Y.shape)}."
        )
    if t is None:
        t = torch.rand(X.shape[0], generator=rng, dtype=X.dtype)
    t = torch.as_tensor(t, dtype=X.dtype)
    if t.shape != (X.shape[0],):
        raise ValueError(f"t must have shape ({X.shape[0]},), got {tuple(t.shape)}.")
    xh = (t[:, None] * X + (1 - t[:, None]) * Y).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(xh).sum(), xh, create_graph=True)
    return ((grad.norm(dim=1) - 1.0) ** 2).mean()


def empirical_lipschitz(values: Any, points: Any) -> float:
    r"""The Lipschitz constant of a critic measured on a point set.

    .. math::

        L_S = \max_{i \ne j,\ x_i \ne x_j}
        \frac{|h(x_i) - h(x_j)|}{\|x_i - x_j\|} .

    :math:`h / L_S` is 1-Lipschitz on the set, so by weak duality
    :math:`(\int h\,\dd\mu - \int h\,\dd\nu) / L_S \le W_1(\mu, \nu)` for any
    :math:`\mu, \nu` supported on it.

    Parameters
    ----------
    values : Tensor or array_like, shape (n,)
        Critic values :math:`h(x_i)`.
    points : Tensor or array_like, shape (n, d)
        The points :math:`x_i` (at least two distinct).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Shapes that do not match, non-finite input, or fewer than two
        distinct points.

    Notes
    -----
    Pairs of identical points are skipped; the distances are
    :func:`gmtheory.ot.cost_matrix` with ``p=1``. Derived in
    :ref:`gd-objective` (the proposition that a critic's value bounds
    :math:`W_1` from below) and used in :ref:`gd-lipschitz`.

    Examples
    --------
    >>> pts = torch.tensor([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0]])
    >>> empirical_lipschitz(pts @ torch.tensor([3.0, 4.0]), pts)
    5.0
    """
    P = validate_points(points, "points").detach().to(torch.float64)
    h = torch.as_tensor(values).detach().to(torch.float64)
    if h.shape != (P.shape[0],):
        raise ValueError(
            f"values must have shape ({P.shape[0]},), one per point, got "
            f"{tuple(h.shape)}."
        )
    if not bool(torch.isfinite(h).all()):
        raise ValueError("values contains NaN or infinite entries.")
    dist = cost_matrix(P, P, p=1)
    mask = dist > 0
    if not bool(mask.any()):
        raise ValueError("points must contain at least two distinct points.")
    diff = (h[:, None] - h[None, :]).abs()
    return float((diff[mask] / dist[mask]).max())
