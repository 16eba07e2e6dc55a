"""Tests of the geodesic equation, the geodesic solvers and graph initialisation."""

from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path

import pytest
import torch

import gmtheory as gm

DT = torch.float64


def mlp(d: int = 2, D: int = 10, hidden: int = 32, seed: int = 0):
    """A fixed, smooth (tanh) decoder d -> D."""
    g = torch.Generator().manual_seed(seed)
    W1 = torch.randn(hidden, d, generator=g, dtype=DT)
    W2 = torch.randn(hidden, hidden, generator=g, dtype=DT) / hidden ** 0.5
    W3 = torch.randn(D, hidden, generator=g, dtype=DT) / hidden ** 0.5

    def f(z):
        return torch.tanh(torch.tanh(z @ W1.T) @ W2.T) @ W3.T

    return f


@pytest.fixture(scope="module")
def sphere():
    return gm.SphereChart().metric()


@pytest.fixture(scope="module")
def net_metric():
    return gm.PullbackMetric(mlp(), 2)


# --------------------------------------------------------------------------
# the geodesic equation
# --------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["sphere", "net"])
def test_kronecker_and_christoffel_forms_agree(which, sphere, net_metric):
    metric = sphere if which == "sphere" else net_metric
    g = torch.Generator().manual_seed(1)
    z = torch.rand(50, 2, generator=g, dtype=DT) * 2 + 0.5
    v = torch.randn(50, 2, generator=g, dtype=DT)
    a = gm.geodesic_rhs(metric, z, v, form="kronecker")
    b = gm.geodesic_rhs(metric, z, v, form="christoffel")
    assert a.shape == (50, 2)
    assert float((a - b).abs().max()) <= 1e-12 * float(a.abs().max())


def test_christoffel_symbols_of_the_sphere(sphere):
    th = torch.tensor([0.4, 1.1, 2.3], dtype=DT)
    z = torch.stack([th, torch.zeros(3, dtype=DT)], 1)
    G = gm.christoffel_symbols(sphere, z)
    expected = torch.zeros(3, 2, 2, 2, dtype=DT)
    expected[:, 0, 1, 1] = -th.sin() * th.cos()
    expected[:, 1, 0, 1] = expected[:, 1, 1, 0] = th.cos() / th.sin()
    torch.testing.assert_close(G, expected, rtol=1e-13, atol=1e-14)


def test_euler_lagrange_residual_detects_a_sign_error(net_metric):
    def curve(t):
        return torch.stack([0.3 + t + 0.2 * torch.sin(3 * t), 0.5 * t ** 2 - 0.2], 1)

    t = torch.linspace(0.1, 0.9, 9, dtype=DT)
    res, pred = gm.euler_lagrange_residual(net_metric, curve, t)
    rel = float((res - pred).norm() / res.norm())
    assert rel < 1e-6

    def flipped(z, v):
        M = net_metric(z)
        dM = net_metric.metric_derivative(z)
        first = torch.einsum("nijk,nk,nj->ni", dM, v, v)
        second = torch.einsum("nijk,ni,nj->nk", dM, v, v)
        return -0.5 * torch.linalg.solve(M, (2 * first + second)[..., None])[..., 0]

    res2, pred2 = gm.euler_lagrange_residual(net_metric, curve, t, rhs=flipped)
    assert float((res2 - pred2).norm() / res2.norm()) > 0.1


# --------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["energy", "bvp"])
def test_sphere_distance_is_the_great_circle_distance(method, sphere):
    z0 = torch.tensor([1.0, 0.3], dtype=DT)
    z1 = torch.tensor([2.0, 2.5], dtype=DT)
    r = gm.geodesic(sphere, z0, z1, method=method)
    gc = float(gm.great_circle_distance(z0[None], z1[None]))
    assert r.converged and r.method == method
    assert abs(r.length - gc) < 1e-6
    assert r.ode_residual < 1e-3


def test_long_arc_also_solves_the_ode(sphere):
    z0 = torch.tensor([math.pi / 2, 0.0], dtype=DT)
    z1 = torch.tensor([math.pi / 2, 2.0 - 2 * math.pi], dtype=DT)
    r = gm.geodesic(sphere, z0, z1, method="bvp")
    assert r.converged
    assert abs(r.length - (2 * math.pi - 2.0)) < 1e-6


