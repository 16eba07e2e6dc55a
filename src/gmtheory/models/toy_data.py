r"""Two-dimensional toy data for GAN experiments."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..validation import validate_positive, validate_positive_int

__all__ = ["eight_gaussians"]


def eight_gaussians(n: int, seed: int = 0, radius: float = 2.0,
                    std: float = 0.1) -> Tensor:
    r"""``n`` samples of a mixture of eight Gaussians on a circle.

    .. math::

        \nu = \frac18 \sum_{k=0}^{7} \mathcal N\big(r(\cos\tfrac{k\pi}{4},
        \sin\tfrac{k\pi}{4}),\ s^2 I_2\big)

    (the standard WGAN-GP toy set); component ``k`` is drawn ``n // 8`` or
    ``n // 8 + 1`` times, deterministically, so the mixture weights are
    exact up to one sample.

    Parameters
    ----------
    n : int
        Number of samples.
    seed : int, default 0
    radius : float, default 2
        :math:`r`.
    std : float, default 0.1
        :math:`s`.

    Returns
    -------
    Tensor, shape (n, 2), float64

    Raises
    ------
    ValueError
        Non-positive ``n``, ``radius`` or ``std``.

    Notes
    -----
    Used in :ref:`gd-wgan`.

    Examples
    --------
    >>> eight_gaussians(16).shape
    torch.Size([16, 2])
    """
    n = validate_positive_int(n, "n", allow_bool=False)
    radius = validate_positive(radius, "radius")
    std = validate_positive(std, "std")
    gen = torch.Generator().manual_seed(seed)
    k = torch.arange(n) % 8
    angle = k.to(torch.float64) * (math.pi / 4)
    centres = radius * torch.stack([angle.cos(), angle.sin()], dim=1)
    noise = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    return centres + std * noise
