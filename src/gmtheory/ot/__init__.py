"""Optimal transport: exact, closed-form, entropic and semi-discrete solvers.

Modules (each holds one idea; public names are re-exported here):

- :mod:`._inputs` -- validation of weights and costs, cost matrices.
- :mod:`.exact` -- exact discrete OT (linear programme, assignment);
- :mod:`.closed_forms` -- 1-D and Gaussian Wasserstein distances;
- :mod:`.divergences` -- KL, JS and TV between histograms;
- :mod:`.ctransform` -- c-transforms and the dual constraint;
- :mod:`.sinkhorn` -- log-domain Sinkhorn and the Sinkhorn divergence;
- :mod:`.semidiscrete` -- semi-discrete OT by averaged SGD;
- :mod:`.gradients` -- envelope-theorem gradients (primal and dual);
- :mod:`.bounded_critic` -- the best critic of a linear objective (TV, W1) by LP;
- :mod:`.mmd` -- maximum mean discrepancy (Gaussian and IMQ kernels);
- :mod:`.relaxed` -- the relaxed primal problem E_lambda (encoder couplings).
"""

from ._inputs import WEIGHT_TOL, check_cost, check_weights, cost_matrix, weight_tolerance
from .bounded_critic import BestCriticResult, best_critic
from .closed_forms import gaussian_w2, wasserstein_1d, wasserstein_1d_cdf
from .ctransform import c_transform, cbar_transform, dual_value, dual_violation
from .divergences import js, kl, tv
from .exact import AssignmentOTResult, ExactOTResult, assignment_ot, exact_ot
from .gradients import dual_gradient, envelope_gradient, primal_gradient
from .mmd import KERNELS, gaussian_mmd2, kernel_matrix, mmd2
from .relaxed import (
    RelaxedPrimalResult,
    deterministic_relaxed_primal,
    relaxed_primal,
)
from .semidiscrete import (
    SemiDiscreteResult,
    laguerre_cells,
    semidiscrete_dual,
    semidiscrete_ot,
)
from .sinkhorn import SinkhornResult, sinkhorn, sinkhorn_divergence