def test_flat_metric_gives_straight_lines():
    A = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=DT)
    m = gm.ConstantMetric(A)
    z0 = torch.tensor([-1.0, 0.5], dtype=DT)
    z1 = torch.tensor([2.0, -1.0], dtype=DT)
    r = gm.geodesic(m, z0, z1, n_points=17)
    line = gm.straight_line(z0, z1, 16)
    torch.testing.assert_close(r.curve, line, rtol=0, atol=1e-9)
    d = z1 - z0
    assert abs(r.length - float(d @ A @ d) ** 0.5) < 1e-10


@pytest.mark.parametrize("method", ["energy", "bvp"])
def test_affine_decoder_gives_the_mahalanobis_distance(method):
    g = torch.Generator().manual_seed(3)
    A = torch.randn(5, 3, generator=g, dtype=DT)
    b = torch.randn(5, generator=g, dtype=DT)
    m = gm.PullbackMetric(lambda z: z @ A.T + b, 3)
    z0 = torch.tensor([0.1, -0.2, 0.3], dtype=DT)
    z1 = torch.tensor([1.0, 0.4, -0.5], dtype=DT)
    r = gm.geodesic(m, z0, z1, method=method, n_points=9)
    d = z1 - z0
    assert abs(r.length - float(d @ A.T @ A @ d) ** 0.5) < 1e-9


# --------------------------------------------------------------------------
# invariants and agreement
# --------------------------------------------------------------------------

PAIRS = torch.tensor([[[-1.0, -0.8], [1.2, 0.9]],
                      [[0.5, -1.5], [-0.7, 1.4]],
                      [[-1.5, 0.3], [1.4, -0.2]]], dtype=DT)


@pytest.fixture(scope="module")
def net_results(net_metric):
    return gm.geodesics(net_metric, PAIRS[:, 0], PAIRS[:, 1])


def test_invariants(net_metric, net_results):
    for (z0, z1), r in zip(PAIRS, net_results):
        assert r.converged and r.iterations > 0 and r.method == "energy"
        assert r.curve.shape == (65, 2)
        assert torch.equal(r.curve[0], z0) and torch.equal(r.curve[-1], z1)
        assert r.length ** 2 <= r.energy * (1 + 1e-12)
        assert r.energy <= r.length ** 2 * (1 + 1e-3)   # nearly constant speed
        line = gm.straight_line(z0, z1, 64)
        L_line, E_line = gm.spline_length_energy(net_metric, line)
        assert r.length < float(L_line)
        assert r.energy < float(E_line)
        assert r.ode_residual < 0.02
        assert len(r.energy_history) == r.iterations


def test_solvers_agree(net_metric, net_results):
    z0, z1 = PAIRS[0]
    b = gm.geodesic(net_metric, z0, z1, method="bvp", init=net_results[0].curve)
    assert b.converged
    assert abs(b.length - net_results[0].length) / b.length < 1e-4
    torch.testing.assert_close(b.curve, net_results[0].curve, rtol=0, atol=5e-3)


def test_batched_equals_one_at_a_time(net_metric, net_results):
    for (z0, z1), rb in zip(PAIRS[:2], net_results):
        r1 = gm.geodesic(net_metric, z0, z1)
        assert abs(r1.length - rb.length) < 1e-8


def test_spline_length_energy_cauchy_schwarz(sphere):
    t = torch.linspace(0, 1, 33, dtype=DT)
    c = torch.stack([0.5 + t ** 3, 2 * t], 1)     # non-constant speed
    L, E = gm.spline_length_energy(sphere, c)
    assert float(L) ** 2 < float(E) * 0.99


# --------------------------------------------------------------------------
# graph initialisation
# --------------------------------------------------------------------------

def test_graph_path_on_a_line_visits_points_in_order():
    pts = torch.linspace(0.1, 0.9, 9, dtype=DT)[:, None] * torch.tensor([[1.0, 2.0, 3.0]],
                                                                       dtype=DT)
    path = gm.graph_shortest_path(pts, torch.zeros(3, dtype=DT),
                                  torch.tensor([1.0, 2.0, 3.0], dtype=DT),
                                  n_neighbors=2)
    assert bool((path[1:, 0] > path[:-1, 0]).all())
    length = float((path[1:] - path[:-1]).norm(dim=1).sum())
    assert abs(length - 14 ** 0.5) < 1e-12


