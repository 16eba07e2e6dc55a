"""Tests of gmtheory.ot.exact, .closed_forms and .divergences.

Independent routes: POT (``ot.emd``, ``ot.emd2``, ``ot.wasserstein_1d``,
``ot.gaussian.bures_wasserstein_distance``), the assignment solver, closed
forms, and LP invariants (marginals, duality gap, complementary slackness).
"""

from __future__ import annotations

import warnings

import numpy as np
import ot as pot
import pytest
import torch
from scipy.linalg import sqrtm
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy

import gmtheory as gm
from gmtheory.ot import (
    assignment_ot,
    exact_ot,
    gaussian_w2,
    js,
    kl,
    tv,
    wasserstein_1d,
    wasserstein_1d_cdf,
)


def _problem(n: int, m: int, seed: int, k: int = 2):
    rng = np.random.default_rng(seed)
    a = rng.random(n) + 0.05
    b = rng.random(m) + 0.05
    x = rng.normal(size=(n, k))
    y = rng.normal(size=(m, k)) + 0.7
    return a / a.sum(), b / b.sum(), gm.ot.cost_matrix(x, y, p=2)


# --------------------------------------------------------------------------
# exact_ot
# --------------------------------------------------------------------------

@pytest.mark.parametrize("n, m, seed", [(1, 1, 0), (1, 6, 1), (5, 7, 2),
                                         (30, 20, 3), (60, 60, 4)])
@pytest.mark.parametrize("method", ["network_simplex", "lp", "highs-ds", "highs-ipm"])
def test_exact_matches_pot_and_lp_invariants(n, m, seed, method):
    a, b, C = _problem(n, m, seed)
    res = exact_ot(a, b, C, method=method)
    assert res.converged and "Optimal" in res.message
    assert res.plan.shape == (n, m) and res.f.shape == (n,) and res.g.shape == (m,)
    np.testing.assert_allclose(res.cost, pot.emd2(a, b, C), rtol=1e-9, atol=1e-12)
    # plan is a coupling of a and b
    assert (res.plan >= 0).all()
    np.testing.assert_allclose(res.plan.sum(1), a, atol=1e-10)
    np.testing.assert_allclose(res.plan.sum(0), b, atol=1e-10)
    np.testing.assert_allclose((res.plan * C).sum(), res.cost, rtol=1e-9, atol=1e-12)
    # dual feasibility, zero duality gap, complementary slackness
    slack = C - res.f[:, None] - res.g[None, :]
    assert slack.min() >= -1e-8
    np.testing.assert_allclose(a @ res.f + b @ res.g, res.cost, rtol=1e-9, atol=1e-10)
    assert (res.plan * slack).sum() <= 1e-9
    # the dual value of POT agrees as well
    _, log = pot.emd(a, b, C, log=True)
    np.testing.assert_allclose(a @ log["u"] + b @ log["v"], a @ res.f + b @ res.g,
                               rtol=1e-9, atol=1e-10)
    # the documented gauge of the potentials
    assert res.g[-1] == 0.0


def test_exact_default_is_network_simplex_and_lp_agrees():
    a, b, C = _problem(40, 30, 14)
    ns = exact_ot(a, b, C)
    lp = exact_ot(a, b, C, method="lp")
    assert ns.method == "network_simplex" and lp.method == "highs"
    # the network simplex is POT's emd: same value to rounding
    np.testing.assert_allclose(ns.cost, pot.emd2(a, b, C), rtol=1e-13, atol=0)
    # an independent route (HiGHS on the n m LP) reaches the same optimum
    np.testing.assert_allclose(ns.cost, lp.cost, rtol=1e-10)
    # generic costs: unique plan and (up to the gauge) unique potentials
    np.testing.assert_allclose(ns.plan, lp.plan, atol=1e-10)
    np.testing.assert_allclose(ns.f, lp.f, atol=1e-8)
    np.testing.assert_allclose(ns.g, lp.g, atol=1e-8)


