"""Tests of gmtheory.ot: Sinkhorn, c-transforms, semi-discrete OT, gradients."""

import warnings

import numpy as np
import ot as pot
import pytest
import torch

import gmtheory as gm
from gmtheory.ot import (
    c_transform,
    cbar_transform,
    cost_matrix,
    dual_gradient,
    dual_value,
    dual_violation,
    envelope_gradient,
    exact_ot,
    primal_gradient,
    semidiscrete_ot,
    sinkhorn,
    sinkhorn_divergence,
)


def _problem(n=12, m=9, k=2, seed=0):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, k)), rng.normal(size=(m, k)) + 0.5
    a = rng.uniform(0.5, 1.5, n)
    b = rng.uniform(0.5, 1.5, m)
    return x, y, a / a.sum(), b / b.sum()


# ---------------------------------------------------------------- Sinkhorn
def test_sinkhorn_marginals_converge():
    x, y, a, b = _problem()
    res = sinkhorn(a, b, cost_matrix(x, y), eps=0.1, tol=1e-12)
    assert res.converged
    np.testing.assert_allclose(res.plan.sum(1), a, atol=1e-12)
    np.testing.assert_allclose(res.plan.sum(0), b, atol=1e-14)
    h = res.violation_history
    assert h[-1] < 1e-12 and h[0] > 1e-3
    # linear convergence: the violation shrinks over every window of 5 steps
    assert np.all(h[5:] < h[:-5])


def test_sinkhorn_matches_pot_log_domain():
    x, y, a, b = _problem(seed=1)
    C = cost_matrix(x, y)
    for eps in (0.05, 0.5):
        res = sinkhorn(a, b, C, eps, tol=1e-12)
        ref = pot.sinkhorn2(a, b, C, eps, method="sinkhorn_log",
                            stopThr=1e-13, numItermax=100_000)
        plan = pot.sinkhorn(a, b, C, eps, method="sinkhorn_log",
                            stopThr=1e-13, numItermax=100_000)
        assert abs(res.cost - float(ref)) < 1e-10
        np.testing.assert_allclose(res.plan, plan, atol=1e-11)


def test_sinkhorn_value_is_entropic_value_and_dual():
    x, y, a, b = _problem(seed=2)
    C, eps = cost_matrix(x, y), 0.3
    res = sinkhorn(a, b, C, eps, tol=1e-13)
    P = res.plan
    primal = (P * C).sum() + eps * (P * np.log(P / np.outer(a, b))).sum()
    assert abs(res.value - primal) < 1e-11
    # the potentials reproduce the plan
    rebuilt = np.outer(a, b) * np.exp((res.f[:, None] + res.g[None, :] - C) / eps)
    np.testing.assert_allclose(rebuilt, P, rtol=1e-12)


def test_sinkhorn_tends_to_exact_as_eps_decreases():
    x, y, a, b = _problem(n=8, m=7, seed=3)
    C = cost_matrix(x, y)
    exact = exact_ot(a, b, C).cost
    gaps = []
    for eps in (1.0, 0.1, 0.01):
        res = sinkhorn(a, b, C, eps, tol=1e-10, max_iter=200_000)
        gap = res.value - exact
        # 0 <= OT_eps - W <= eps * log(n m)  (KL(P|ab) <= log(n m) for the LP plan
        # is bounded by -log min(a) - log min(b))
        assert 0 <= gap <= eps * (-np.log(a.min()) - np.log(b.min())) + 1e-9
        gaps.append(abs(res.cost - exact))
    assert gaps[2] < gaps[1] < gaps[0] and gaps[2] < 1e-3


def test_sinkhorn_torch_gradient_matches_finite_differences():
    x, y, a, b = _problem(n=6, m=5, seed=4)
    X = torch.tensor(x, requires_grad=True)
    Y = torch.tensor(y)
    eps = 0.2

    def value(xx, autodiff="envelope", what="value"):
        C = gm.ot.cost_matrix(xx, Y)
        res = sinkhorn(torch.tensor(a), torch.tensor(b), C, eps, tol=1e-14,
                       autodiff=autodiff)
        return getattr(res, what)

    for autodiff, what in (("envelope", "value"), ("unroll", "cost")):
        (grad,) = torch.autograd.grad(value(X, autodiff, what), X)
        fd = torch.zeros_like(X)
        h = 1e-6
        for i in range(X.shape[0]):
            for k in range(X.shape[1]):
                e = torch.zeros_like(X)
                e[i, k] = h
                with torch.no_grad():
                    fd[i, k] = (value(X + e, autodiff, what)
                                - value(X - e, autodiff, what)) / (2 * h)
        assert torch.allclose(grad, fd, atol=1e-8), (autodiff, (grad - fd).abs().max())