def test_graph_initialisation_in_three_dimensions():
    g = torch.Generator().manual_seed(0)
    m = gm.PullbackMetric(mlp(d=3, D=6, seed=2), 3)
    pts = torch.randn(120, 3, generator=g, dtype=DT)
    z0, z1 = pts[0], pts[1]
    path = gm.graph_shortest_path(pts, z0, z1, metric=m, n_neighbors=8)
    assert torch.equal(path[0], z0) and torch.equal(path[-1], z1)
    L_path = float(gm.curve_length(m, path))
    r = gm.geodesic(m, z0, z1, graph_points=pts, n_neighbors=8)
    assert r.converged
    assert r.length <= L_path + 1e-9
    assert r.length <= float(gm.spline_length_energy(m, gm.straight_line(z0, z1, 64))[0])


# --------------------------------------------------------------------------
# error paths
# --------------------------------------------------------------------------

def test_disconnected_graph_raises():
    a = torch.randn(20, 2, dtype=DT) * 0.1
    pts = torch.cat([a, a + 100.0])
    with pytest.raises(ValueError, match="unreachable.*increase n_neighbors"):
        gm.graph_shortest_path(pts, a[0], a[0] + 100.0, n_neighbors=3)


def test_bad_endpoints_raise(sphere):
    good = torch.tensor([1.0, 0.0], dtype=DT)
    with pytest.raises(ValueError, match="NaN"):
        gm.geodesic(sphere, torch.tensor([float("nan"), 0.0], dtype=DT), good)
    with pytest.raises(ValueError, match="single point"):
        gm.geodesic(sphere, good[None], good)
    with pytest.raises(ValueError, match="dimension 3 but the metric expects 2"):
        gm.geodesic(sphere, good, torch.ones(3, dtype=DT))
    with pytest.raises(TypeError, match="floating dtype"):
        gm.geodesic(sphere, torch.tensor([1, 0]), good)
    with pytest.raises(TypeError, match="gmtheory Metric"):
        gm.geodesic(lambda z: z, good, good)
    with pytest.raises(ValueError, match="same shape"):
        gm.geodesics(sphere, torch.ones(3, 2, dtype=DT), torch.ones(2, 2, dtype=DT))


def test_bad_options_raise(sphere):
    z0 = torch.tensor([1.0, 0.0], dtype=DT)
    z1 = torch.tensor([1.5, 1.0], dtype=DT)
    with pytest.raises(ValueError, match="method must be one of"):
        gm.geodesic(sphere, z0, z1, method="shooting")
    with pytest.raises(ValueError, match="n_points must be an integer >= 5"):
        gm.geodesic(sphere, z0, z1, n_points=3)
    with pytest.raises(ValueError, match="not both"):
        gm.geodesic(sphere, z0, z1, init=gm.straight_line(z0, z1, 4),
                    graph_points=torch.randn(10, 2, dtype=DT))
    with pytest.raises(ValueError, match="must start at z0"):
        gm.geodesic(sphere, z0, z1, init=gm.straight_line(z1, z0, 4))
    with pytest.raises(TypeError, match="unknown option"):
        gm.geodesics(sphere, z0[None], z1[None], steps=3)
    with pytest.raises(ValueError, match="form must be"):
        gm.geodesic_rhs(sphere, z0[None], z1[None], form="extrinsic")
    with pytest.raises(ValueError, match="same shape"):
        gm.geodesic_rhs(sphere, z0[None], torch.ones(2, 2, dtype=DT))


def test_singular_metric_raises():
    folded = gm.FoldedLine().pullback()
    z0 = torch.tensor([0.0, 0.0], dtype=DT)
    z1 = torch.tensor([1.0, 0.5], dtype=DT)
    for method in ["energy", "bvp"]:
        with pytest.raises(ValueError, match="positive definite"):
            gm.geodesic(folded, z0, z1, method=method)
    with pytest.raises(ValueError, match="positive definite"):
        gm.geodesic_rhs(folded, z0[None], z1[None])
    # the sphere chart is singular at its pole
    with pytest.raises(ValueError, match="singular"):
        gm.geodesic(gm.SphereChart().metric(), torch.tensor([0.0, 0.0], dtype=DT),
                    torch.tensor([1.0, 1.0], dtype=DT))


def test_non_convergence_warns(net_metric):
    with pytest.warns(RuntimeWarning, match="did not converge"):
        r = gm.geodesic(net_metric, PAIRS[0, 0], PAIRS[0, 1], max_iter=2)
    assert not r.converged
    assert r.iterations == 2
    assert "maximum number of iterations" in r.message


