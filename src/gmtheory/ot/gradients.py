r"""Envelope-theorem gradients of a minimum-Kantorovich objective.

For a generator :math:`g_\theta` and samples :math:`z_i` (weights :math:`a_i`),
the objective :math:`E(\theta) = W_c\big(\sum_i a_i\delta_{g_\theta(z_i)},
\sum_j b_j\delta_{y_j}\big)` is a minimum over a feasible set that does not
depend on :math:`\theta`. By the envelope (Danskin) theorem its gradient, where
it exists, is the derivative of the cost at a fixed optimal plan
:math:`\pi^\star` (the *primal* formula),

.. math:: \nabla E(\theta) = \sum_{ij} \pi^\star_{ij}\,
          \partial_\theta\, c\big(g_\theta(z_i), y_j\big),

or, through an optimal potential :math:`h^\star = (\tilde h^\star)^{\bar c}`,
the *dual* formula
:math:`\nabla E(\theta) = \sum_i a_i\,[\partial_\theta g_\theta(z_i)]^\top
\nabla h^\star(g_\theta(z_i))`, valid only where :math:`h^\star` is
differentiable at the generated points.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ..validation import validate_finite, validate_points
from .backend import to_tensor, uniform
from .cost import cost_matrix
from .ctransform import cbar_transform
from .inputs import validate_potential, validate_weights

__all__ = ["primal_gradient", "dual_gradient", "envelope_gradient"]


def _generate(theta: Any, generator: Callable, z: Any) -> tuple[Tensor, Tensor]:
    if not isinstance(theta, Tensor) or not torch.is_floating_point(theta):
        raise TypeError(
            "theta must be a floating-point torch.Tensor (the parameters to "
            f"differentiate), got {type(theta).__name__}."
        )
    th = theta.detach().clone().requires_grad_(True)
    x = generator(th, to_tensor(z))
    if not isinstance(x, Tensor) or x.ndim != 2:
        raise ValueError(
            "generator(theta, z) must return a (n, k) tensor of generated points, "
            f"got {getattr(x, 'shape', type(x).__name__)}."
        )
    validate_finite(x.detach(), "the output of generator(theta, z)")
    return th, x


def primal_gradient(theta: Tensor, generator: Callable[[Tensor, Tensor], Tensor],
                    z: Any, y: Any, plan: Any, p: float = 2.0) -> Tensor:
    r"""Primal envelope gradient :math:`\sum_{ij}\pi^\star_{ij}\,\partial_\theta c(g_\theta(z_i), y_j)`.

    Parameters
    ----------
    theta : Tensor, shape (q,) or any
        Parameters at which to differentiate (not modified).
    generator : callable
        ``generator(theta, z)`` returns the generated points, a tensor (n, k).
    z : array_like or Tensor, shape (n, d)
        Latent samples.
    y : array_like or Tensor, shape (m, k)
        Data points.
    plan : array_like, shape (n, m)
        An optimal plan at ``theta`` (e.g. ``exact_ot(a, b, C).plan``).
    p : float, default 2
        Cost :math:`c(x, y) = \|x - y\|^p`.

    Returns
    -------
    Tensor, same shape as ``theta``

    Raises
    ------
    TypeError
        If ``theta`` is not a floating tensor.
    ValueError
        If shapes do not match.

    See Also
    --------
    dual_gradient : the same gradient through an optimal potential.
    envelope_gradient : solves for the plan, then calls this function.

    Notes
    -----
    Equals :math:`\nabla E(\theta)` when the optimal plan is unique and
    :math:`c` is :math:`C^1`; otherwise it is the derivative along the fixed
    plan, which need not be a derivative of :math:`E` (Danskin's theorem
    takes the minimum over all optimal plans, direction by direction).
    Derived in :ref:`du-envelope`.

    References
    ----------
    :cite:t:`bonnans2000perturbation` (Danskin's theorem);
    :cite:t:`genevay2017gan`.

    Examples
    --------
    >>> gen = lambda th, z: z + th
    >>> z, y = torch.zeros(1, 1), torch.ones(1, 1)
    >>> primal_gradient(torch.zeros(1), gen, z, y, [[1.0]])
    tensor([-2.])
    """
    th, x = _generate(theta, generator, z)
    Y = validate_points(to_tensor(y), "y", dim=x.shape[1])
    P = to_tensor(plan).detach()
    if P.shape != (x.shape[0], Y.shape[0]):
        raise ValueError(
            f"plan must have shape (n, m) = ({x.shape[0]}, {Y.shape[0]}), got "
            f"{tuple(P.shape)}."
        )
    if bool((validate_finite(P, "plan") < 0).any()):
        raise ValueError(
            f"plan must be non-negative (a coupling); its smallest entry is "
            f"{float(P.min()):.3g}."
        )
    value = (P * cost_matrix(x, Y.to(x.dtype), p)).sum()
    (grad,) = torch.autograd.grad(value, th)
    return grad


def dual_gradient(theta: Tensor, generator: Callable[[Tensor, Tensor], Tensor],
                  z: Any, y: Any, g: Any, a: Any = None, p: float = 2.0) -> Tensor:
    r"""Dual envelope gradient :math:`\sum_i a_i [\partial_\theta g_\theta(z_i)]^\top \nabla h(g_\theta(z_i))`.

    The potential is :math:`h = g^{\bar c}`, :math:`h(x) = \min_j [c(x, y_j) - g_j]`,
    and :math:`\nabla h(x) = \nabla_x c(x, y_{j^\star(x)})` with a single
    minimising index :math:`j^\star(x)` (the first, in case of ties).

    Parameters
    ----------
    theta : Tensor
    generator : callable
        ``generator(theta, z)`` -> Tensor (n, k).
    z : array_like or Tensor, shape (n, d)
    y : array_like or Tensor, shape (m, k)
    g : array_like, shape (m,)
        Optimal dual vector on the data points.
    a : array_like, shape (n,), optional
        Weights of the samples (default uniform).
    p : float, default 2

    Returns
    -------
    Tensor, same shape as ``theta``

    Raises
    ------
    TypeError, ValueError
        As :func:`primal_gradient`.

    See Also
    --------
    primal_gradient : the same gradient through an optimal plan.
    cbar_transform : the potential :math:`h = g^{\bar c}`.

    Notes
    -----
    Correct when :math:`h` is differentiable at :math:`\zeta`-almost every
    generated point, as in the semi-discrete case (a density against finitely
    many atoms). In a fully discrete problem the optimal :math:`h` has kinks
    exactly at the generated points whose mass is split between several
    targets, and this formula is then wrong. The potential is computed by
    :func:`cbar_transform` on :func:`cost_matrix`. Derived in
    :ref:`du-envelope`.

    References
    ----------
    :cite:t:`bonnans2000perturbation` (Danskin's theorem);
    :cite:t:`genevay2016stochastic` (the semi-discrete setting).

    Examples
    --------
    >>> gen = lambda th, z: z + th
    >>> z, y = torch.zeros(1, 1), torch.ones(1, 1)
    >>> dual_gradient(torch.zeros(1), gen, z, y, [0.0])
    tensor([-2.])
    """
    th, x = _generate(theta, generator, z)
    Y = validate_points(to_tensor(y), "y", dim=x.shape[1])
    gv = torch.as_tensor(validate_potential(g, "g", Y.shape[0], "the data y"))
    aw = uniform(x.shape[0]) if a is None else validate_weights(a, "a", x.shape[0])
    h = cbar_transform(gv, cost_matrix(x, Y.to(x.dtype), p))
    (grad,) = torch.autograd.grad((to_tensor(aw) * h).sum(), th)
    return grad


def envelope_gradient(theta: Tensor, generator: Callable[[Tensor, Tensor], Tensor],
                      z: Any, y: Any, a: Any = None, b: Any = None,
                      p: float = 2.0) -> tuple[float, Tensor, Any]:
    r"""Exact value :math:`E(\theta)` and its primal envelope gradient.

    Solves the discrete problem with :func:`gmtheory.ot.exact_ot` at
    ``theta`` and applies :func:`primal_gradient` to its plan.

    Parameters
    ----------
    theta, generator, z, y, p
        As :func:`primal_gradient`.
    a, b : array_like, optional
        Weights of the generated and data points (default uniform).

    Returns
    -------
    value : float
    gradient : Tensor, same shape as ``theta``
    solution : ExactOTResult
        Plan and potentials at ``theta``.

    Raises
    ------
    TypeError, ValueError
        As :func:`primal_gradient` and :func:`gmtheory.ot.exact_ot`.

    See Also
    --------
    primal_gradient, exact_ot

    Notes
    -----
    The discrete problem is solved on detached values, so ``solution``
    holds NumPy arrays. Derived in :ref:`du-envelope`.

    References
    ----------
    :cite:t:`bonnans2000perturbation` (Danskin's theorem).

    Examples
    --------
    >>> gen = lambda th, z: z + th
    >>> z, y = torch.tensor([[0.0], [1.0]]), torch.tensor([[0.5], [2.0]])
    >>> value, grad, _ = envelope_gradient(torch.zeros(1), gen, z, y)
    >>> round(value, 6), grad
    (0.625, tensor([-1.5000]))
    """
    from .exact import exact_ot

    _, x = _generate(theta, generator, z)
    Y = validate_points(to_tensor(y), "y", dim=x.shape[1])
    n, m = x.shape[0], Y.shape[0]
    aw = uniform(n) if a is None else a
    bw = uniform(m) if b is None else b
    C = cost_matrix(x.detach(), Y.to(x.dtype), p).numpy()
    sol = exact_ot(aw, bw, C)
    return sol.cost, primal_gradient(theta, generator, z, Y, sol.plan, p), sol
