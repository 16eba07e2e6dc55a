"""The one multilayer-perceptron builder of the package.

:func:`mlp` builds every network in :mod:`gmtheory`: the encoders and
decoders of the VAEs and the WAE (trainable, PyTorch's default
initialisation), the critics and GAN generators (trainable, seeded), and
:func:`random_mlp`, the frozen seeded test beds of Part I.  A randomly
initialised perceptron is the simplest decoder whose geometry is not known in
closed form.  With ``tanh`` it is smooth (:math:`C^\\infty`); with ``relu`` it
is piecewise linear, which is the case :ref:`pb-relu` uses
to show why smoothness matters.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import nn

__all__ = ["mlp", "random_mlp"]

_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "softplus": nn.Softplus}


def random_mlp(
    sizes: Sequence[int],
    activation: str = "tanh",
    seed: int = 0,
    dtype: torch.dtype | None = None,
) -> nn.Sequential:
    r"""A frozen, seeded perceptron :math:`\mathbb R^{d}\to\mathbb R^{D}`: a test bed.

    :func:`mlp` with ``seed`` and ``requires_grad=False`` on every parameter:
    weights and biases uniform on :math:`\pm 1/\sqrt{\text{fan-in}}` from a
    ``torch.Generator`` seeded with ``seed``.  The values do not depend on
    the global random state, but building the layers draws from it (as
    ``torch.nn.Linear`` always does), so it advances.

    Parameters
    ----------
    sizes, activation, dtype
        As in :func:`mlp`.
    seed : int
        Seed of the initialisation.

    Returns
    -------
    torch.nn.Sequential
        Maps ``(n, d)`` to ``(n, D)``; parameters have ``requires_grad=False``.

    Raises
    ------
    ValueError
        As :func:`mlp`.

    Notes
    -----
    Used in :ref:`pb-relu` and :ref:`sg-energy-length`.

    Examples
    --------
    >>> import torch
    >>> f = random_mlp([2, 8, 3], seed=1)
    >>> f(torch.zeros(4, 2)).shape
    torch.Size([4, 3])
    >>> bool((f(torch.ones(1, 2)) == random_mlp([2, 8, 3], seed=1)(torch.ones(1, 2))).all())
    True
    """
    return mlp(sizes, activation, seed=seed, dtype=dtype).requires_grad_(False)


def mlp(
    sizes: Sequence[int],
    activation: str = "tanh",
    *,
    seed: int | None = None,
    dtype: torch.dtype | None = None,
) -> nn.Sequential:
    r"""A trainable multilayer perceptron, seeded or from the global RNG.

    .. math::

        f(z) = W_L\,\sigma(\cdots\sigma(W_1 z + b_1)\cdots) + b_L .

    Parameters
    ----------
    sizes : sequence of int
        Layer widths ``(d, h_1, ..., D)``; at least two entries.
    activation : {"tanh", "relu", "softplus"}
        Hidden-layer non-linearity; none after the last layer.
    seed : int, optional
        If given, weights and biases are redrawn uniformly on
        :math:`\pm 1/\sqrt{\text{fan-in}}` from a ``torch.Generator`` seeded
        with it; if ``None``, PyTorch's default initialisation (global RNG).
    dtype : torch.dtype, optional
        Parameter dtype; default ``torch.get_default_dtype()``.

    Returns
    -------
    torch.nn.Sequential
        Maps ``(n, d)`` to ``(n, D)``.

    Raises
    ------
    ValueError
        If ``sizes`` has fewer than two entries or a non-positive width, or
        ``activation`` is unknown.

    Notes
    -----
    Builds the digits VAE of :ref:`lv-vae`, the critics and generators of
    :ref:`gd-wgan` and the random test generators of :ref:`pb-relu`.

    Examples
    --------
    >>> net = mlp([3, 5, 2], "relu", seed=0)
    >>> net(torch.zeros(4, 3)).shape, net[0].weight.requires_grad
    (torch.Size([4, 2]), True)
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(
            "sizes must list at least two positive layer widths (d, ..., D), "
            f"got {sizes!r}."
        )
    if activation not in _ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}."
        )
    dtype = dtype or torch.get_default_dtype()
    gen = None if seed is None else torch.Generator().manual_seed(int(seed))
    layers: list[nn.Module] = []
    for k, (a, b) in enumerate(pairwise(sizes)):
        lin = nn.Linear(a, b, dtype=dtype)
        bound = 1.0 / a ** 0.5
        if gen is not None:
            with torch.no_grad():
                lin.weight.uniform_(-bound, bound, generator=gen)
                lin.bias.uniform_(-bound, bound, generator=gen)
        layers.append(lin)
        if k < len(sizes) - 2:
            layers.append(_ACTIVATIONS[activation]())
    return nn.Sequential(*layers)