def test_batched_non_convergence_warns_once_naming_the_pairs(net_metric):
    with pytest.warns(RuntimeWarning, match=r"pairs \[0, 1\] of 2") as rec:
        rs = gm.geodesics(net_metric, PAIRS[:2, 0], PAIRS[:2, 1], max_iter=1)
    assert len([w for w in rec if w.category is RuntimeWarning]) == 1
    assert not any(r.converged for r in rs)


def ridge_metric():
    """Flat metric with a thin ridge of height 100 along z_1 = 0."""
    def fn(z):
        c = 1 + 100 * torch.exp(-(z[:, 0] / 0.01) ** 2)
        return c[:, None, None] * torch.eye(2, dtype=z.dtype).expand(z.shape[0], 2, 2)
    return gm.FunctionMetric(fn, 2)


def test_unresolved_metric_is_refined_or_reported():
    m = ridge_metric()
    z0 = torch.tensor([-1.0, 0.1], dtype=DT)
    z1 = torch.tensor([1.0, -0.2], dtype=DT)
    with pytest.warns(RuntimeWarning, match="does not resolve the metric"):
        coarse = gm.geodesic(m, z0, z1, max_refine=0)
    assert not coarse.converged
    fine = gm.geodesic(m, z0, z1)
    assert fine.converged and fine.curve.shape[0] > 65
    polyline = float(gm.curve_length(m, fine.curve))
    assert abs(polyline - fine.length) <= 1e-3 * fine.length
    # the refined curve must pay for crossing the ridge
    assert fine.length > float((z1 - z0).norm())


def test_unresolved_metric_advice_says_more_points(recwarn):
    # the ridge needs finer segments: the message and the warning say so,
    # and do not claim the curve ran off
    m = ridge_metric()
    z0, z1 = torch.tensor([-1.0, 0.1], dtype=DT), torch.tensor([1.0, -0.2], dtype=DT)
    r = gm.geodesic(m, z0, z1, max_refine=0)
    assert r.message.endswith("increase n_points or max_refine")
    assert "ran off" not in r.message
    (w,) = [w for w in recwarn if w.category is RuntimeWarning]
    assert "Increase max_iter" not in str(w.message)


def vanishing_metric():
    """Conformal metric exp(-|z - c|^2 / 2) I around c = (0, -1): it decays
    away from c the way a saturating decoder's pullback decays away from its
    data, so long detours upwards are cheap and the energy has no minimiser."""
    def fn(z):
        c = torch.tensor([0.0, -1.0], dtype=z.dtype)
        w = torch.exp(-((z - c) ** 2).sum(-1) / 2) + 1e-12
        return w[:, None, None] * torch.eye(2, dtype=z.dtype)
    return gm.FunctionMetric(fn, 2)


def test_a_curve_that_runs_off_is_reported_as_such():
    z0, z1 = torch.tensor([-2.0, 0.0], dtype=DT), torch.tensor([2.0, 0.0], dtype=DT)
    with pytest.warns(RuntimeWarning, match="ran off") as rec:
        r = gm.geodesic(vanishing_metric(), z0, z1)
    assert not r.converged
    assert "more points do not help" in r.message
    assert "Increase max_iter" not in str(rec[0].message)
    # what the message reports is true of the returned curve: it left the
    # endpoints' region by far, in a few long strides
    steps = (r.curve[1:] - r.curve[:-1]).norm(dim=-1)
    assert float(r.curve.norm(dim=-1).max()) > 5 * 2.0
    assert float(steps.max() / steps.median()) > 100
    # and the detour is shorter than the straight line: running off pays
    line = gm.straight_line(z0, z1, 257)
    assert r.length < 0.5 * float(gm.curve_length(vanishing_metric(), line))


def test_pullback_energy_by_jvp_equals_curve_energy(net_metric):
    # the solver's fast route (one Jacobian-vector product per segment)
    # must give the discrete energy of gm.curve_energy and its gradient
    from gmtheory.geometry.energy_solver import polyline_energy
    g = torch.Generator().manual_seed(3)
    c = torch.randn(3, 17, 2, generator=g, dtype=DT)
    a = c.clone().requires_grad_(True)
    b = c.clone().requires_grad_(True)
    Ea, Eb = polyline_energy(net_metric, a), gm.curve_energy(net_metric, b)
    (ga,) = torch.autograd.grad(Ea.sum(), a)
    (gb,) = torch.autograd.grad(Eb.sum(), b)
    torch.testing.assert_close(Ea, Eb, rtol=1e-12, atol=0)
    torch.testing.assert_close(ga, gb, rtol=1e-10, atol=1e-12)


