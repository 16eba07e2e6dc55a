"""Contract tests: one suite that every :class:`gmtheory.Metric` must pass.

Each case is a metric class (or a surface's two metrics); each test is a
property that holds for every Riemannian metric, checked against an
independent route (finite differences, the full tensor, the definition):

- ``M(z)`` is symmetric positive semi-definite;
- ``dM/dz`` from ``evaluate_derivative`` matches central finite differences;
- Christoffel symbols are symmetric in their lower indices and agree with
  the two forms of the geodesic equation;
- ``evaluate_squared_speeds`` (a JVP for pullback and expected metrics)
  equals ``dz^T M dz`` from the full tensor;
- curve length is invariant under reparametrisation, energy is not, and
  ``E >= L^2`` with equality for the discrete constant-speed curve.

A last test shows the extension point: a metric written by subclassing
:class:`gmtheory.Metric` with ``evaluate`` alone runs through the geodesic
solver and gives the closed-form distance of the Poincare half-plane.
"""

from __future__ import annotations

import math

import pytest
import torch

import gmtheory as gm

torch.set_num_threads(1)
DT = torch.float64


def _mlp(sizes, activation, seed):
    return gm.random_mlp(sizes, activation, seed=seed, dtype=DT)


def _expected(noise_var=None):
    mean = _mlp([2, 16, 5], "tanh", 1)
    scale = _mlp([2, 16, 5], "tanh", 2)

    def std(z):
        return torch.nn.functional.softplus(scale(z)) + 0.1

    return gm.ExpectedMetric(mean, std, 2, noise_var=noise_var)


def _conformal(z):
    w = 1.0 + (z ** 2).sum(1)
    return w[:, None, None] * torch.eye(2, dtype=z.dtype)


CASES = {
    "constant": lambda: gm.ConstantMetric(torch.tensor([[2.0, 0.3], [0.3, 1.0]], dtype=DT)),
    "function": lambda: gm.FunctionMetric(_conformal, 2),
    "pullback": lambda: gm.PullbackMetric(_mlp([2, 16, 4], "tanh", 0), 2),
    "expected": _expected,
    "expected-noise-var": lambda: _expected(torch.linspace(0.5, 2.0, 5, dtype=DT)),
    "paraboloid-closed-form": lambda: gm.Paraboloid().metric(),
    "paraboloid-pullback": lambda: gm.Paraboloid().pullback(),
    "sphere-closed-form": lambda: gm.SphereChart().metric(),
    "sphere-pullback": lambda: gm.SphereChart().pullback(),
    "folded-closed-form": lambda: gm.FoldedLine().metric(),
    "folded-pullback": lambda: gm.FoldedLine().pullback(),
}
#: positive semi-definite but never positive definite: no connection
SINGULAR = {"folded-closed-form", "folded-pullback"}


@pytest.fixture(params=sorted(CASES))
def case(request):
    return request.param, CASES[request.param]()


