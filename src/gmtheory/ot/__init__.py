"""Optimal transport: exact, closed-form, entropic and semi-discrete solvers.

Modules (each holds one idea; public names are re-exported here):

- :mod:`.inputs` -- validation of weights, costs, point clouds, potentials;
- :mod:`.backend` -- array types: inputs to torch, results back;
- :mod:`.cost` -- the cost matrix :math:`\\|x_i - y_j\\|^p` (the one place it
  is formed);
- :mod:`.exact` -- exact discrete OT (network simplex, linear programme,
  assignment);
- :mod:`.closed_forms` -- 1-D and Gaussian Wasserstein distances;
- :mod:`.divergences` -- KL, JS and TV between histograms;
- :mod:`.ctransform` -- the hard c-transforms (the one implementation) and
  the dual constraint;
- :mod:`.sinkhorn` -- log-domain Sinkhorn and the Sinkhorn divergence;
- :mod:`.semidiscrete` -- semi-discrete OT (averaged SGD, then damped Newton if needed);
- :mod:`.gradients` -- envelope-theorem gradients (primal and dual);
- :mod:`.bounded_critic` -- the best critic of a linear objective (TV, W1) by LP;
- :mod:`.mmd` -- maximum mean discrepancy (Gaussian and IMQ kernels);
- :mod:`.relaxed` -- the relaxed primal problem E_lambda (encoder couplings).

**Output rule.** Every function returns the array type it was given: if
any array argument is a :class:`torch.Tensor`, array results are tensors,
otherwise NumPy arrays (lists count as arrays). Building blocks that only
combine their inputs -- :func:`cost_matrix`, :func:`c_transform`,
:func:`cbar_transform` -- keep the inputs' (promoted) dtype and their
autograd graph; solvers compute in float64 and return float64 tensors (and
int64 index tensors). Scalars are Python floats, except for the
differentiable quantities -- ``cost`` and ``value`` of :func:`sinkhorn`,
:func:`sinkhorn_divergence`, :func:`mmd2` -- which are 0-d tensors for
tensor input. Two exceptions: the validators (``check_*``) return float64
NumPy copies, and the semi-discrete functions (:func:`semidiscrete_ot`,
whose source is a sampler, :func:`laguerre_cells`,
:func:`semidiscrete_dual`) work in NumPy.

**Result vocabulary.** Every solver result has ``converged`` (bool) and
``message`` (a sentence saying what happened and, when not converged, what
to do); ``value`` is the optimum of the problem the solver solves and
``cost`` the transport cost :math:`\\langle C, P\\rangle` of the returned
plan.
"""

from .bounded_critic import BestCriticResult, best_critic
from .closed_forms import gaussian_w2, wasserstein_1d, wasserstein_1d_cdf
from .cost import cost_matrix
from .ctransform import c_transform, cbar_transform, dual_value, dual_violation
from .divergences import js, kl, tv
from .exact import AssignmentOTResult, ExactOTResult, assignment_ot, exact_ot
from .gradients import dual_gradient, envelope_gradient, primal_gradient
from .inputs import WEIGHT_TOL, validate_cost, validate_weights, weight_tolerance
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