def test_resolution_probe_does_not_change_the_refined_geodesic(monkeypatch):
    # checking resolution at a loose tolerance first must lead to the same
    # refined, converged geodesic as converging every level to tol
    from gmtheory.geometry import energy_solver, geodesic_starts
    m = ridge_metric()
    z0 = torch.tensor([-1.0, 0.1], dtype=DT)
    z1 = torch.tensor([1.0, -0.2], dtype=DT)
    fast = gm.geodesic(m, z0, z1)
    # probe disabled: in the refinement and in the multistart that uses it
    monkeypatch.setattr(energy_solver, "PROBE_TOL", 0.0)
    monkeypatch.setattr(geodesic_starts, "PROBE_TOL", 0.0)
    slow = gm.geodesic(m, z0, z1)
    assert fast.converged and slow.converged
    assert fast.curve.shape == slow.curve.shape
    # the ridge makes the discrete energy multimodal (where the vertices sit
    # on the ridge), so the two routes may end in different discrete minima
    # (measured: lengths 2.4e-5 apart, curves up to 0.06 apart); what the
    # solver promises is the resolution tolerance, while skipping the
    # refinement would be 9 % too short
    assert abs(fast.length - slow.length) <= energy_solver.RESOLUTION_RTOL * slow.length


# --------------------------------------------------------------------------
# float32 decoders
# --------------------------------------------------------------------------

