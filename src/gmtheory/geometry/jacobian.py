"""Batched Jacobians of generators with :mod:`torch.func` (forward mode).

A generator is any callable -- an :class:`torch.nn.Module` or a plain
function -- that maps a batch of latent codes of shape ``(n, d)`` to a batch
of data points of shape ``(n, D)``.  Its Jacobian at every point of the batch
is computed with ``vmap(jacfwd(f))``: forward mode costs about ``d`` forward
passes, which is cheap because latent spaces are low-dimensional.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor
from torch.func import jacfwd, vmap

from ..validation import validate_points, validate_positive

__all__ = ["Generator", "validate_generator", "validate_output", "finite_difference_jacobian",
           "jacobian"]

Generator = Callable[[Tensor], Tensor]


def validate_callable(f: object, name: str,
                    what: str = "an nn.Module or a function") -> None:
    """Raise ``TypeError`` unless ``f`` is callable; ``what`` says what it should be."""
    if not callable(f):
        raise TypeError(f"{name} must be callable ({what}), got {type(f).__name__}.")


def validate_module_dtype(f: object, z: Tensor, name: str) -> None:
    """Raise ``TypeError`` if ``f`` is a module whose parameters have
    another floating dtype than the points ``z``."""
    if not isinstance(f, torch.nn.Module):
        return
    dtypes = {t.dtype for t in list(f.parameters()) + list(f.buffers())
              if torch.is_floating_point(t)}
    if dtypes and z.dtype not in dtypes:  # mixed modules: let them run
        have = ", ".join(sorted(str(d) for d in dtypes))
        cast = ".double()" if z.dtype == torch.float64 else ".float()"
        raise TypeError(
            f"{name} has {have} parameters but the points have dtype "
            f"{z.dtype}; convert one to the other, e.g. {name}{cast} (or "
            f"pass points of dtype {have})."
        )


def call_checked(f: Generator, x: Tensor, name: str) -> Any:
    """``f(x)``; an error of torch inside ``f`` is reported by name, with the
    shape and dtype of the points (a dimension or dtype mismatch)."""
    try:
        return f(x)
    except RuntimeError as err:
        if "dtype" in str(err) or "scalar type" in str(err):
            raise TypeError(
                f"{name} failed on points of dtype {x.dtype} ({err}); it "
                "probably computes in another dtype: pass points of that "
                f"dtype or convert {name} to {x.dtype}."
            ) from err
        raise ValueError(
            f"{name} failed on points of shape {tuple(x.shape)} ({err}); check "
            f"that the points have the dimension d that {name} expects."
        ) from err


def validate_output(out: Any, x: Tensor, name: str) -> Tensor:
    """Check that ``out = f(x)`` is a finite ``(n, D)`` tensor for ``x`` (n, d).

    Raises
    ------
    TypeError
        If ``out`` is not a tensor.
    ValueError
        If it has the wrong shape or non-finite entries (the message gives
        the first offending point).
    """
    if not isinstance(out, Tensor):
        raise TypeError(
            f"{name} must return a torch.Tensor of shape (n, D); it returned "
            f"{type(out).__name__}. Write it with torch operations so that it "
            "can be differentiated."
        )
    if out.ndim != 2 or out.shape[0] != x.shape[0]:
        raise ValueError(
            f"{name} must map a batch (n, d) to a batch (n, D); on input of "
            f"shape {tuple(x.shape)} it returned shape {tuple(out.shape)}."
        )
    bad = ~torch.isfinite(out.detach()).all(dim=1)
    if bool(bad.any()):
        first = int(bad.nonzero()[0, 0])
        raise ValueError(
            f"{name} returned NaN or infinite values at {int(bad.sum())} of "
            f"{x.shape[0]} points, the first at {x[first].tolist()}."
        )
    return out


def validate_generator(f: Generator, z: Tensor, name: str = "f") -> int:
    """Call ``f`` on ``z`` and check it returns a finite ``(n, D)`` tensor.

    Returns
    -------
    int
        The data dimension ``D``.

    Raises
    ------
    TypeError
        If ``f`` is not callable, does not return a tensor, or is a module
        whose parameters have another dtype than ``z``.
    ValueError
        If the output has the wrong shape or non-finite entries.
    """
    validate_callable(f, name)
    validate_module_dtype(f, z, name)
    with torch.no_grad():
        out = call_checked(f, z[:1], name)
    return int(validate_output(out, z[:1], name).shape[1])


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
    Derived in :ref:`pb-taylor`.

    Examples
    --------
    >>> import torch
    >>> f = lambda z: torch.stack([z[:, 0], z[:, 1], z[:, 0] * z[:, 1]], dim=1)
    >>> jacobian(f, torch.tensor([[2.0, 3.0]]))
    tensor([[[1., 0.],
             [0., 1.],
             [3., 2.]]])
    """
    z = validate_points(z, "z")
    validate_generator(f, z)
    return vmap_jacobian(f, z)