@pytest.mark.parametrize("method", ["network_simplex", "lp"])
def test_exact_degenerate_problem_gives_optimal_certificates(method):
    # integer costs on a grid with uniform weights: many optimal plans and
    # potentials; each route must return an optimal primal-dual pair
    x = np.arange(6.0)
    C = np.abs(x[:, None] - x[None, ::-1])
    u = np.full(6, 1 / 6)
    res = exact_ot(u, u, C, method=method)
    slack = C - res.f[:, None] - res.g[None, :]
    assert slack.min() >= -1e-12
    np.testing.assert_allclose(u @ res.f + u @ res.g, res.cost, atol=1e-12)
    assert abs((res.plan * slack).sum()) <= 1e-12
    np.testing.assert_allclose(res.cost, pot.emd2(u, u, C), atol=1e-12)


@pytest.mark.parametrize("method", ["network_simplex", "lp"])
def test_exact_zero_weight_potentials_are_feasible(method):
    a, b, C = _problem(5, 6, 15)
    a[1], b[[0, 4]] = 0.0, 0.0
    a, b = a / a.sum(), b / b.sum()
    res = exact_ot(a, b, C, method=method)
    assert (C - res.f[:, None] - res.g[None, :]).min() >= -1e-10
    np.testing.assert_allclose(a @ res.f + b @ res.g, res.cost, rtol=1e-10)


def test_exact_plan_equals_pot_plan_when_unique():
    # generic 1-D costs |x-y|^2 have a unique (monotone) optimal plan
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=8), rng.normal(size=9)
    a = rng.dirichlet(np.ones(8))
    b = rng.dirichlet(np.ones(9))
    C = (x[:, None] - y[None, :]) ** 2
    np.testing.assert_allclose(exact_ot(a, b, C).plan, pot.emd(a, b, C), atol=1e-10)


def test_exact_accepts_torch_and_does_not_mutate():
    a, b, C = _problem(4, 5, 6)
    a0, b0, C0 = a.copy(), b.copy(), C.copy()
    res_np = exact_ot(a, b, C)
    res_t = exact_ot(torch.tensor(a), torch.tensor(b), torch.tensor(C))
    np.testing.assert_allclose(res_t.cost, res_np.cost, rtol=1e-12)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)
    np.testing.assert_array_equal(C, C0)


def test_exact_zero_weights_and_dirac():
    C = np.array([[0.0, 2.0, 5.0], [1.0, 0.0, 3.0]])
    res = exact_ot([1.0, 0.0], [0.2, 0.3, 0.5], C)
    # everything leaves the first point: cost = sum_j b_j C_0j
    np.testing.assert_allclose(res.cost, 0.3 * 2.0 + 0.5 * 5.0, rtol=1e-12)
    np.testing.assert_allclose(res.plan[1], 0.0, atol=1e-14)


def test_exact_cost_is_shift_equivariant():
    a, b, C = _problem(6, 4, 7)
    c0 = exact_ot(a, b, C).cost
    np.testing.assert_allclose(exact_ot(a, b, C + 3.0).cost, c0 + 3.0, rtol=1e-10)
    np.testing.assert_allclose(exact_ot(a, b, 2.5 * C).cost, 2.5 * c0, rtol=1e-10)


def test_exact_weights_not_summing_to_one():
    _, b, C = _problem(3, 3, 8)
    with pytest.raises(ValueError, match=r"a must sum to 1.*off by 0\.2"):
        exact_ot([0.5, 0.4, 0.3], b, C)


def test_exact_negative_weights():
    _, b, C = _problem(3, 3, 9)
    with pytest.raises(ValueError, match=r"b must be non-negative.*-0\.2"):
        exact_ot(b, [0.6, 0.6, -0.2], C)


def test_exact_mismatched_shapes():
    a, b, C = _problem(3, 4, 10)
    with pytest.raises(ValueError, match=r"a has 4 weights but the cost matrix expects 3"):
        exact_ot(b, b, C)
    with pytest.raises(ValueError, match=r"b has 3 weights but the cost matrix expects 4"):
        exact_ot(a, a, C)
    with pytest.raises(ValueError, match=r"2-D cost matrix"):
        exact_ot(a, b, C.ravel())
    with pytest.raises(ValueError, match=r"1-D weight vector"):
        exact_ot(a[:, None], b, C)


