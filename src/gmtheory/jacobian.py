"""Batched Jacobians of generators with :mod:`torch.func` (forward mode).

A generator is any callable -- an :class:`torch.nn.Module` or a plain
function -- that maps a batch of latent codes of shape ``(n, d)`` to a batch
of data points of shape ``(n, D)``.  Its Jacobian at every point of the batch
is computed with ``vmap(jacfwd(f))``: forward mode costs about ``d`` forward
passes, which is cheap because latent spaces are low-dimensional.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor
from torch.func import jacfwd, vmap

from ._validation import check_points

__all__ = ["Generator", "check_generator", "jacobian"]

Generator = Callable[[Tensor], Tensor]


def check_generator(f: Generator, z: Tensor, name: str = "f") -> int:
    """Call ``f`` on ``z`` and check it returns a finite ``(n, D)`` tensor.

    Returns
    -------
    int
        The data dimension ``D``.

    Raises
    ------
    TypeError
        If ``f`` is not callable or does not return a tensor.
    ValueError
        If the output has the wrong shape or non-finite entries.
    """
    if not callable(f):
        raise TypeError(f"{name} must be callable (an nn.Module or a function), "
                        f"got {type(f).__name__}.")
    with torch.no_grad():
        out = f(z[:1])
    if not isinstance(out, Tensor):
        raise TypeError(
            f"{name} must return a torch.Tensor of shape (n, D); it returned "
            f"{type(out).__name__}. Write it with torch operations so that it "
            "can be differentiated."
        )
    if out.ndim != 2 or out.shape[0] != 1:
        raise ValueError(
            f"{name} must map a batch (n, d) to a batch (n, D); on input of "
            f"shape {tuple(z[:1].shape)} it returned shape {tuple(out.shape)}."
        )
    if not bool(torch.isfinite(out).all()):
        raise ValueError(f"{name} returned NaN or infinite values at {z[:1].tolist()}.")
    return int(out.shape[1])


def jacobian(f: Generator, z: Tensor) -> Tensor:
    r"""Jacobian of a generator at a batch of points.

    .. math::

        J(z_i) = \frac{\partial f}{\partial z}(z_i) \in \mathbb R^{D\times d},
        \qquad i = 1,\dots,n .

    Parameters
    ----------
    f : callable
        Generator mapping a tensor of shape ``(n, d)`` to ``(n, D)``; it must
        treat the rows of its input independently (no batch statistics).
    z : Tensor, shape (n, d)
        Points at which to differentiate.

    Returns
    -------
    Tensor, shape (n, D, d)

    Raises
    ------
    TypeError
        If ``f`` is not a differentiable torch callable.
    ValueError
        If ``z`` is not a finite ``(n, d)`` floating tensor or ``f`` returns the
        wrong shape.

    Notes
    -----
    Derived in the chapter *The pullback metric*.

    Examples
    --------
    >>> import torch
    >>> f = lambda z: torch.stack([z[:, 0], z[:, 1], z[:, 0] * z[:, 1]], dim=1)
    >>> jacobian(f, torch.tensor([[2.0, 3.0]]))
    tensor([[[1., 0.],
             [0., 1.],
             [3., 2.]]])
    """
    z = check_points(z, "z")
    check_generator(f, z)

    def single(x: Tensor) -> Tensor:
        return f(x.unsqueeze(0)).squeeze(0)

    try:
        return vmap(jacfwd(single))(z)
    except RuntimeError as err:  # data-dependent control flow, .numpy(), ...
        raise TypeError(
            "f could not be differentiated with torch.func (forward mode): "
            f"{err}. Write f with differentiable torch operations, without "
            ".item(), .numpy() or Python branches on tensor values."
        ) from err
