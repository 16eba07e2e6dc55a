"""Invariants the book rests on, checked on generated inputs (Hypothesis).

Each property is checked against an independent route where one exists
(POT's network simplex, the LP, a closed form) and on awkward inputs that
hand-written tests tend to miss: zero weights, ties in the cost, duplicated
points, n != m, float32 weights, coordinates near 1e±150.

The Hypothesis profile is bounded and derandomised, so the examples are the
same on every run (CI is reproducible) and the module adds well under a
minute on two cores. ``GMTHEORY_HYPOTHESIS=thorough`` runs ten times as many
examples, with fresh random ones, for a local hunt.
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import ot as pot
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import gmtheory as gm
from gmtheory import ot as gmot

settings.register_profile(
    "ci", max_examples=25, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "thorough", max_examples=250, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow])
PROFILE = settings.get_profile(os.environ.get("GMTHEORY_HYPOTHESIS", "ci"))

DT = torch.float64


# ----------------------------------------------------------------- strategies

@st.composite
def weights(draw, n: int, zeros: bool = True) -> np.ndarray:
    """A probability vector of length n, with zero entries if ``zeros``."""
    low = 0 if zeros else 1
    counts = draw(st.lists(st.integers(low, 6), min_size=n, max_size=n)
                  .filter(lambda c: sum(c) > 0))
    w = np.asarray(counts, dtype=float)
    return w / w.sum()


@st.composite
def transport_problems(draw, max_size: int = 6):
    """(a, b, C): sizes 1..max_size (n != m allowed), weights with zeros,
    costs with ties (a small integer grid) or from duplicated points."""
    n = draw(st.integers(1, max_size))
    m = draw(st.integers(1, max_size))
    a, b = draw(weights(n)), draw(weights(m))
    if draw(st.booleans()):  # integer costs: many ties
        C = np.asarray(draw(st.lists(st.integers(0, 3), min_size=n * m,
                                     max_size=n * m)), float).reshape(n, m)
    else:  # squared distances between points on a grid, duplicates likely
        grid = st.tuples(st.integers(-2, 2), st.integers(-2, 2))
        x = np.asarray(draw(st.lists(grid, min_size=n, max_size=n)), float)
        y = np.asarray(draw(st.lists(grid, min_size=m, max_size=m)), float)
        C = gmot.cost_matrix(x, y, p=2)
    return a, b, C


finite = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False)


# ----------------------------------------------------------- weights, dtypes

@PROFILE
@given(n=st.integers(1, 400), seed=st.integers(0, 2**31 - 1),
       softmax=st.booleans())
def test_float32_probability_vectors_are_accepted(n, seed, softmax):
    """Weights normalised in float32 pass validate_weights and kl (issue 12);
    the advice of the error message, dividing by the sum, always works."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, generator=g)
    w = torch.softmax(x, 0) if softmax else x.abs() / x.abs().sum()
    assume(bool((w > 0).any()))
    checked = gmot.validate_weights(w, "w")
    assert abs(checked.sum() - 1.0) <= n * np.finfo(np.float64).eps
    assert gmot.kl(w, w) == pytest.approx(0.0, abs=1e-12)
    assert gmot.validate_weights(torch.full((n,), 1 / n), "u").shape == (n,)


@PROFILE
@given(n=st.integers(1, 400), off=st.floats(1e-3, 0.5))
def test_a_clearly_unnormalised_vector_is_still_rejected(n, off):
    """The dtype-aware tolerance stays far below a real normalisation error."""
    w = np.full(n, (1.0 + off) / n, dtype=np.float32)
    with pytest.raises(ValueError, match="must sum to 1"):
        gmot.validate_weights(w, "w")


# ------------------------------------------------------------------ exact OT

@PROFILE
@given(problem=transport_problems())
def test_exact_ot_plan_marginals_duality(problem):
    a, b, C = problem
    res = gmot.exact_ot(a, b, C)
    P, scale = res.plan, 1.0 + np.abs(C).max()
    assert res.converged
    assert (P >= 0).all()
    np.testing.assert_allclose(P.sum(1), a, atol=1e-9)
    np.testing.assert_allclose(P.sum(0), b, atol=1e-9)
    assert res.cost == pytest.approx((P * C).sum(), abs=1e-9 * scale)
    # the duals are feasible and close the gap
    assert gmot.dual_violation(res.f, res.g, C) <= 1e-9 * scale
    gap = res.cost - gmot.dual_value(res.f, res.g, a, b)
    assert abs(gap) <= 1e-9 * scale
    # an independent solver: POT's network simplex
    assert res.cost == pytest.approx(pot.emd2(a, b, C), abs=1e-9 * scale)


