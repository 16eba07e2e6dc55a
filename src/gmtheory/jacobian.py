"""Batched Jacobians of generators with :mod:`torch.func` (forward mode).

A generator is any callable -- an :class:`torch.nn.Module` or a plain
function -- that maps a batch of latent codes of shape ``(n, d)`` to a batch
of data points of shape ``(n, D)``.  Its Jacobian at every point of the batch
is computed with ``vmap(jacfwd(f))``: forward mode costs about ``d`` forward
passes, which is cheap because latent spaces are low-dimensional.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor
from torch.func import jacfwd, vmap

from ._validation import check_points, check_positive

__all__ = ["Generator", "check_generator", "finite_difference_jacobian", "jacobian"]

Generator = Callable[[Tensor], Tensor]


def _check_callable(f: object, name: str,
                    what: str = "an nn.Module or a function") -> None:
    """Raise ``TypeError`` unless ``f`` is callable; ``what`` says what it should be."""
    if not callable(f):
        raise TypeError(f"{name} must be callable ({what}), got {type(f).__name__}.")


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
    _check_callable(f, name)
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
    return _vmap_jacobian(f, z)


def _single_point(f: Callable[..., Any]) -> Callable[..., Any]:
    """The batch map ``f`` as a map of one point: ``x -> f(x[None], *args)[0]``.

    ``f`` takes a batch ``(n, d)`` (and optionally further arguments, passed
    through unchanged) and returns a tensor or a tuple of tensors with a
    leading batch axis, which is removed.  The result is the single-point
    function that ``jacfwd`` differentiates and ``vmap`` maps over a batch.
    """

    def single(x: Tensor, *args: Any) -> Any:
        out = f(x.unsqueeze(0), *args)
        if isinstance(out, tuple):
            return tuple(o.squeeze(0) for o in out)
        return out.squeeze(0)

    return single


def _vmap_jacobian(f: Generator, z: Tensor, name: str = "f") -> Tensor:
    """``vmap(jacfwd(f))`` on validated points, without any validation.

    Safe to call inside ``torch.func`` transforms (no data-dependent Python
    control flow).  A generator that torch.func cannot trace (``.item()``,
    ``.numpy()``, branches on tensor values) raises a :class:`TypeError`.
    """
    try:
        return vmap(jacfwd(_single_point(f)))(z)
    except RuntimeError as err:  # data-dependent control flow, .numpy(), ...
        raise TypeError(
            f"{name} could not be differentiated with torch.func (forward "
            f"mode): {err}. Write {name} with differentiable torch "
            "operations, without .item(), .numpy() or Python branches on "
            "tensor values."
        ) from err


def finite_difference_jacobian(f: Generator, z: Tensor, eps: float = 1e-5) -> Tensor:
    r"""Jacobian by central finite differences: an independent check of :func:`jacobian`.

    .. math::

        J_{:,k}(z) \approx \frac{f(z + \varepsilon e_k) - f(z - \varepsilon e_k)}
        {2\varepsilon}, \qquad \text{error } O(\varepsilon^2).

    Costs ``2 d`` batched forward passes and needs no automatic
    differentiation, so it also works for generators that torch.func
    cannot trace.

    Parameters
    ----------
    f : callable
        Generator mapping ``(n, d)`` to ``(n, D)``.
    z : Tensor, shape (n, d)
    eps : float
        Step; ``1e-5`` balances truncation and rounding error in float64.

    Returns
    -------
    Tensor, shape (n, D, d)

    Raises
    ------
    TypeError, ValueError
        As :func:`jacobian`, and ``ValueError`` for a non-positive ``eps``.

    Notes
    -----
    Used in the chapter *The pullback metric*.

    Examples
    --------
    >>> import torch
    >>> f = lambda z: torch.stack([z[:, 0] * z[:, 1], z[:, 1] ** 2], dim=1)
    >>> J = finite_difference_jacobian(f, torch.tensor([[2.0, 3.0]], dtype=torch.float64))
    >>> torch.allclose(J, torch.tensor([[[3.0, 2.0], [0.0, 6.0]]], dtype=torch.float64))
    True
    """
    z = check_points(z, "z")
    eps = check_positive(eps, "eps")
    check_generator(f, z)
    n, d = z.shape
    steps = eps * torch.eye(d, dtype=z.dtype)
    plus = (z[:, None, :] + steps).reshape(n * d, d)
    minus = (z[:, None, :] - steps).reshape(n * d, d)
    with torch.no_grad():
        diff = f(plus) - f(minus)
    if not isinstance(diff, Tensor):
        raise TypeError(f"f must return a torch.Tensor, got {type(diff).__name__}.")
    return (diff / (2 * eps)).reshape(n, d, -1).transpose(1, 2)
