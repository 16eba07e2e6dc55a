r"""What the geodesic solvers return.

:class:`GeodesicResult` is the public result of :func:`~gmtheory.geometry.geodesics.geodesic`
and :func:`~gmtheory.geometry.geodesics.geodesics`: the curve with its
length, energy and diagnostics.  :class:`Solved` is the smaller record that
each solver (:mod:`~gmtheory.geometry.energy_solver`,
:mod:`~gmtheory.geometry.bvp_solver`) hands back for one pair before the
curve is measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from torch import Tensor

__all__ = ["GeodesicResult", "Solved"]


@dataclass
class GeodesicResult:
    """What a geodesic solver returns.

    Attributes
    ----------
    curve : Tensor, shape (T + 1, d)
        The curve at equally spaced times on ``[0, 1]``, endpoints exact;
        ``T + 1 = n_points`` unless the energy solver had to refine.
    length : float
        Riemannian length (cubic spline + Gauss--Legendre quadrature).
    energy : float
        Energy :math:`\\int_0^1\\|\\dot\\gamma\\|^2_\\gamma dt` (same quadrature);
        ``length**2 <= energy`` always, with equality iff constant speed.
    converged : bool
        Whether the solver met its tolerance.
    iterations : int
        L-BFGS iterations or Newton iterations of ``solve_bvp``.
    method : str
        ``"energy"`` or ``"bvp"``.
    message : str
        The solver's termination message.
    ode_residual : float
        :math:`\\max_k\\|\\ddot\\gamma_k - F(\\gamma_k, \\dot\\gamma_k)\\|_{M}/E`
        at the interior nodes, derivatives from the spline: a scale-free
        check that the curve solves the geodesic ODE.
    energy_history : list of float
        Discrete energy after each iteration (energy method only).
    seconds : float
        Wall-clock time of the solve.
    start : str
        The start the returned curve came from: ``"line"``, ``"init"``,
        ``"graph"`` (shortest path over ``graph_points``) or ``"grid"``
        (shortest path over the automatic latent grid).
    solve_dtype : str
        The dtype the solver worked in (``"float64"`` unless the metric
        could not be evaluated in float64); ``curve`` has the dtype of the
        endpoints whatever this is.
    """

    curve: Tensor
    length: float
    energy: float
    converged: bool
    iterations: int
    method: str
    message: str
    ode_residual: float = float("nan")
    energy_history: list = field(default_factory=list)
    seconds: float = 0.0
    start: str = "line"
    solve_dtype: str = "float64"


class Solved(NamedTuple):
    """What a solver returns for one pair, before lengths are measured.

    Attributes
    ----------
    curve : Tensor, shape (m, d)
        The solver's curve at equally spaced times, endpoints exact.
    iterations : int
        Iterations the solver used (all levels and starts together).
    converged : bool
        Whether it met its tolerance.
    message : str
        Its termination message.
    history : list of float
        Discrete energy after each iteration (empty for the BVP solver).
    """

    curve: Tensor
    iterations: int
    converged: bool
    message: str
    history: list
