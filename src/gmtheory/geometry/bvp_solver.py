r"""Geodesics as solutions of the two-point boundary-value problem.

The geodesic equation :math:`\ddot\gamma = F(\gamma, \dot\gamma)` with
:math:`\gamma(0) = z_0`, :math:`\gamma(1) = z_1` is written as the
first-order system :math:`\dot\gamma = u`, :math:`\dot u = F(\gamma, u)`
and solved by collocation with :func:`scipy.integrate.solve_bvp`,
:math:`F` from :meth:`Metric.evaluate_geodesic_rhs
<gmtheory.geometry.metrics.Metric.evaluate_geodesic_rhs>` and its exact
Jacobian from ``torch.func``.  This route integrates the ODE, independent of
the energy minimisation of :mod:`~gmtheory.geometry.energy_solver`.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy.integrate import solve_bvp
from torch import Tensor
from torch.func import jacfwd

from .curve_resampling import sample_times
from .geodesic_result import Solved
from .metrics import Metric

__all__ = ["solve_geodesic_bvp"]


def solve_geodesic_bvp(metric: Metric, curve: Tensor, tol: float,
                       max_nodes: int, use_jacobian: bool = True) -> Solved:
    r"""Solve the geodesic boundary-value problem from an initial curve.

    .. math::

        \frac{d}{dt}\begin{pmatrix}\gamma\\ u\end{pmatrix}
        = \begin{pmatrix}u\\ F(\gamma, u)\end{pmatrix},\qquad
        \gamma(0) = z_0,\quad \gamma(1) = z_1,

    by :func:`scipy.integrate.solve_bvp` started from ``curve`` and its
    finite-difference velocity.  With ``use_jacobian`` the collocation
    Newton iteration gets the exact Jacobian
    :math:`\partial(u, F)/\partial(\gamma, u)` from
    :func:`torch.func.jacfwd`, one forward pass for all mesh nodes.

    Parameters
    ----------
    metric : Metric
        Positive definite along the path.
    curve : Tensor, shape (T + 1, d)
        Initial curve at equally spaced times; its first and last points
        are the boundary values.
    tol : float
        ``solve_bvp``'s tolerance on the relative collocation residual.
    max_nodes : int
        Mesh-node limit of ``solve_bvp``.
    use_jacobian : bool, default True
        Give ``solve_bvp`` the exact Jacobian (else it uses finite
        differences).

    Returns
    -------
    Solved
        The solution at the ``T + 1`` times of ``curve`` (endpoints exact),
        ``solve_bvp``'s iteration count, whether it succeeded and its
        message; the energy history is empty.

    See Also
    --------
    gmtheory.geometry.energy_solver.solve_energy_refined : the route that
        minimises the discrete energy instead.
    gmtheory.geometry.geodesic_ode.geodesic_rhs : the right-hand side
        :math:`F`.
    gmtheory.geometry.geodesics.geodesic : the entry point
        (``method="bvp"``).

    Notes
    -----
    Derived in :ref:`geo-ode` (the equation) and :ref:`geo-algorithm` (the
    solver).  A collocation solver converges to the solution of the ODE
    nearest its initial curve, which need not be a shortest path
    (:ref:`geo-sphere`).

    References
    ----------
    :cite:t:`arvanitidis2018latent` (the equation in vec/Kronecker form);
    :cite:t:`docarmo1992riemannian` (geodesics as solutions of the ODE).

    Examples
    --------
    >>> import torch
    >>> from gmtheory.geometry.metrics import ConstantMetric
    >>> m = ConstantMetric(torch.eye(2, dtype=torch.float64))
    >>> t = torch.linspace(0, 1, 9, dtype=torch.float64)[:, None]
    >>> bent = torch.cat([t, 0.3 * torch.sin(torch.pi * t)], 1)
    >>> out = solve_geodesic_bvp(m, bent, 1e-8, 1000)
    >>> out.converged, float(out.curve[4, 1].abs()) < 1e-8
    (True, True)
    """
    T1, d = curve.shape
    z0 = curve[0].numpy()
    z1 = curve[-1].numpy()
    dtype = curve.dtype
    t = sample_times(T1)
    c = curve.numpy()
    v = np.gradient(c, t, axis=0, edge_order=2)
    y0 = np.concatenate([c.T, v.T])

    def fun(_: np.ndarray, y: np.ndarray) -> np.ndarray:
        zz = torch.as_tensor(y[:d].T.copy(), dtype=dtype)
        vv = torch.as_tensor(y[d:].T.copy(), dtype=dtype)
        with torch.no_grad():
            F = metric.evaluate_geodesic_rhs(zz, vv).numpy()
        return np.concatenate([y[d:], F.T])

    def batched_rhs(s: Tensor) -> Tensor:
        return torch.cat([s[:, d:], metric.evaluate_geodesic_rhs(s[:, :d], s[:, d:])], dim=1)

    def fun_jac(_: np.ndarray, y: np.ndarray) -> np.ndarray:
        # rows are independent: differentiate w.r.t. a common offset
        s = torch.as_tensor(y.T.copy(), dtype=dtype)
        with torch.no_grad():
            J = jacfwd(lambda off: batched_rhs(s + off))(
                torch.zeros(2 * d, dtype=dtype)).numpy()   # (m, 2d, 2d)
        return np.transpose(J, (1, 2, 0))

    def bc(ya: np.ndarray, yb: np.ndarray) -> np.ndarray:
        return np.concatenate([ya[:d] - z0, yb[:d] - z1])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sol = solve_bvp(fun, bc, t, y0, fun_jac=fun_jac if use_jacobian else None,
                        tol=tol, max_nodes=max_nodes)
    out = torch.as_tensor(sol.sol(t)[:d].T.copy(), dtype=dtype)
    out[0], out[-1] = curve[0], curve[-1]
    return Solved(out, int(sol.niter), sol.status == 0, str(sol.message), [])
