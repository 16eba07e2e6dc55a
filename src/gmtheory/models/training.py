"""The one training loop of the package: Adam ascent.

:class:`AdamAscent` takes one Adam step on :math:`-J` for a scalar objective
:math:`J`; :func:`adam_ascent` runs it for a fixed number of steps.  Every
trained model of the package (the VAEs, the RBF precision, the WGAN critic
and generator, which alternate two :class:`AdamAscent` steppers) goes through
:meth:`AdamAscent.step`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor

from ..validation import validate_positive_int

__all__ = ["AdamAscent", "adam_ascent"]


class AdamAscent:
    r"""A stateful Adam optimiser that *maximises* an objective, one step at a time.

    Parameters
    ----------
    parameters : iterable of Tensor
        The parameters to optimise.
    lr : float
        Adam learning rate.
    betas : tuple of float, default (0.9, 0.999)
        Adam's moment decay rates.
    project : callable, optional
        Called with no arguments after every step (e.g. to clip weights back
        into a box).

    Notes
    -----
    Keeping the optimiser between calls matters when two objectives
    alternate (a WGAN's critic and generator): each keeps its own moment
    estimates.
    """

    def __init__(self, parameters: Iterable[Tensor], lr: float,
                 betas: tuple[float, float] = (0.9, 0.999),
                 project: Callable[[], None] | None = None) -> None:
        self.optimizer = torch.optim.Adam(parameters, lr=lr, betas=betas)
        self.project = project

    def step(self, objective: Callable[[], Tensor]) -> Tensor:
        """Evaluate ``objective()``, take one Adam step on its negative, return it (detached)."""
        loss = -objective()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        if self.project is not None:
            with torch.no_grad():
                self.project()
        return -loss.detach()


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
    steps = validate_positive_int(steps, "steps")
    ascent = AdamAscent(parameters, lr)
    history = torch.empty(steps, dtype=dtype)
    for step in range(steps):
        history[step] = ascent.step(objective)
    return history