def _points(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    # inside (0.4, 2.6) x (-1.1, 1.1): away from the sphere chart's poles
    return torch.rand(n, 2, generator=g, dtype=DT) * torch.tensor([2.2, 2.2], dtype=DT) \
        + torch.tensor([0.4, -1.1], dtype=DT)


def test_metric_is_symmetric_positive_semidefinite(case):
    _, metric = case
    M = metric(_points())
    assert M.shape == (6, 2, 2)
    torch.testing.assert_close(M, M.transpose(1, 2), rtol=0, atol=1e-12)
    lam = torch.linalg.eigvalsh(M)
    assert float(lam.min()) >= -1e-10 * float(lam.max())


def test_metric_derivative_matches_finite_differences(case):
    _, metric = case
    z, h = _points(), 1e-5
    dM = metric.metric_derivative(z)
    fd = torch.stack([(metric(z + h * e) - metric(z - h * e)) / (2 * h)
                      for e in torch.eye(2, dtype=DT)], dim=-1)
    scale = float(dM.abs().max()) + 1.0
    torch.testing.assert_close(dM, fd, rtol=0, atol=1e-7 * scale)


def test_christoffel_symbols_are_symmetric_and_match_the_equation(case):
    name, metric = case
    z = _points()
    if name in SINGULAR:
        with pytest.raises(ValueError, match="singular"):
            metric.christoffel(z)
        return
    G = metric.christoffel(z)
    torch.testing.assert_close(G, G.transpose(2, 3), rtol=0, atol=1e-12)
    v = torch.randn(6, 2, generator=torch.Generator().manual_seed(3), dtype=DT)
    kron = metric.geodesic_rhs(z, v, form="kronecker")
    torch.testing.assert_close(kron, -torch.einsum("nkij,ni,nj->nk", G, v, v),
                               rtol=1e-10, atol=1e-12)
    # and the free functions are the same methods
    torch.testing.assert_close(gm.christoffel_symbols(metric, z), G)


def test_squared_speeds_override_equals_the_full_tensor(case):
    _, metric = case
    z = _points()
    dz = torch.randn(6, 2, generator=torch.Generator().manual_seed(4), dtype=DT)
    fast = metric.evaluate_squared_speeds(z, dz)
    full = torch.einsum("ni,nij,nj->n", dz, metric.metric_tensor(z), dz)
    torch.testing.assert_close(fast, full, rtol=1e-12, atol=1e-14)


def _curve(s):
    """A curve in the chart's safe box, at parameter values ``s`` in [0, 1]."""
    return torch.stack([1.5 + 0.8 * torch.cos(2.0 * s), 0.9 * torch.sin(3.0 * s)], 1)


def test_length_is_invariant_under_reparametrisation_energy_is_not(case):
    _, metric = case
    t = torch.linspace(0.0, 1.0, 2001, dtype=DT)
    gamma, warped = _curve(t)[None], _curve(t ** 2)[None]
    L, L_w = gm.curve_length(metric, gamma), gm.curve_length(metric, warped)
    torch.testing.assert_close(L, L_w, rtol=1e-5, atol=0.0)
    E, E_w = gm.curve_energy(metric, gamma), gm.curve_energy(metric, warped)
    # t -> t^2 makes the speed vary: energy changes by a visible factor
    # (1.19 to 1.64 over the cases)
    assert float(E_w / E) > 1.1


def test_energy_is_at_least_length_squared_with_equality_at_constant_speed(case):
    name, metric = case
    t = torch.linspace(0.0, 1.0, 401, dtype=DT)
    gamma = _curve(t ** 2)[None]
    L, E = gm.curve_length(metric, gamma), gm.curve_energy(metric, gamma)
    assert float(E) > 1.2 * float(L) ** 2   # 1.25 to 2.16 over the cases
    # the solvers' energy (evaluate_squared_speeds) is the same number
    mid, delta = 0.5 * (gamma[0, 1:] + gamma[0, :-1]), gamma[0, 1:] - gamma[0, :-1]
    E_solver = 400 * metric.evaluate_squared_speeds(mid, delta).sum()
    torch.testing.assert_close(E, E_solver[None], rtol=1e-12, atol=0.0)
    if name in SINGULAR:
        # the folded line measures only s = z1 + z2, which turns back along
        # the curve: there chords are much shorter than arcs, so the
        # polyline below is not of constant speed
        return
    # reparametrised by arclength (inverted on a fine grid): E = L^2
    fine = torch.linspace(0.0, 1.0, 20001, dtype=DT)
    cum = torch.cat([torch.zeros(1, dtype=DT),
                     gm.segment_lengths(metric, _curve(fine)[None])[0].cumsum(0)])
    targets = torch.linspace(0.0, float(cum[-1]), 51, dtype=DT)
    idx = torch.searchsorted(cum, targets).clamp(1, fine.shape[0] - 1)
    w = (targets - cum[idx - 1]) / (cum[idx] - cum[idx - 1])
    even = _curve(fine[idx - 1] + w * (fine[idx] - fine[idx - 1]))[None]
    L_e, E_e = gm.curve_length(metric, even), gm.curve_energy(metric, even)
    torch.testing.assert_close(E_e, L_e ** 2, rtol=1e-4, atol=0.0)


class HalfPlane(gm.Metric):
    r"""The Poincare half-plane, :math:`M(x, y) = I / y^2`: ``evaluate`` only."""

    psd_by_construction = False

    def __init__(self):
        super().__init__(2)

    def evaluate(self, z):
        return torch.eye(2, dtype=z.dtype) / z[:, 1, None, None] ** 2


def test_a_new_metric_plugs_into_the_solvers_by_subclassing_alone():
    metric = HalfPlane()
    z0 = torch.tensor([-1.0, 1.0], dtype=DT)
    z1 = torch.tensor([1.0, 1.0], dtype=DT)
    r = gm.geodesic(metric, z0, z1, n_points=33, tol=1e-8)
    exact = math.acosh(1.0 + float(((z1 - z0) ** 2).sum()) / 2.0)   # acosh 3
    assert r.converged
    assert math.isclose(float(r.length), exact, rel_tol=2e-3)
    # the straight line is longer by far more than the tolerance
    line = gm.straight_line(z0, z1, 400)
    assert float(gm.curve_length(metric, line)) > 1.05 * exact