@PROFILE
@given(n=st.integers(1, 7), seed=st.integers(0, 10_000))
def test_assignment_equals_exact_ot_with_uniform_weights(n, seed):
    rng = np.random.default_rng(seed)
    C = rng.integers(0, 4, size=(n, n)).astype(float)  # ties
    u = np.full(n, 1.0 / n)
    res = gmot.assignment_ot(C)
    assert sorted(res.permutation.tolist()) == list(range(n))
    assert res.cost == pytest.approx(gmot.exact_ot(u, u, C).cost, abs=1e-12)


# ------------------------------------------------------------- c-transforms

@PROFILE
@given(problem=transport_problems(),
       data=st.data())
def test_c_transform_is_feasible_and_improves_the_dual(problem, data):
    a, b, C = problem
    n, m = C.shape
    h = np.asarray(data.draw(st.lists(finite, min_size=n, max_size=n)))
    hc = gmot.c_transform(h, C)
    # feasible: h_i + h^c_j <= C_ij, tight in every column
    assert gmot.dual_violation(h, hc, C) <= 1e-12
    # the largest feasible partner: any feasible g is below h^c entrywise,
    # so replacing g by h^c improves the dual value
    g = np.asarray(data.draw(st.lists(finite, min_size=m, max_size=m)))
    g = np.minimum(g, (C - h[:, None]).min(0))  # make (h, g) feasible
    assert (hc >= g - 1e-12).all()
    assert gmot.dual_value(h, hc, a, b) >= gmot.dual_value(h, g, a, b) - 1e-12
    # transforming back improves the other side too, and weak duality
    # bounds every feasible value by the exact optimum (an LP solve)
    f = gmot.cbar_transform(hc, C)
    assert (f >= h - 1e-12).all()
    value = gmot.dual_value(f, hc, a, b)
    assert value >= gmot.dual_value(h, hc, a, b) - 1e-12
    assert value <= gmot.exact_ot(a, b, C).cost + 1e-9 * (1 + np.abs(C).max())


# ----------------------------------------------------------------- Sinkhorn

@PROFILE
@given(problem=transport_problems(), eps=st.floats(0.05, 2.0),
       max_iter=st.integers(1, 300))
def test_sinkhorn_meets_its_tolerance_or_warns(problem, eps, max_iter):
    a, b, C = problem
    tol = 1e-9
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = gmot.sinkhorn(a, b, C, eps, max_iter=max_iter, tol=tol)
    warned = any(issubclass(w.category, RuntimeWarning)
                 and "Not converged" in str(w.message) for w in caught)
    # the violation, recomputed from the returned plan
    violation = np.abs(res.plan.sum(1) - a).sum()
    assert violation == pytest.approx(res.violation, rel=1e-6, abs=1e-12)
    np.testing.assert_allclose(res.plan.sum(0), b, atol=1e-12)
    if res.converged:
        assert violation < tol + 1e-12 and not warned
    else:
        assert warned and violation >= tol * (1 - 1e-6)
        assert res.message.startswith("Not converged") and "max_iter" in res.message


@PROFILE
@given(n=st.integers(1, 5), m=st.integers(1, 5), seed=st.integers(0, 10_000))
def test_sinkhorn_accepts_float32_weights(n, m, seed):
    """Weights normalised in float32 are not a reason to miss the tolerance:
    they are renormalised, so both marginals have the same mass."""
    g = torch.Generator().manual_seed(seed)
    a = torch.softmax(torch.randn(n, generator=g), 0)
    b = torch.softmax(torch.randn(m, generator=g), 0)
    C = torch.rand(n, m, generator=g, dtype=DT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = gmot.sinkhorn(a, b, C, 0.5)
    assert res.converged and res.violation < 1e-9


# ------------------------------------------------------------------ 1-D W_p

@PROFILE
@given(data=st.data(), p=st.sampled_from([1.0, 1.5, 2.0, 3.0]))
def test_wasserstein_1d_equals_the_linear_programme(data, p):
    n, m = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6))
    coords = st.integers(-4, 4).map(float)  # ties and duplicated points
    x = np.asarray(data.draw(st.lists(coords, min_size=n, max_size=n)))
    y = np.asarray(data.draw(st.lists(coords, min_size=m, max_size=m)))
    a, b = data.draw(weights(n)), data.draw(weights(m))
    lp = gmot.exact_ot(a, b, np.abs(x[:, None] - y[None, :]) ** p).cost
    w = gmot.wasserstein_1d(x, y, a, b, p=p)
    assert w ** p == pytest.approx(lp, rel=1e-9, abs=1e-12)
    if p == 1.0:
        assert gmot.wasserstein_1d_cdf(x, y, a, b) == pytest.approx(
            w, rel=1e-9, abs=1e-12)


