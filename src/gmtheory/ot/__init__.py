"""Optimal transport: exact, closed-form, entropic and semi-discrete solvers.

Modules (each holds one idea; public names are re-exported here):

- :mod:`._inputs` -- validation of weights and costs, cost matrices.
"""

from ._inputs import WEIGHT_TOL, check_cost, check_weights, cost_matrix