def test_exact_nan_costs_and_bad_method():
    a, b, C = _problem(3, 4, 11)
    C = C.copy()
    C[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinite costs"):
        exact_ot(a, b, C)
    _, _, C = _problem(3, 4, 11)
    with pytest.raises(ValueError, match=r"method must be one of"):
        exact_ot(a, b, C, method="simplex")
    with pytest.raises(ValueError, match=r"max_iter must be a positive integer"):
        exact_ot(a, b, C, max_iter=0)
    with pytest.raises(TypeError, match=r"numeric array"):
        exact_ot(a, b, [["x"] * 4] * 3)


@pytest.mark.parametrize("method", ["network_simplex", "lp"])
def test_exact_iteration_limit_warns(method):
    a, b, C = _problem(30, 30, 12)
    with pytest.warns(RuntimeWarning, match=r"iteration limit"):
        res = exact_ot(a, b, C, method=method, max_iter=1)
    assert not res.converged
    assert np.isnan(res.f).all() and np.isnan(res.g).all()


def test_exact_tiny_mass_mismatch_stays_feasible():
    # both within tol of 1 but in opposite directions; b has a zero last weight
    a = np.array([0.5, 0.5 + 5e-9])
    b = np.array([0.5, 0.5 - 5e-9, 0.0])
    C = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 2.0]])
    res = exact_ot(a, b, C)
    assert res.converged
    np.testing.assert_allclose(res.cost, 0.0, atol=1e-8)


# --------------------------------------------------------------------------
# assignment_ot
# --------------------------------------------------------------------------

@pytest.mark.parametrize("n, seed", [(1, 0), (7, 1), (40, 2)])
def test_assignment_equals_lp_and_pot(n, seed):
    rng = np.random.default_rng(seed)
    C = gm.ot.cost_matrix(rng.normal(size=(n, 2)), rng.normal(size=(n, 2)))
    u = np.full(n, 1.0 / n)
    res = assignment_ot(C)
    assert sorted(res.permutation.tolist()) == list(range(n))
    np.testing.assert_allclose(res.cost, exact_ot(u, u, C).cost, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.cost, pot.emd2(u, u, C), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.cost, C[np.arange(n), res.permutation].mean(),
                               rtol=1e-12)
    np.testing.assert_allclose(res.plan.sum(0), u, rtol=1e-12)
    np.testing.assert_allclose(res.plan.sum(1), u, rtol=1e-12)


def test_assignment_errors():
    with pytest.raises(ValueError, match=r"x_cost must be square.*\(2, 3\)"):
        assignment_ot(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"x_cost contains NaN"):
        assignment_ot([[0.0, np.inf], [1.0, 0.0]])


# --------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------

