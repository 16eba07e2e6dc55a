"""The options of a geodesic solve, in one object with their defaults.

:func:`~gmtheory.geometry.geodesics.geodesic` and
:func:`~gmtheory.geometry.geodesics.geodesics` collect their keyword
arguments into a :class:`SolveOptions`, check it once (:meth:`SolveOptions.checked`)
and hand it to the solver and to the construction of the initial curves,
instead of long lists of positional arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from torch import Tensor

from ..validation import validate_positive, validate_positive_int

__all__ = ["METHODS", "SolveOptions"]

#: the geodesic solvers, by the name ``method`` takes
METHODS = ("energy", "bvp")


@dataclass(frozen=True)
class SolveOptions:
    """The options of :func:`~gmtheory.geometry.geodesics.geodesic` and
    :func:`~gmtheory.geometry.geodesics.geodesics`, with their defaults.

    One place for the defaults; the entry points check the values
    (:meth:`checked`) and hand the object to the solver.  The attributes
    are documented with the parameters of
    :func:`~gmtheory.geometry.geodesics.geodesic`.

    Examples
    --------
    >>> SolveOptions(method="bvp").checked().tol
    1e-06
    """

    method: str = "energy"
    n_points: int = 65
    init: Tensor | None = None
    graph_points: Tensor | None = None
    n_neighbors: int = 10
    tol: float | None = None
    max_iter: int = 1000
    bvp_jacobian: bool = True
    max_nodes: int = 5000
    max_refine: int = 2
    multistart: bool | None = None

    def checked(self) -> SolveOptions:
        """These options validated, with integer counts and a default tol.

        Returns
        -------
        SolveOptions
            A copy with ``n_points`` and ``max_refine`` as ``int`` and
            ``tol`` set to ``1e-6`` if it was ``None``.

        Raises
        ------
        ValueError
            For an unknown ``method``, ``n_points < 5``, a non-positive
            ``max_iter``, ``n_neighbors`` or ``tol``.
        TypeError
            For a count that is not an integer.
        """
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}.")
        validate_positive_int(self.n_points, "n_points", minimum=5)
        validate_positive_int(self.max_iter, "max_iter")
        validate_positive_int(self.n_neighbors, "n_neighbors")
        if self.tol is not None:
            validate_positive(self.tol, "tol")
        return replace(self, n_points=int(self.n_points),
                       max_refine=int(self.max_refine),
                       tol=1e-6 if self.tol is None else self.tol)
