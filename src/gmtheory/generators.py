"""Small seeded random generators used as test beds for latent geometry.

A randomly initialised multilayer perceptron is the simplest "decoder" whose
geometry is not known in closed form.  With ``tanh`` it is smooth
(:math:`C^\\infty`); with ``relu`` it is piecewise linear, which is the case
the chapter *The pullback metric* uses to show why smoothness matters.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

__all__ = ["random_mlp"]

_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "softplus": nn.Softplus}


def random_mlp(
    sizes: Sequence[int],
    activation: str = "tanh",
    seed: int = 0,
    dtype: torch.dtype | None = None,
) -> nn.Sequential:
    r"""A seeded multilayer perceptron :math:`\mathbb R^{d}\to\mathbb R^{D}`.

    .. math::

        f(z) = W_L\,\sigma(\cdots\sigma(W_1 z + b_1)\cdots) + b_L,

    with PyTorch's default initialisation drawn from ``torch.Generator``
    seeded with ``seed`` (the global random state is left untouched) and no
    activation after the last layer.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths ``(d, h_1, ..., D)``; at least two entries.
    activation : {"tanh", "relu", "softplus"}
        Hidden-layer non-linearity.
    seed : int
        Seed of the initialisation.
    dtype : torch.dtype, optional
        Parameter dtype; default ``torch.get_default_dtype()``.

    Returns
    -------
    torch.nn.Sequential
        Maps ``(n, d)`` to ``(n, D)``; parameters have ``requires_grad=False``.

    Raises
    ------
    ValueError
        If ``sizes`` has fewer than two entries or a non-positive width, or
        ``activation`` is unknown.

    Notes
    -----
    Used in the chapter *The pullback metric*.

    Examples
    --------
    >>> import torch
    >>> f = random_mlp([2, 8, 3], seed=1)
    >>> f(torch.zeros(4, 2)).shape
    torch.Size([4, 3])
    >>> bool((f(torch.ones(1, 2)) == random_mlp([2, 8, 3], seed=1)(torch.ones(1, 2))).all())
    True
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
    gen = torch.Generator().manual_seed(int(seed))
    layers: list[nn.Module] = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.Linear(a, b, dtype=dtype)
        bound = 1.0 / a ** 0.5
        with torch.no_grad():
            lin.weight.uniform_(-bound, bound, generator=gen)
            lin.bias.uniform_(-bound, bound, generator=gen)
        lin.requires_grad_(False)
        layers.append(lin)
        if k < len(sizes) - 2:
            layers.append(_ACTIVATIONS[activation]())
    return nn.Sequential(*layers)