@pytest.mark.parametrize("p", [1, 1.5, 2, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_wasserstein_1d_matches_lp_and_pot(p, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=9), rng.exponential(size=13)
    a, b = rng.dirichlet(np.ones(9)), rng.dirichlet(np.ones(13))
    C = np.abs(x[:, None] - y[None, :]) ** p
    w = wasserstein_1d(x, y, a, b, p=p)
    np.testing.assert_allclose(w ** p, exact_ot(a, b, C).cost, rtol=1e-9)
    np.testing.assert_allclose(w ** p, pot.wasserstein_1d(x, y, a, b, p=p), rtol=1e-9)
    if p == 1:
        np.testing.assert_allclose(wasserstein_1d_cdf(x, y, a, b), w, rtol=1e-12)


def test_wasserstein_1d_uniform_defaults_and_order_invariance():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=6), rng.normal(size=6)
    # uniform equal size: W_p^p = mean |x_(i) - y_(i)|^p of the sorted samples
    for p in (1, 2):
        np.testing.assert_allclose(
            wasserstein_1d(x, y, p=p) ** p,
            np.mean(np.abs(np.sort(x) - np.sort(y)) ** p), rtol=1e-12)
    perm = rng.permutation(6)
    assert wasserstein_1d(x[perm], y) == pytest.approx(wasserstein_1d(x, y), rel=1e-14)
    assert wasserstein_1d_cdf(x, x) == 0.0
    # W_1 between Diracs is the distance of the points
    assert wasserstein_1d([0.0], [-2.5]) == pytest.approx(2.5, rel=1e-14)
    assert wasserstein_1d_cdf([0.0], [-2.5]) == pytest.approx(2.5, rel=1e-14)


def test_wasserstein_1d_errors():
    with pytest.raises(ValueError, match=r"p must be a finite number >= 1"):
        wasserstein_1d([0.0], [1.0], p=0.5)
    with pytest.raises(ValueError, match=r"x must be a 1-D array"):
        wasserstein_1d(np.zeros((2, 2)), [1.0])
    with pytest.raises(ValueError, match=r"y contains NaN"):
        wasserstein_1d_cdf([0.0], [np.nan])
    with pytest.raises(ValueError, match=r"b must sum to 1.*off by 0\.5"):
        wasserstein_1d([0.0], [1.0, 2.0], b=[0.25, 0.25])
    with pytest.raises(ValueError, match=r"a has 1 weights but the cost matrix expects 2"):
        wasserstein_1d_cdf([0.0, 1.0], [1.0], a=[1.0])


def test_gaussian_w2_matches_pot_and_special_cases():
    rng = np.random.default_rng(4)
    A = rng.normal(size=(3, 3))
    B = rng.normal(size=(3, 3))
    S1, S2 = A @ A.T + 0.1 * np.eye(3), B @ B.T + 0.1 * np.eye(3)
    m1, m2 = rng.normal(size=3), rng.normal(size=3)
    np.testing.assert_allclose(
        gaussian_w2(m1, S1, m2, S2),
        pot.gaussian.bures_wasserstein_distance(m1, m2, S1, S2), rtol=1e-9)
    # the formula with scipy's general matrix square root
    r1 = sqrtm(S1)
    bures = np.trace(S1 + S2 - 2 * sqrtm(r1 @ S2 @ r1)).real
    np.testing.assert_allclose(gaussian_w2(m1, S1, m2, S2) ** 2,
                               np.sum((m1 - m2) ** 2) + bures, rtol=1e-9)
    # commuting (diagonal) covariances: ||m1-m2||^2 + ||sqrt(s1) - sqrt(s2)||^2
    s1, s2 = np.array([1.0, 4.0]), np.array([9.0, 0.25])
    expected = np.sqrt(1.0 + (1 - 3) ** 2 + (2 - 0.5) ** 2)
    np.testing.assert_allclose(
        gaussian_w2([0.0, 0.0], np.diag(s1), [1.0, 0.0], np.diag(s2)),
        expected, rtol=1e-12)
    # identical Gaussians, and degenerate (Dirac) covariances
    # (W_2 = sqrt(round-off) there, so compare W_2^2 with the scale tr S1)
    assert gaussian_w2(m1, S1, m1, S1) ** 2 <= 1e-12 * np.trace(S1)
    np.testing.assert_allclose(
        gaussian_w2([0.0, 0.0], np.zeros((2, 2)), [3.0, 4.0], np.zeros((2, 2))),
        5.0, rtol=1e-12)


def test_gaussian_w2_against_large_sample_lp():
    # 1-D: the sample W_2 converges to the closed form |m1-m2|^2 + (s1-s2)^2
    rng = np.random.default_rng(5)
    n = 4000
    x = 0.5 + 1.0 * rng.standard_normal(n)
    y = -0.5 + 2.0 * rng.standard_normal(n)
    exact = gaussian_w2([0.5], [[1.0]], [-0.5], [[4.0]])
    assert exact == pytest.approx(np.sqrt(2.0), rel=1e-12)
    assert wasserstein_1d(x, y, p=2) == pytest.approx(exact, rel=0.05)


def test_gaussian_w2_errors():
    eye = np.eye(2)
    with pytest.raises(ValueError, match=r"same length"):
        gaussian_w2([0.0], eye, [0.0, 0.0], eye)
    with pytest.raises(ValueError, match=r"S2 must have shape \(2, 2\)"):
        gaussian_w2([0.0, 0.0], eye, [0.0, 0.0], np.eye(3))
    with pytest.raises(ValueError, match=r"S1 must be symmetric"):
        gaussian_w2([0.0, 0.0], [[1.0, 0.5], [0.0, 1.0]], [0.0, 0.0], eye)
    with pytest.raises(ValueError, match=r"S2 must be positive semi-definite"):
        gaussian_w2([0.0, 0.0], eye, [0.0, 0.0], np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"m1 and m2 must be finite"):
        gaussian_w2([np.nan, 0.0], eye, [0.0, 0.0], eye)


# --------------------------------------------------------------------------
# divergences
# --------------------------------------------------------------------------

def test_divergences_against_definitions_and_pot():
    rng = np.random.default_rng(6)
    p, q = rng.dirichlet(np.ones(10)), rng.dirichlet(np.ones(10))
    np.testing.assert_allclose(kl(p, q), np.sum(p * np.log(p / q)), rtol=1e-12)
    np.testing.assert_allclose(kl(p, q), entropy(p, q), rtol=1e-12)
    np.testing.assert_allclose(js(p, q), jensenshannon(p, q) ** 2, rtol=1e-10)
    m = 0.5 * (p + q)
    np.testing.assert_allclose(
        js(p, q), 0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.sum(q * np.log(q / m)),
        rtol=1e-12)
    np.testing.assert_allclose(tv(p, q), 0.5 * np.abs(p - q).sum(), rtol=1e-12)
    # TV is the largest discrepancy over events: attained at A = {p > q}
    np.testing.assert_allclose(tv(p, q), p[p > q].sum() - q[p > q].sum(), rtol=1e-12)
    # Pinsker: TV <= sqrt(KL / 2); JS <= log 2; symmetric JS, TV
    assert tv(p, q) <= np.sqrt(kl(p, q) / 2)
    assert js(p, q) == pytest.approx(js(q, p), rel=1e-12)
    assert kl(p, p) == 0.0 and js(p, p) == 0.0 and tv(p, p) == 0.0


def test_divergences_on_disjoint_supports():
    p = np.array([0.3, 0.7, 0.0, 0.0])
    q = np.array([0.0, 0.0, 0.6, 0.4])
    assert kl(p, q) == np.inf and kl(q, p) == np.inf
    assert js(p, q) == pytest.approx(np.log(2), rel=1e-14)
    assert tv(p, q) == pytest.approx(1.0, rel=1e-14)
    # subnormal masses on disjoint supports: JS is still log 2, not inf
    tiny = np.array([1.0 - 5e-324, 5e-324, 0.0])
    far = np.array([0.0, 0.0, 1.0])
    assert js(tiny, far) == pytest.approx(np.log(2), rel=1e-14)
    # p << q but not q << p: finite one way, infinite the other
    r = np.array([0.25, 0.25, 0.25, 0.25])
    assert np.isfinite(kl(p, r)) and kl(r, p) == np.inf


def test_divergence_errors():
    with pytest.raises(ValueError, match=r"same grid, got lengths 2 and 3"):
        kl([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match=r"q must sum to 1.*off by 0\.1"):
        js([0.5, 0.5], [0.5, 0.6])
    with pytest.raises(ValueError, match=r"p must be non-negative"):
        tv([1.5, -0.5], [0.5, 0.5])


def test_no_warnings_on_regular_inputs():
    a, b, C = _problem(10, 12, 13)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exact_ot(a, b, C)
        wasserstein_1d(np.arange(3.0), np.arange(4.0), p=2)
        gaussian_w2([0.0, 0.0], np.eye(2), [1.0, 1.0], 2 * np.eye(2))
        kl([1.0, 0.0], [0.0, 1.0])