def single_point(f: Callable[..., Any]) -> Callable[..., Any]:
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


def vmap_jacobian(f: Generator, z: Tensor, name: str = "f") -> Tensor:
    """``vmap(jacfwd(f))`` on validated points, without any validation.

    Safe to call inside ``torch.func`` transforms (no data-dependent Python
    control flow).  A generator that torch.func cannot trace (``.item()``,
    ``.numpy()``, branches on tensor values) raises a :class:`TypeError`.
    """
    try:
        return vmap(jacfwd(single_point(f)))(z)
    except RuntimeError as err:  # data-dependent control flow, .numpy(), ...
        raise TypeError(
            f"{name} could not be differentiated with torch.func (forward "
            f"mode): {err}. Write {name} with differentiable torch "
            "operations, without .item(), .numpy() or Python branches on "
            "tensor values."
        ) from err


def finite_difference_jacobian(f: Generator, z: Tensor,
                               eps: float | None = None) -> Tensor:
    r"""Jacobian by central finite differences: an independent check of :func:`jacobian`.

    .. math::

        J_{:,k}(z) \approx \frac{f(z + h_k e_k) - f(z - h_k e_k)}{2 h_k},
        \qquad h_k = \varepsilon \max(1, |z_k|),
        \qquad \text{error } O(h_k^2) + O(u / h_k),

    with :math:`u` the unit roundoff of ``z``'s dtype; the default
    :math:`\varepsilon = u^{1/3}` balances the two errors (about
    :math:`6\cdot 10^{-6}` in float64, :math:`5\cdot 10^{-3}` in float32).
    The divisor is the step actually taken, :math:`(z_k + h_k) - (z_k - h_k)`
    in floating point, not :math:`2h_k`.

    Costs ``2 d`` batched forward passes and needs no automatic
    differentiation, so it also works for generators that torch.func
    cannot trace.

    Parameters
    ----------
    f : callable
        Generator mapping ``(n, d)`` to ``(n, D)``.
    z : Tensor, shape (n, d)
    eps : float, optional
        Relative step :math:`\varepsilon`; default the cube root of the
        machine epsilon of ``z.dtype``, which follows the precision.

    Returns
    -------
    Tensor, shape (n, D, d)

    Raises
    ------
    TypeError, ValueError
        As :func:`jacobian`, and ``ValueError`` for a non-positive ``eps``.

    Notes
    -----
    The independent check of :func:`jacobian` in :ref:`pb-taylor` and
    :ref:`vp-geometry`.

    Examples
    --------
    >>> import torch
    >>> f = lambda z: torch.stack([z[:, 0] * z[:, 1], z[:, 1] ** 2], dim=1)
    >>> J = finite_difference_jacobian(f, torch.tensor([[2.0, 3.0]], dtype=torch.float64))
    >>> torch.allclose(J, torch.tensor([[[3.0, 2.0], [0.0, 6.0]]], dtype=torch.float64))
    True
    """
    z = validate_points(z, "z")
    if eps is None:
        eps = float(torch.finfo(z.dtype).eps) ** (1.0 / 3.0)
    eps = validate_positive(eps, "eps")
    validate_generator(f, z)
    n, d = z.shape
    h = eps * z.detach().abs().clamp_min(1.0)                 # (n, d)
    steps = torch.diag_embed(h)                               # (n, d, d)
    plus = (z[:, None, :] + steps).reshape(n * d, d)
    minus = (z[:, None, :] - steps).reshape(n * d, d)
    taken = (plus - minus).reshape(n, d, d).diagonal(dim1=1, dim2=2)
    with torch.no_grad():
        f_plus = validate_output(call_checked(f, plus, "f"), plus, "f")
        f_minus = validate_output(call_checked(f, minus, "f"), minus, "f")
    diff = (f_plus - f_minus).reshape(n, d, -1)
    return (diff / taken[:, :, None]).transpose(1, 2)
