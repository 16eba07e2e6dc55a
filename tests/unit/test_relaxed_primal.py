"""The relaxed primal problem E_lambda: bounds, monotonicity, limits, errors."""

from __future__ import annotations

import numpy as np
import pytest

import gmtheory as gm


def _problem(seed=0, K=5, n=4):
    rng = np.random.default_rng(seed)
    z = np.linspace(-2.0, 2.0, K)
    a = np.exp(-z ** 2 / 2)
    a /= a.sum()
    y = rng.normal(size=(n, 2))
    C = gm.ot.cost_matrix(np.stack([z, np.sin(z)], 1), y)
    G = gm.ot.kernel_matrix(z[:, None], z[:, None], "gaussian", 1.0)
    return C, a, np.full(n, 1 / n), G


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bounds_monotonicity_and_limit(seed):
    C, a, b, G = _problem(seed)
    E = gm.ot.exact_ot(a, b, C).cost
    lams = [0.0, 1.0, 10.0, 100.0, 1e4, 1e6]
    res = [gm.ot.relaxed_primal(C, a, b, G, lam) for lam in lams]
    vals = np.array([r.value for r in res])
    gaps = np.array([r.gap for r in res])
    assert all(r.converged for r in res)
    # lambda = 0: each data point takes its cheapest latent atom
    assert vals[0] == pytest.approx(b @ C.min(0), abs=1e-12)
    assert np.all(vals - gaps <= E + 1e-12)                 # E_lam <= E
    assert np.all(np.diff(vals) >= -gaps[1:] - 1e-12)        # non-decreasing
    assert E - vals[-1] < 1e-4 * E                           # -> E
    # the penalty of the optimal plan decreases like 1/lambda^2
    pen = np.array([r.penalty for r in res])
    assert pen[-1] < 1e-6 * pen[1]


def test_against_grid_search_on_two_atoms():
    # K = 2, n = 1: the plan is (t, 1 - t); minimise over t on a fine grid
    C = np.array([[0.3], [1.0]])
    a = np.array([0.4, 0.6])
    G = np.array([[1.0, 0.3], [0.3, 1.0]])
    lam = 2.0
    t = np.linspace(0.0, 1.0, 200_001)
    r = np.stack([t - a[0], 1 - t - a[1]], 1)
    f = t * C[0, 0] + (1 - t) * C[1, 0] + lam * np.einsum("mk,kl,ml->m", r, G, r)
    res = gm.ot.relaxed_primal(C, a, [1.0], G, lam)
    assert res.value == pytest.approx(f.min(), abs=1e-9)
    assert res.plan[0, 0] == pytest.approx(t[f.argmin()], abs=1e-5)


def test_deterministic_encoders_cannot_reach_the_prior():
    # weights a are not multiples of 1/n, so the penalty of every map is
    # bounded away from 0 and E^det_lambda grows linearly in lambda
    C, a, b, G = _problem(3)
    det = [gm.ot.deterministic_relaxed_primal(C, a, b, G, lam)
           for lam in (1e3, 1e4)]
    sto = gm.ot.relaxed_primal(C, a, b, G, 1e4)
    assert det[1].value > sto.value
    assert det[0].penalty > 1e-3
    assert det[1].value == pytest.approx(
        det[1].cost + 1e4 * det[1].penalty, rel=1e-12)
    assert det[1].value > 5 * det[0].value
    # the enumeration's plan is a deterministic map with column sums b
    assert np.all((det[0].plan > 0).sum(0) == 1)
    np.testing.assert_allclose(det[0].plan.sum(0), b, atol=1e-15)


def test_stochastic_plan_has_data_marginal():
    C, a, b, G = _problem(4)
    res = gm.ot.relaxed_primal(C, a, b, G, 10.0)
    np.testing.assert_allclose(res.plan.sum(0), b, atol=1e-12)
    assert res.plan.min() >= 0


def test_bad_input():
    C, a, b, G = _problem(5)
    with pytest.raises(ValueError, match="positive semi-definite"):
        gm.ot.relaxed_primal(C, a, b, G - 2 * np.eye(len(a)), 1.0)
    with pytest.raises(ValueError, match="symmetric"):
        gm.ot.relaxed_primal(C, a, b, np.triu(G), 1.0)
    with pytest.raises(ValueError, match="lam"):
        gm.ot.relaxed_primal(C, a, b, G, -1.0)
    with pytest.raises(ValueError, match="sum to 1"):
        gm.ot.relaxed_primal(C, a * 2, b, G, 1.0)
    with pytest.raises(ValueError, match="max_maps"):
        gm.ot.deterministic_relaxed_primal(C, a, b, G, 1.0, max_maps=10)


def test_polish_ignores_round_off_entries_off_the_support():
    # the chapter's problem at lambda = 1e5: with one BLAS thread SLSQP ends
    # with entries ~5e-13 off the support; a KKT solve that includes them is
    # inconsistent, and the plan was left uncertified (gap 3e-6 > 1e-9)
    z = np.linspace(-2.5, 2.5, 6)
    a = np.exp(-z ** 2 / 2)
    a /= a.sum()
    y = np.random.default_rng(0).normal(size=(5, 2)) * [0.6, 0.5] + [0.0, 0.6]
    C = gm.ot.cost_matrix(np.stack([np.cos(z), z ** 2 / 4], 1), y)
    G = gm.ot.kernel_matrix(z[:, None], z[:, None], "gaussian", 1.0)
    res = gm.ot.relaxed_primal(C, a, np.full(5, 0.2), G, 1e5)
    assert res.converged and res.gap < 1e-9
    assert res.message.startswith("Converged")
