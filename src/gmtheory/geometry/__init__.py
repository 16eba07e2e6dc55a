"""Latent geometry (Part I of the book).

Modules (each holds one idea; public names are re-exported here):

- :mod:`.jacobian` -- batched Jacobians with ``torch.func``;
- :mod:`.metrics` -- :class:`Metric`, the one extension point, and the
  pullback, constant and closed-form metrics;
- :mod:`.expected_metric` -- the expected metric of a stochastic generator
  and its Monte Carlo estimates;
- :mod:`.surfaces` -- analytic surfaces with closed-form metrics;
- :mod:`.curves` -- discrete curve length and energy;
- :mod:`.geodesic_ode` -- Christoffel symbols and the geodesic equation;
- :mod:`.geodesics` -- the geodesic solvers' entry points ``geodesic`` and
  ``geodesics``, built from :mod:`.geodesic_result` (what they return),
  :mod:`.geodesic_options` (what they take), :mod:`.curve_resampling` and
  :mod:`.curve_quadrature` (sampled curves and their spline length and
  energy), :mod:`.geodesic_starts` (initial curves and the multistart),
  :mod:`.energy_solver` (preconditioned batched L-BFGS and refinement),
  :mod:`.bvp_solver` (collocation on the geodesic ODE) and
  :mod:`.precision` (the float64 working copy of a metric);
- :mod:`.graphs`, :mod:`.clustering` -- nearest-neighbour graphs, graph
  distances and k-medoids;
- :mod:`.distances` -- numerical test of the axioms of a distance.
"""

from .clustering import KMedoidsResult, graph_distances, k_medoids
from .curves import (
    curve_energy,
    curve_length,
    decoded_length,
    refine_polyline,
    segment_lengths,
    straight_line,
    validate_curve,
)
from .distances import MetricAxiomReport, metric_axioms
from .expected_metric import (
    ExpectedMetric,
    MetricEstimate,
    draw_noise,
    monte_carlo_metric,
    sample_metric,
)
from .geodesic_ode import christoffel_symbols, euler_lagrange_residual, geodesic_rhs
from .geodesics import GeodesicResult, geodesic, geodesics, spline_length_energy
from .graphs import graph_shortest_path, graph_shortest_paths, latent_grid
from .jacobian import finite_difference_jacobian, jacobian
from .metrics import (
    ConstantMetric,
    FunctionMetric,
    Metric,
    PullbackMetric,
    pullback_taylor_error,
)
from .surfaces import FoldedLine, Paraboloid, SphereChart, Surface, great_circle_distance