def _float32_mlp(seed: int = 0) -> torch.nn.Module:
    """A float32 torch decoder 2 -> 64, as users train them."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(2, 32), torch.nn.Tanh(), torch.nn.Linear(32, 32),
        torch.nn.Tanh(), torch.nn.Linear(32, 64)).eval()


def test_float32_decoder_converges_like_its_float64_copy():
    net = _float32_mlp()
    net64 = _float32_mlp().double()          # the same weights in float64
    Z0 = 1.2 * torch.tensor([[-1.0, -0.6], [0.3, -1.0], [-0.9, 0.8]])
    Z1 = 1.2 * torch.tensor([[0.9, 0.7], [-0.2, 1.0], [1.0, -0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # no "did not converge"
        r32 = gm.geodesics(gm.PullbackMetric(net, 2), Z0, Z1)
    r64 = gm.geodesics(gm.PullbackMetric(net64, 2), Z0.double(), Z1.double())
    for a, b, z0, z1 in zip(r32, r64, Z0, Z1):
        assert a.converged and a.solve_dtype == "float64"
        # the caller's dtype and exact endpoints
        assert a.curve.dtype == torch.float32
        assert torch.equal(a.curve[0], z0) and torch.equal(a.curve[-1], z1)
        # the float32 weights are float64 numbers: the same geodesic
        assert a.length == pytest.approx(b.length, rel=1e-9)
    assert net[0].weight.dtype == torch.float32          # input untouched


def test_float32_closure_solves_in_float32_with_a_scaled_tolerance():
    W = torch.randn(10, 2, generator=torch.Generator().manual_seed(3))

    def f(z):                                # closure over float32 weights
        return torch.tanh(z.float() @ W.T)

    z0, z1 = torch.tensor([-0.8, 0.1]), torch.tensor([0.7, 0.4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = gm.geodesic(gm.PullbackMetric(f, 2), z0, z1, multistart=False)
    assert r.converged and r.solve_dtype == "float32"
    assert r.curve.dtype == torch.float32
    W64 = W.double()
    ref = gm.geodesic(gm.PullbackMetric(lambda z: torch.tanh(z @ W64.T), 2),
                      z0.double(), z1.double(), multistart=False)
    # the loose tolerance costs O(tol^2) in energy: length to ~1e-5
    assert r.length == pytest.approx(ref.length, rel=1e-5)


def test_float64_points_with_a_float32_decoder():
    net = _float32_mlp(1)
    r = gm.geodesic(gm.PullbackMetric(net, 2), torch.zeros(2, dtype=DT),
                    torch.ones(2, dtype=DT))
    assert r.converged and r.curve.dtype == DT


# --------------------------------------------------------------------------
# global starts
# --------------------------------------------------------------------------

def _two_routes_metric() -> gm.FunctionMetric:
    """The benchmark's conformal metric with two routes from (-1, 0) to
    (1, 0): a costly bump just below the segment pushes the straight-line
    start over it (a local geodesic); the shortest route goes under it
    through a cheap valley."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "geodesics.py"
    spec = importlib.util.spec_from_file_location("_bench_geodesics", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench.two_routes_metric()


def test_multistart_finds_the_shorter_of_two_routes():
    m = _two_routes_metric()
    z0, z1 = torch.tensor([-1.0, 0.0], dtype=DT), torch.tensor([1.0, 0.0], dtype=DT)
    local = gm.geodesic(m, z0, z1, multistart=False)
    best = gm.geodesic(m, z0, z1)
    assert local.converged and best.converged
    assert local.start == "line" and best.start == "grid"
    # the straight-line start ends above the bump, the global one below
    assert float(local.curve[:, 1].max()) > 0.3
    assert float(best.curve[:, 1].min()) < -0.5
    assert best.length < 0.95 * local.length
    # an independent solver (collocation on the ODE) confirms both curves
    for r in (local, best):
        bvp = gm.geodesic(m, z0, z1, method="bvp", init=r.curve)
        assert bvp.converged
        assert bvp.length == pytest.approx(r.length, rel=1e-5)
    # never longer than the straight line
    line = gm.spline_length_energy(m, gm.straight_line(z0, z1, 64))[0]
    assert best.length <= float(line)


def test_multistart_over_given_codes_and_in_a_batch():
    m = _two_routes_metric()
    Z0 = torch.tensor([[-1.0, 0.0], [-1.0, 0.5]], dtype=DT)
    Z1 = torch.tensor([[1.0, 0.0], [1.0, 0.5]], dtype=DT)
    codes = gm.latent_grid(torch.cat([Z0, Z1]), 12)
    rs = gm.geodesics(m, Z0, Z1, graph_points=codes)
    one = [gm.geodesic(m, a, b, graph_points=codes) for a, b in zip(Z0, Z1)]
    assert rs[0].start == "graph"
    for r, s in zip(rs, one):
        assert r.start == s.start
        assert r.length == pytest.approx(s.length, rel=1e-10)
    assert rs[0].length < 0.95 * gm.geodesic(m, Z0[0], Z1[0],
                                              multistart=False).length


def test_multistart_options_are_checked(sphere):
    z0, z1 = torch.tensor([0.9, 0.2]), torch.tensor([2.1, 2.4])
    with pytest.raises(ValueError, match="multistart=True needs method='energy'"):
        gm.geodesic(sphere, z0, z1, method="bvp", multistart=True)
    with pytest.raises(TypeError, match="multistart must be"):
        gm.geodesic(sphere, z0, z1, multistart="yes")
    m4 = gm.ConstantMetric(torch.eye(4, dtype=DT))
    with pytest.raises(ValueError, match="needs graph_points"):
        gm.geodesic(m4, torch.zeros(4, dtype=DT), torch.ones(4, dtype=DT),
                    multistart=True)
    # d = 4 by default: the straight line only
    r = gm.geodesic(m4, torch.zeros(4, dtype=DT), torch.ones(4, dtype=DT))
    assert r.start == "line" and r.length == pytest.approx(2.0, rel=1e-12)


def test_latent_grid_box_and_errors():
    P = torch.tensor([[0.0, 1.0], [2.0, 1.0]])
    G = gm.latent_grid(P, 5, margin=0.5)
    assert G.shape == (25, 2)
    assert torch.allclose(G.min(0).values, torch.tensor([-0.5, -0.5]))
    assert torch.allclose(G.max(0).values, torch.tensor([2.5, 2.5]))
    with pytest.raises(ValueError, match="per_dim"):
        gm.latent_grid(P, 1)
    with pytest.raises(ValueError, match="margin"):
        gm.latent_grid(P, 3, margin=-1.0)


def test_multistart_raises_for_a_disconnected_user_graph():
    a = torch.randn(20, 2, dtype=DT, generator=torch.Generator().manual_seed(0))
    pts = torch.cat([0.1 * a, 0.1 * a + 100.0])
    m = gm.ConstantMetric(torch.eye(2, dtype=DT))
    with pytest.raises(ValueError, match="unreachable"):
        gm.geodesic(m, pts[0], pts[-1], graph_points=pts, n_neighbors=3)
