"""gmtheory: helper package of the executable textbook on latent-variable
generative models.

Public names are re-exported here from the small modules that hold them:

- :mod:`gmtheory.jacobian` -- batched Jacobians with ``torch.func``;
- :mod:`gmtheory.generators` -- seeded random MLP test beds;
- :mod:`gmtheory.metrics` -- the :class:`Metric` abstraction and the pullback,
  constant and closed-form metrics;
- :mod:`gmtheory.surfaces` -- analytic surfaces with closed-form metrics;
- :mod:`gmtheory.curves` -- discrete curve length and energy;
- :mod:`gmtheory.geodesic_ode`, :mod:`gmtheory.geodesics`,
  :mod:`gmtheory.graphs` -- the geodesic equation and its solvers;
- :mod:`gmtheory.data` -- the bundled digits;
- :mod:`gmtheory.distances` -- numerical test of the metric axioms;
- :mod:`gmtheory.cache` -- content-addressed cache of trained weights;
- :mod:`gmtheory.vae` -- the small digits VAE;
- :mod:`gmtheory.checks`, :mod:`gmtheory.plotting` -- book helpers.
"""

from .cache import cache_dir, config_key, load_or_train
from .checks import check_close, check_less, check_true
from .curves import (
    check_curve,
    curve_energy,
    curve_length,
    decoded_length,
    refine_polyline,
    segment_lengths,
    straight_line,
)
from .clustering import KMedoidsResult, graph_distances, k_medoids
from .data import Digits, load_digits_data
from .geodesic_ode import christoffel_symbols, euler_lagrange_residual, geodesic_rhs
from .geodesics import GeodesicResult, geodesic, geodesics, spline_length_energy
from .graphs import graph_shortest_path, graph_shortest_paths, latent_grid
from .expected_metric import (
    ExpectedMetric,
    MetricEstimate,
    draw_noise,
    monte_carlo_metric,
    sample_metric,
)
from .distances import MetricAxiomReport, metric_axioms
from .generators import random_mlp
from .jacobian import finite_difference_jacobian, jacobian
from . import models, ot
from .metrics import (
    ConstantMetric,
    FunctionMetric,
    Metric,
    PullbackMetric,
    pullback_taylor_error,
)
from .plotting import draw_metric_ellipses, new_figure, show_images, use_book_style
from .rbf_precision import (
    RBFFit,
    RBFPrecision,
    fit_rbf_precision,
    gaussian_log_likelihood,
    rbf_centres,
)
from .stochastic_vae import (
    SigmaNet,
    StochasticVAE,
    StochasticVAEConfig,
    train_stochastic_vae,
)
from .surfaces import FoldedLine, Paraboloid, SphereChart, Surface, great_circle_distance
from .vae import DigitsVAE, TrainedVAE, VAEConfig, train_digits_vae

__version__ = "0.1.0"
