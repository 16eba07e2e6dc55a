"""gmtheory: helper package of the executable textbook on latent-variable
generative models.

The folders follow the book; every public name is re-exported here, so a
chapter writes ``gm.geodesic`` or ``gm.ot.sinkhorn`` without knowing where it
lives:

- :mod:`gmtheory.geometry` -- Part I: Jacobians, :class:`Metric` (the one
  extension point: a new metric plugs into every solver by subclassing),
  curves, the geodesic equation and its solvers, graphs, surfaces, the
  expected metric and the axioms of a distance;
- :mod:`gmtheory.ot` -- Part II: optimal transport, exact, entropic, dual and
  semi-discrete, and the MMD;
- :mod:`gmtheory.models` -- the models and their training: the MLP builder,
  the one Adam loop, the weight cache and :func:`reproducible`, the VAEs of
  Part I, the critics, GANs and WAE of Part III;
- :mod:`gmtheory.data` -- the bundled digits;
- :mod:`gmtheory.book` -- helpers of the pages: the checks a chapter makes
  on its numbers and the figure style (matplotlib is loaded on first use).

Import graph: ``validation`` <- ``geometry``, ``ot`` <- ``models``;
``book`` and ``data`` depend on nothing else in the package.
"""

from __future__ import annotations

from typing import Any

from . import book, geometry, models, ot
from .book import check_close, check_less, check_true
from .data import Digits, load_digits_data
from .geometry import (
    ConstantMetric,
    ExpectedMetric,
    FoldedLine,
    FunctionMetric,
    GeodesicResult,
    KMedoidsResult,
    Metric,
    MetricAxiomReport,
    MetricEstimate,
    Paraboloid,
    PullbackMetric,
    SphereChart,
    Surface,
    christoffel_symbols,
    curve_energy,
    curve_length,
    decoded_length,
    draw_noise,
    euler_lagrange_residual,
    finite_difference_jacobian,
    geodesic,
    geodesic_rhs,
    geodesics,
    graph_distances,
    graph_shortest_path,
    graph_shortest_paths,
    great_circle_distance,
    jacobian,
    k_medoids,
    latent_grid,
    metric_axioms,
    monte_carlo_metric,
    pullback_taylor_error,
    refine_polyline,
    sample_metric,
    segment_lengths,
    spline_length_energy,
    straight_line,
    validate_curve,
)
from .models import (
    DigitsVAE,
    RBFFit,
    RBFPrecision,
    SigmaNet,
    StochasticVAE,
    StochasticVAEConfig,
    TrainedVAE,
    VAEConfig,
    cache,
    cache_dir,
    config_key,
    fit_rbf_precision,
    gaussian_log_likelihood,
    load_or_train,
    random_mlp,
    rbf_centres,
    train_digits_vae,
    train_stochastic_vae,
)

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``gm.new_figure`` and the other plotting helpers, loaded on first use."""
    if name in book.PLOTTING:
        return getattr(book, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(book.PLOTTING))
