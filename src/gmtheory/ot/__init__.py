"""Optimal transport: exact, closed-form, entropic and semi-discrete solvers.

Modules (each holds one idea; public names are re-exported here):

- :mod:`._inputs` -- validation of weights and costs, cost matrices.
- :mod:`.exact` -- exact discrete OT (linear programme, assignment);
- :mod:`.closed_forms` -- 1-D and Gaussian Wasserstein distances;
- :mod:`.divergences` -- KL, JS and TV between histograms.
"""

from ._inputs import WEIGHT_TOL, check_cost, check_weights, cost_matrix
from .closed_forms import gaussian_w2, wasserstein_1d, wasserstein_1d_cdf
from .divergences import js, kl, tv
from .exact import AssignmentOTResult, ExactOTResult, assignment_ot, exact_ot
