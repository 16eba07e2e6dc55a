r"""The geodesic equation of a metric on a latent space.

A geodesic of a metric :math:`M(z)` is a critical point of the energy
:math:`E(\gamma) = \int_0^1 \dot\gamma^\top M(\gamma)\,\dot\gamma\,dt`.  Its
Euler--Lagrange equation is the second-order ODE
:math:`\ddot\gamma = F(\gamma, \dot\gamma)`, which this module evaluates in
two algebraically equivalent forms:

.. math::

    F_{\mathrm{vec}} = -\tfrac12 M^{-1}\Big[
        2(\mathbb I_d\otimes\dot\gamma^\top)
        \frac{\partial\operatorname{vec}M}{\partial\gamma}\dot\gamma
        - \frac{\partial\operatorname{vec}M}{\partial\gamma}^{\!\top}
        (\dot\gamma\otimes\dot\gamma)\Big],
    \qquad
    F^k_{\Gamma} = -\Gamma^k_{ij}\dot\gamma^i\dot\gamma^j .

The derivative of the metric comes from ``torch.func`` (exact), never from
finite differences or hand-written Jacobians.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ..validation import as_float_tensor, validate_points
from .metrics import Metric, validate_metric

__all__ = [
    "validate_metric",
    "christoffel_symbols",
    "geodesic_rhs",
    "euler_lagrange_residual",
]


def christoffel_symbols(metric: Metric, z: Tensor) -> Tensor:
    r"""Christoffel symbols of the second kind of ``metric`` at a batch of points.

    .. math::

        \Gamma^k_{ij} = \tfrac12 (M^{-1})^{kl}\big(\partial_j M_{li}
        + \partial_i M_{lj} - \partial_l M_{ij}\big).

    Parameters
    ----------
    metric : Metric
    z : Tensor, shape (n, d)

    Returns
    -------
    Tensor, shape (n, d, d, d)
        Entry ``[n, k, i, j]`` is :math:`\Gamma^k_{ij}(z_n)`.

    Raises
    ------
    TypeError
        If ``metric`` is not a :class:`Metric`.
    ValueError
        If ``z`` has the wrong shape or non-finite entries, or if the metric
        is singular at one of the points.

    See Also
    --------
    geodesic_rhs : the geodesic equation they enter.
    gmtheory.Metric : its method ``christoffel`` is the overridable one
        this calls.

    Notes
    -----
    Derived in :ref:`geo-ode`; checked against the vec/Kronecker form in
    :ref:`geo-ode-check`.

    References
    ----------
    :cite:t:`docarmo1992riemannian`.

    Examples
    --------
    >>> import math, torch
    >>> from gmtheory.geometry.surfaces import SphereChart
    >>> G = christoffel_symbols(SphereChart().metric(),
    ...                         torch.tensor([[math.pi / 4, 0.0]],
    ...                                      dtype=torch.float64))
    >>> round(float(G[0, 0, 1, 1]), 12)  # -sin(th) cos(th)
    -0.5
    """
    return validate_metric(metric).christoffel(z)


def geodesic_rhs(metric: Metric, z: Tensor, v: Tensor, form: str = "kronecker") -> Tensor:
    r"""Acceleration :math:`\ddot\gamma = F(\gamma, \dot\gamma)` of the geodesic ODE.

    .. math::

        F = -\tfrac12 M^{-1}\Big[2(\mathbb I_d\otimes v^\top)
        \frac{\partial\operatorname{vec}M}{\partial z} v
        - \frac{\partial\operatorname{vec}M}{\partial z}^{\!\top}(v\otimes v)
        \Big] = -\Gamma^k_{ij} v^i v^j .

    Parameters
    ----------
    metric : Metric
    z : Tensor, shape (n, d)
        Positions :math:`\gamma(t)`.
    v : Tensor, shape (n, d)
        Velocities :math:`\dot\gamma(t)`.
    form : {"kronecker", "christoffel"}
        ``"kronecker"`` evaluates the vec/Kronecker expression exactly as in
        the source (and Arvanitidis et al. 2018); ``"christoffel"`` contracts
        the Christoffel symbols.  The two are algebraically identical.

    Returns
    -------
    Tensor, shape (n, d)

    Raises
    ------
    TypeError
        If ``metric`` is not a :class:`Metric`.
    ValueError
        For bad shapes, non-finite inputs, an unknown ``form`` or a singular
        metric.

    See Also
    --------
    christoffel_symbols : the symbols of the ``"christoffel"`` form.
    euler_lagrange_residual : a check of :math:`F` by finite differences.
    gmtheory.geodesic : solves :math:`\ddot\gamma = F` between two points
        (``method="bvp"``).

    Notes
    -----
    Derived in :ref:`geo-ode` (both forms); checked in :ref:`geo-ode-check`.

    References
    ----------
    :cite:t:`arvanitidis2018latent` (the vec/Kronecker form);
    :cite:t:`docarmo1992riemannian` (the Christoffel form).

    Examples
    --------
    >>> import torch
    >>> from gmtheory.geometry.metrics import ConstantMetric
    >>> m = ConstantMetric(torch.eye(2))
    >>> geodesic_rhs(m, torch.zeros(1, 2), torch.ones(1, 2)).abs()
    tensor([[0., 0.]])
    """
    return validate_metric(metric).geodesic_rhs(z, v, form)


def euler_lagrange_residual(
    metric: Metric,
    curve: Callable[[Tensor], Tensor],
    t: Tensor,
    h: float = 1e-4,
    rhs: Callable[[Tensor, Tensor], Tensor] | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Finite-difference Euler--Lagrange residual along an arbitrary curve.

    With the Lagrangian :math:`L(\gamma, \dot\gamma) = \dot\gamma^\top
    M(\gamma)\dot\gamma`, the residual

    .. math::

        R(t) = \frac{d}{dt}\frac{\partial L}{\partial\dot\gamma}
        - \frac{\partial L}{\partial\gamma}
        = 2M(\gamma)\big(\ddot\gamma - F(\gamma, \dot\gamma)\big)

    holds for *every* smooth curve exactly when :math:`F` is the correct
    geodesic right-hand side.  The left side is computed here by central
    differences only (in :math:`t` and in :math:`\gamma`); the right side
    uses ``rhs``.

    Parameters
    ----------
    metric : Metric
    curve : callable
        Maps times ``(m,)`` to points ``(m, d)`` (torch operations).
    t : Tensor, shape (m,)
        Times at which to compare.
    h : float
        Finite-difference step.
    rhs : callable, optional
        ``(z, v) -> F``; defaults to :func:`geodesic_rhs` of ``metric``.

    Returns
    -------
    residual : Tensor, shape (m, d)
        The finite-difference left side.
    predicted : Tensor, shape (m, d)
        :math:`2M(\ddot\gamma - F)` with :math:`\ddot\gamma, \dot\gamma` from
        central differences.

    See Also
    --------
    geodesic_rhs : the default ``rhs`` under test.

    Notes
    -----
    Derived in :ref:`geo-ode` (the Euler--Lagrange equation) and used in
    :ref:`geo-ode-check`.

    References
    ----------
    :cite:t:`docarmo1992riemannian`.
    """
    validate_metric(metric)
    t = as_float_tensor(t, "t").reshape(-1)
    if rhs is None:
        def rhs(z: Tensor, v: Tensor) -> Tensor:
            return geodesic_rhs(metric, z, v)

    def g(s: Tensor) -> Tensor:
        out = curve(s)
        return validate_points(out, "curve(t)", dim=metric.dim)

    def vel(s: Tensor) -> Tensor:
        return (g(s + h) - g(s - h)) / (2 * h)

    def lagrangian(z: Tensor, v: Tensor) -> Tensor:
        return torch.einsum("ni,nij,nj->n", v, metric.evaluate(z), v)

    def momentum(s: Tensor) -> Tensor:
        z, v = g(s), vel(s)
        return 2.0 * (metric.evaluate(z) @ v.unsqueeze(2)).squeeze(2)

    z, v = g(t), vel(t)
    acc = (g(t + h) - 2.0 * g(t) + g(t - h)) / h ** 2
    dpdt = (momentum(t + h) - momentum(t - h)) / (2 * h)
    eye = torch.eye(metric.dim, dtype=z.dtype)
    dLdz = torch.stack(
        [(lagrangian(z + h * e, v) - lagrangian(z - h * e, v)) / (2 * h) for e in eye],
        dim=1,
    )
    residual = dpdt - dLdz
    predicted = 2.0 * (metric.evaluate(z) @ (acc - rhs(z, v)).unsqueeze(2)).squeeze(2)
    return residual, predicted