def test_sinkhorn_warns_when_stopped_early():
    x, y, a, b = _problem(seed=5)
    with pytest.warns(RuntimeWarning, match=r"marginals are violated by [0-9.e-]+"):
        res = sinkhorn(a, b, cost_matrix(x, y), eps=0.01, max_iter=3)
    assert not res.converged and res.iterations == 3 and res.violation > 1e-9


@pytest.mark.parametrize("eps", [0.0, -1.0, float("nan")])
def test_sinkhorn_rejects_bad_eps(eps):
    with pytest.raises(ValueError, match="eps must be > 0"):
        sinkhorn([1.0], [1.0], [[0.0]], eps)


def test_sinkhorn_rejects_bad_inputs():
    C = np.zeros((2, 3))
    with pytest.raises(ValueError, match="must sum to 1"):
        sinkhorn([0.5, 0.6], [1 / 3] * 3, C, 0.1)
    with pytest.raises(ValueError, match="non-negative"):
        sinkhorn([1.5, -0.5], [1 / 3] * 3, C, 0.1)
    with pytest.raises(ValueError, match="b has 2 weights but the cost matrix expects 3"):
        sinkhorn([0.5, 0.5], [0.5, 0.5], C, 0.1)
    with pytest.raises(ValueError, match="max_iter must be a positive integer"):
        sinkhorn([0.5, 0.5], [1 / 3] * 3, C, 0.1, max_iter=0)
    with pytest.raises(ValueError, match="autodiff must be one of"):
        sinkhorn([0.5, 0.5], [1 / 3] * 3, C, 0.1, autodiff="implicit")


def test_sinkhorn_does_not_mutate_inputs():
    x, y, a, b = _problem(seed=6)
    C = cost_matrix(x, y)
    copies = a.copy(), b.copy(), C.copy()
    sinkhorn(a, b, C, 0.1)
    for before, after in zip(copies, (a, b, C)):
        np.testing.assert_array_equal(before, after)