@PROFILE
@given(data=st.data(), p=st.sampled_from([1.0, 2.0, 3.0]),
       exponent=st.integers(-150, 150))
def test_wasserstein_1d_is_homogeneous_without_overflow(data, p, exponent):
    """W_p(s x, s y) = s W_p(x, y), for s from 1e-150 to 1e150: the p-th
    powers of gaps near 1e150 must neither overflow nor underflow."""
    n, m = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    x = np.asarray(data.draw(st.lists(finite, min_size=n, max_size=n)))
    y = np.asarray(data.draw(st.lists(finite, min_size=m, max_size=m)))
    s = 10.0 ** exponent
    ref = gmot.wasserstein_1d(x, y, p=p)
    assert gmot.wasserstein_1d(s * x, s * y, p=p) == pytest.approx(
        s * ref, rel=1e-12, abs=0.0)


# -------------------------------------------------------------- metric classes

def _check_metric_or_raises(metric: gm.Metric, z: torch.Tensor) -> None:
    """The metric tensor is finite, symmetric and PSD, or a ValueError says
    what is wrong."""
    try:
        M = metric.metric_tensor(z)
    except ValueError as err:
        assert "metric" in str(err) or "generator" in str(err), err
        return
    assert bool(torch.isfinite(M).all())
    scale = M.abs().flatten(1).amax(1).clamp_min(1e-300)
    asym = (M - M.transpose(1, 2)).abs().flatten(1).amax(1)
    assert bool((asym <= 1e-12 * scale).all()), asym
    lam = torch.linalg.eigvalsh(0.5 * (M + M.transpose(1, 2)))[:, 0]
    assert bool((lam >= -1e-12 * scale).all()), lam


points = st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50)),
                  min_size=1, max_size=4).map(
                      lambda zs: torch.tensor(zs, dtype=DT))


@PROFILE
@given(z=points, seed=st.integers(0, 100),
       activation=st.sampled_from(["tanh", "relu", "softplus"]))
def test_pullback_and_expected_metrics_are_psd(z, seed, activation):
    mlp = gm.random_mlp((2, 8, 5), activation, seed=seed, dtype=DT)
    _check_metric_or_raises(gm.PullbackMetric(mlp, 2), z)
    sd = gm.random_mlp((2, 8, 5), "softplus", seed=seed + 1, dtype=DT)
    _check_metric_or_raises(
        gm.ExpectedMetric(mlp, lambda u: torch.nn.functional.softplus(sd(u)), 2),
        z)


@PROFILE
@given(z=points, rate=st.floats(0.1, 30.0))
def test_an_overflowing_generator_raises_wherever_it_overflows(z, rate):
    """exp(rate z) overflows float64 beyond z ~ 709 / rate: there the metric
    must raise, at the first or any later call (issue 12)."""
    metric = gm.PullbackMetric(lambda u: torch.exp(rate * u), 2)
    metric(torch.zeros(1, 2, dtype=DT))  # first use, finite
    overflow = bool((2 * rate * z > 709.0).any())
    if overflow:
        with pytest.raises(ValueError, match="NaN or infinite"):
            metric(z)
    else:
        _check_metric_or_raises(metric, z)


@PROFILE
@given(z=points, entries=st.lists(st.floats(-3, 3), min_size=4, max_size=4),
       symmetric=st.booleans())
