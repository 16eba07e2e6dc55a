"""The one training loop of the package: full-batch Adam ascent."""

from __future__ import annotations

from typing import Callable, Iterable

import torch
from torch import Tensor

from ._validation import check_positive_int


def adam_ascent(
    parameters: Iterable[Tensor],
    objective: Callable[[], Tensor],
    steps: int,
    lr: float,
    dtype: torch.dtype = torch.float64,
) -> Tensor:
    r"""Maximise ``objective()`` with ``steps`` full-batch Adam steps.

    Each step evaluates the scalar objective :math:`J(\theta)` (which may draw
    its own reparameterisation noise), and takes one Adam step on
    :math:`-J`.  Returns the history of :math:`J`, shape ``(steps,)``.
    """
    steps = check_positive_int(steps, "steps")
    opt = torch.optim.Adam(parameters, lr=lr)
    history = torch.empty(steps, dtype=dtype)
    for step in range(steps):
        loss = -objective()
        opt.zero_grad()
        loss.backward()
        opt.step()
        history[step] = -loss.detach()
    return history