def test_sinkhorn_divergence():
    x, y, a, b = _problem(n=10, m=10, seed=7)
    x, y = 0.3 * x, 0.3 * y
    perm = np.random.default_rng(0).permutation(10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every solve must converge
        same = sinkhorn_divergence(x, x[perm], 0.1, a=a, b=a[perm], tol=1e-13)
        assert abs(same) < 1e-11
        diff = sinkhorn_divergence(x, y, 0.1, a=a, b=b)
        assert diff > 1e-2
        # S_eps -> W as eps -> 0, while OT_eps(a, a) itself is not zero
        W = exact_ot(a, b, cost_matrix(x, y)).cost
        gaps = [abs(sinkhorn_divergence(x, y, e, a=a, b=b, max_iter=50_000) - W)
                for e in (0.1, 0.01)]
        assert gaps[1] < 0.2 * gaps[0]
        self_cost = sinkhorn(a, a, cost_matrix(x, x), 0.1, symmetric=True)
        assert self_cost.value > 1e-2
    with pytest.raises(ValueError, match="point clouds"):
        sinkhorn_divergence(x, y[:, :1], 0.1)
    with pytest.raises(ValueError, match="symmetric=True needs a == b"):
        sinkhorn(a, b, cost_matrix(x, y), 0.1, symmetric=True)


# ---------------------------------------------------------------- c-transforms
def test_c_transform_feasible_improving_and_tight_at_optimum():
    x, y, a, b = _problem(seed=8)
    C = cost_matrix(x, y)
    rng = np.random.default_rng(1)
    f = rng.normal(size=len(a))
    g = (C - f[:, None]).min(0) - rng.uniform(0, 1, len(b))  # feasible, slack
    assert dual_violation(f, g, C) <= 0
    gc = c_transform(f, C)
    assert abs(dual_violation(f, gc, C)) < 1e-14  # feasible and tight
    assert np.all(gc >= g)
    W = exact_ot(a, b, C).cost
    assert dual_value(f, g, a, b) < dual_value(f, gc, a, b) <= W + 1e-12
    fcc = cbar_transform(gc, C)
    assert np.all(fcc >= f - 1e-14) and dual_value(fcc, gc, a, b) <= W + 1e-12
    # the max version is infeasible
    gmax = (C - f[:, None]).max(0)
    assert dual_violation(f, gmax, C) > 1.0
    # torch input: a differentiable tensor
    t = c_transform(torch.tensor(f, requires_grad=True), torch.tensor(C))
    assert isinstance(t, torch.Tensor) and t.requires_grad
    np.testing.assert_allclose(t.detach().numpy(), gc)


def test_c_transform_of_exact_potential():
    x, y, a, b = _problem(seed=9)
    C = cost_matrix(x, y)
    sol = exact_ot(a, b, C)
    gc = c_transform(sol.f, C)
    assert dual_value(sol.f, gc, a, b) == pytest.approx(sol.cost, abs=1e-9)


def test_c_transform_errors():
    with pytest.raises(ValueError, match="h has 2 entries but the cost matrix expects 3"):
        c_transform([0.0, 0.0], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="g has 3 entries"):
        cbar_transform([0.0, 0.0, 0.0], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        c_transform([np.nan, 0.0], np.zeros((2, 2)))
    with pytest.raises(ValueError, match="2-D cost matrix"):
        c_transform([0.0], np.zeros(2))


# ---------------------------------------------------------------- semi-discrete
def test_semidiscrete_converges_on_a_tiny_problem():
    # zeta = U[0, 1], nu = 0.3 delta_0.2 + 0.7 delta_0.7; squared cost.
    # exact: the cell boundary t = 0.3 (monotone map), so W = int_0^.3 (x-.2)^2
    # + int_.3^1 (x-.7)^2
    def sampler(n, rng):
        return rng.uniform(size=(n, 1))

    y, b = np.array([[0.2], [0.7]]), np.array([0.3, 0.7])
    exact = ((0.1**3 + 0.2**3) + (0.3**3 + 0.4**3)) / 3
    res = semidiscrete_ot(sampler, y, b, n_iter=5000, n_eval=200_000, seed=1)
    assert res.converged
    np.testing.assert_allclose(res.cell_masses, b, atol=0.01)
    assert abs(res.value - exact) < 4 * res.value_se + 1e-4
    # optimal dual: the boundary between cells is at 0.3
    # (0.3-0.2)^2 - g0 = (0.3-0.7)^2 - g1  =>  g0 - g1 = 0.01 - 0.16
    assert abs((res.g[0] - res.g[1]) - (0.01 - 0.16)) < 0.01


def test_semidiscrete_warns_and_validates():
    def sampler(n, rng):
        return rng.uniform(size=(n, 1))

    with pytest.warns(RuntimeWarning, match="cell masses differ from b"):
        semidiscrete_ot(sampler, [[0.0], [0.1]], [0.9, 0.1], n_iter=2,
                        n_eval=1000, tol=1e-3)
    with pytest.raises(ValueError, match="sampler"):
        semidiscrete_ot(lambda n, rng: rng.uniform(size=(n, 2)), [[0.0]], n_iter=2)
    with pytest.raises(ValueError, match="n_iter must be a positive integer"):
        semidiscrete_ot(sampler, [[0.0]], n_iter=0)
    with pytest.raises(ValueError, match="must sum to 1"):
        semidiscrete_ot(sampler, [[0.0], [1.0]], [0.5, 0.6])


# ---------------------------------------------------------------- gradients
def _gen(theta, z):
    # an affine 1-D -> 2-D generator with four parameters
    return torch.stack([theta[0] + theta[1] * z[:, 0],
                        theta[2] + torch.sin(theta[3] * z[:, 0])], dim=1)


def test_primal_gradient_matches_finite_differences():
    rng = np.random.default_rng(10)
    z, y = rng.normal(size=(7, 1)), rng.normal(size=(5, 2))
    theta = torch.tensor([0.1, 0.8, -0.2, 1.3], dtype=torch.float64)
    value, grad, sol = envelope_gradient(theta, _gen, z, y)
    fd = torch.zeros(4, dtype=torch.float64)
    h = 1e-6
    for k in range(4):
        e = torch.zeros(4, dtype=torch.float64)
        e[k] = h
        fd[k] = (envelope_gradient(theta + e, _gen, z, y)[0]
                 - envelope_gradient(theta - e, _gen, z, y)[0]) / (2 * h)
    assert torch.allclose(grad, fd, atol=1e-7)
    assert value == pytest.approx(sol.cost)


def test_dual_gradient_fails_at_kinks_and_holds_without_split_mass():
    rng = np.random.default_rng(11)
    z, y = rng.normal(size=(7, 1)), rng.normal(size=(5, 2))
    theta = torch.tensor([0.1, 0.8, -0.2, 1.3], dtype=torch.float64)
    _, grad, sol = envelope_gradient(theta, _gen, z, y)
    dual = dual_gradient(theta, _gen, z, y, sol.g)
    # 7 atoms to 5 targets: some atoms are split, the dual formula is wrong
    assert (dual - grad).abs().max() > 1e-3
    # one atom per target with a unique partner: both agree
    z1, y1 = rng.normal(size=(1, 1)), rng.normal(size=(1, 2))
    _, g1, s1 = envelope_gradient(theta, _gen, z1, y1)
    assert torch.allclose(dual_gradient(theta, _gen, z1, y1, s1.g), g1, atol=1e-12)
    assert torch.allclose(primal_gradient(theta, _gen, z1, y1, s1.plan), g1)


def test_gradient_errors():
    z, y = np.zeros((2, 1)), np.zeros((3, 2))
    with pytest.raises(TypeError, match="theta must be a floating-point torch.Tensor"):
        primal_gradient(np.zeros(4), _gen, z, y, np.full((2, 3), 1 / 6))
    with pytest.raises(ValueError, match=r"plan must have shape \(n, m\) = \(2, 3\)"):
        primal_gradient(torch.zeros(4, dtype=torch.float64), _gen, z, y, np.full((3, 2), 1 / 6))
    with pytest.raises(ValueError, match="g has 2 entries but the data y expects 3"):
        dual_gradient(torch.zeros(4, dtype=torch.float64), _gen, z, y, np.zeros(2))


def test_output_types_follow_inputs():
    x, y, a, b = _problem(n=5, m=4, seed=12)
    C = cost_matrix(x, y)
    res_np = sinkhorn(a, b, C, 0.5)
    assert isinstance(res_np.cost, float) and isinstance(res_np.plan, np.ndarray)
    res_t = sinkhorn(torch.tensor(a), torch.tensor(b), torch.tensor(C), 0.5)
    assert isinstance(res_t.plan, torch.Tensor)
    assert res_t.plan.dtype == torch.float64
    np.testing.assert_allclose(res_t.plan.numpy(), res_np.plan, atol=1e-15)


def test_laguerre_cells_and_semidiscrete_dual():
    # two atoms on the line, g shifts the boundary: (x - 0)^2 - g0 = (x - 1)^2
    # at x = (1 + g0) / 2
    x = np.linspace(0.0, 1.0, 101)[:, None]
    cells = gm.ot.laguerre_cells(x, [[0.0], [1.0]], [0.2, 0.0])
    assert np.all(cells[x[:, 0] < 0.6 - 1e-9] == 0)
    assert np.all(cells[x[:, 0] > 0.6 + 1e-9] == 1)
    value, se = gm.ot.semidiscrete_dual([0.0, 0.0], x, [[0.0], [1.0]])
    expected = np.minimum(x[:, 0] ** 2, (x[:, 0] - 1) ** 2).mean()
    assert value == pytest.approx(expected, abs=1e-15) and se > 0
    with pytest.raises(ValueError, match="g has 1 entries but the support y expects 2"):
        gm.ot.laguerre_cells(x, [[0.0], [1.0]], [0.0])
    with pytest.raises(ValueError, match="g has 1 entries but the support y expects 2"):
        gm.ot.semidiscrete_dual([0.0], x, [[0.0], [1.0]])


def test_dual_value_and_violation_errors():
    with pytest.raises(ValueError, match="g has 2 entries but the weight vector b expects 1"):
        dual_value([0.0], [0.0, 0.0], [1.0], [1.0])
    with pytest.raises(ValueError, match="g has 1 entries but the cost matrix expects 2"):
        dual_violation([0.0], [0.0], np.zeros((1, 2)))