def test_function_metric_is_psd_or_raises(z, entries, symmetric):
    A = torch.tensor(entries, dtype=DT).reshape(2, 2)
    if symmetric:
        A = 0.5 * (A + A.T)
    metric = gm.FunctionMetric(
        lambda u: A.expand(u.shape[0], 2, 2) * (1 + (u ** 2).sum(1))[:, None, None],
        2)
    _check_metric_or_raises(metric, z)
    # clearly asymmetric or indefinite matrices must be refused
    scale = float(A.abs().max())
    lam = torch.linalg.eigvalsh(0.5 * (A + A.T))
    if (float((A - A.T).abs().max()) > 1e-10 * scale
            or float(lam[0]) < -1e-10 * scale):
        with pytest.raises(ValueError, match="symmetric|semi-definite"):
            metric(z)


@PROFILE
@given(entries=st.lists(st.floats(-3, 3), min_size=4, max_size=4), z=points)
def test_constant_metric_is_psd_or_rejected_at_construction(entries, z):
    L = torch.tensor(entries, dtype=DT).reshape(2, 2)
    try:
        metric = gm.ConstantMetric(L @ L.T)
    except ValueError:  # singular: not positive definite
        assert float(torch.linalg.eigvalsh(L @ L.T)[0]) <= 1e-10 * (
            1 + float((L @ L.T).abs().max()))
        return
    _check_metric_or_raises(metric, z)


# ---------------------------------------------------- curves, reparametrisation

@PROFILE
@given(seed=st.integers(0, 100), k=st.integers(1, 3),
       alpha=st.floats(-0.9, 0.9))
def test_curve_length_is_invariant_under_reparametrisation(seed, k, alpha):
    """L(gamma o phi) = L(gamma) for a monotone phi, to the accuracy of the
    midpoint rule; reversal leaves it unchanged to rounding."""
    mlp = gm.random_mlp((2, 8, 3), "tanh", seed=seed, dtype=DT)
    metric = gm.PullbackMetric(mlp, 2)
    T = 200  # midpoint rule, O(T^-2): worst |L1/L0 - 1| = 2.4e-5 measured
    # over 10 seeds x k in 1..3 x alpha in +-0.5, +-0.9; tolerance 2e-4
    t = torch.linspace(0.0, 1.0, T + 1, dtype=DT)
    w = k * math.pi
    phi = t + alpha * torch.sin(w * t) / w        # phi' = 1 + alpha cos > 0

    def curve(s):
        return torch.stack([2 * s - 1, torch.sin(3 * s)], dim=1)

    L0 = float(gm.curve_length(metric, curve(t)))
    L1 = float(gm.curve_length(metric, curve(phi)))
    assert L1 == pytest.approx(L0, rel=2e-4)
    # reversing the curve changes nothing, to rounding
    assert float(gm.curve_length(metric, curve(t).flip(0))) == pytest.approx(
        L0, rel=1e-13)
    # the decoded chord length converges to the same number from below
    chords = float(gm.decoded_length(mlp, curve(phi)))
    assert chords <= L1 * (1 + 1e-4) and chords == pytest.approx(L1, rel=2e-4)
    # the energy bounds L^2 whatever the parametrisation (Cauchy-Schwarz)
    for s in (t, phi):
        assert float(gm.curve_energy(metric, curve(s))) >= float(
            gm.curve_length(metric, curve(s))) ** 2 * (1 - 1e-12)


# ------------------------------------------------------- bad input, every kind

def _with_nan(arr: np.ndarray, index: int) -> np.ndarray:
    out = np.array(arr, dtype=float)
    out.flat[index % out.size] = np.nan
    return out


@PROFILE
@given(problem=transport_problems(), index=st.integers(0, 100),
       target=st.sampled_from(["a", "b", "C"]))
def test_a_nan_anywhere_is_named_by_every_solver(problem, index, target):
    """A NaN in any argument gives a ValueError naming that argument,
    never a NaN result."""
    args = dict(zip("abC", problem))
    args[target] = _with_nan(args[target], index)
    a, b, C = args["a"], args["b"], args["C"]
    n, m = C.shape
    calls = [lambda: gmot.exact_ot(a, b, C), lambda: gmot.sinkhorn(a, b, C, 0.5)]
    if target != "C":
        calls += [lambda: gmot.dual_value(np.zeros(n), np.zeros(m), a, b)]
    else:
        calls += [lambda: gmot.c_transform(np.zeros(n), C),
                  lambda: gmot.cbar_transform(np.zeros(m), C)]
    for call in calls:
        with pytest.raises(ValueError, match=rf"\b{target}\b"):
            call()
