"""Bad or unusual input gives a correct answer or an error naming the
argument, never a silent wrong answer (issue 12), one test per class."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import gmtheory as gm
from gmtheory import ot as gmot

DT = torch.float64
C2 = np.array([[0.0, 1.0], [1.0, 0.0]])
U2 = np.array([0.5, 0.5])
X2 = np.array([[0.0], [1.0]])


# ------------------------------------------------------ valid input accepted

def test_float32_uniform_weights_are_accepted_for_every_length():
    rejected = []
    for n in range(1, 201):
        try:
            gmot.validate_weights(torch.full((n,), 1 / n), "a")
        except ValueError:
            rejected.append(n)
    assert rejected == []  # was 138 of 200 with the fixed tolerance 1e-8


def test_float32_softmax_weights_work_in_every_function_using_the_check():
    g = torch.Generator().manual_seed(0)
    for _ in range(100):
        w = torch.softmax(torch.randn(64, generator=g), 0)
        gmot.validate_weights(w, "w")
    C = torch.rand(64, 64, generator=g, dtype=DT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gmot.kl(w, w) == pytest.approx(0.0, abs=1e-12)
        assert gmot.sinkhorn(w, w, C, 0.1).converged
        assert gmot.exact_ot(w, w, C).converged


def test_weight_tolerance_follows_dtype_and_length():
    assert gmot.weight_tolerance(10, np.float64) == gmot.WEIGHT_TOL
    assert gmot.weight_tolerance(64, np.float32) == pytest.approx(
        2 * 64 * np.finfo(np.float32).eps)
    # the advice of the error message fixes what it complains about
    w = np.full(100, 1.02 / 100, dtype=np.float32)
    with pytest.raises(ValueError, match="divide it by its sum"):
        gmot.validate_weights(w, "w")
    gmot.validate_weights(w / w.sum(), "w")


# ----------------------------------------------------- silent wrong answers

def test_pullback_metric_raises_wherever_the_generator_overflows():
    metric = gm.PullbackMetric(lambda z: torch.exp(400 * z), 2)
    metric(torch.zeros(1, 2, dtype=DT))  # the first use is fine
    far = torch.full((1, 2), 3.0, dtype=DT)
    for call in (lambda: metric(far), lambda: metric.magnification(far),
                 lambda: metric.norm(far, torch.ones(1, 2, dtype=DT)),
                 lambda: metric.jacobian(far),
                 lambda: gm.curve_length(metric, torch.stack([far[0], far[0] + 1]))):
        with pytest.raises(ValueError, match="NaN or infinite"):
            call()


def test_finite_differences_follow_the_dtype():
    def f(z):
        return torch.sin(3 * z) * torch.exp(z[:, :1])

    for dtype, tol in ((torch.float32, 2e-4), (torch.float64, 1e-9)):
        z = torch.tensor([[0.3, 0.7], [-1.2, 2.5]], dtype=dtype)
        err = (gm.finite_difference_jacobian(f, z) - gm.jacobian(f, z)).abs().max()
        assert float(err) < tol, (dtype, float(err))
    # a large coordinate gets a proportionally larger step: still accurate
    z = torch.tensor([[1e4, 0.5]], dtype=DT)
    J = gm.finite_difference_jacobian(lambda u: u ** 2, z)
    torch.testing.assert_close(J, gm.jacobian(lambda u: u ** 2, z), rtol=1e-8, atol=0)


def test_decoded_length_rejects_nan_and_numpy_generators():
    gamma = torch.zeros(3, 2, dtype=DT)
    with pytest.raises(ValueError, match="generator returned NaN"):
        gm.decoded_length(lambda z: z * math.nan, gamma)
    with pytest.raises(TypeError, match="generator must return a torch.Tensor"):
        gm.decoded_length(lambda z: z.numpy(), gamma)


@pytest.mark.parametrize("p", [0, -1, math.nan, math.inf])
def test_sinkhorn_divergence_rejects_a_non_positive_exponent(p):
    with pytest.raises(ValueError, match="p must be a finite number > 0"):
        gmot.sinkhorn_divergence(X2, X2 + 1, 0.1, p=p)


def test_empty_nan_and_unnormalised_inputs_of_the_dual_helpers():
    with pytest.raises(ValueError, match="x_cost is empty"):
        gmot.assignment_ot(np.zeros((0, 0)))
    with pytest.raises(ValueError, match="f contains NaN"):
        gmot.dual_value([math.nan, 0.0], [0.0, 0.0], U2, U2)
    with pytest.raises(ValueError, match="a must sum to 1"):
        gmot.dual_value([1.0, 0.0], [0.0, 0.0], [2.0, 5.0], U2)
    with pytest.raises(ValueError, match="g contains NaN"):
        gmot.laguerre_cells([[0.1]], X2, [math.nan, 0.0])
    with pytest.raises(ValueError, match="g contains NaN"):
        gmot.semidiscrete_dual([math.nan, 0.0], [[0.1], [0.2]], X2)


def test_wasserstein_1d_does_not_overflow_when_the_value_is_representable():
    assert gmot.wasserstein_1d([1e200], [-1e200], p=2) == pytest.approx(2e200)
    assert gmot.wasserstein_1d([1e-200], [0.0], p=3) == pytest.approx(1e-200)


# ----------------------------------------------------------- cryptic errors

def test_dtype_mixing_is_reported_by_argument():
    module = gm.random_mlp((2, 4, 3), seed=0, dtype=torch.float32)
    with pytest.raises(TypeError, match=r"f has torch.float32 parameters.*f\.double\(\)"):
        gm.jacobian(module, torch.zeros(1, 2, dtype=DT))
    metric = gm.ConstantMetric(torch.eye(2, dtype=DT))
    with pytest.raises(TypeError, match=r"u has dtype torch.float32 .* u\.double\(\)"):
        metric.inner(torch.zeros(1, 2, dtype=DT), torch.ones(1, 2),
                     torch.ones(1, 2, dtype=DT))
    # a point of the wrong dimension reaches the module: named, with shapes
    mlp = gm.random_mlp((2, 4, 3), seed=0, dtype=DT)
    with pytest.raises(ValueError, match=r"f failed on points of shape \(1, 3\)"):
        gm.jacobian(mlp, torch.zeros(1, 3, dtype=DT))


def test_monte_carlo_metric_checks_the_realisation_first():
    with pytest.raises(ValueError, match=r"realise\(z, e\) must return"):
        gm.monte_carlo_metric(lambda z, e: (z * e[:2]).sum(), torch.zeros(1, 2),
                              torch.randn(3, 2))


@pytest.mark.parametrize("call, name", [
    (lambda: gmot.sinkhorn(U2, U2, C2, 0.1, tol="1e-9"), "tol"),
    (lambda: gmot.sinkhorn(U2, U2, C2, "0.1"), "eps"),
    (lambda: gmot.wasserstein_1d([0.0], [1.0], p="2"), "p"),
    (lambda: gmot.cost_matrix(X2, X2, p="2"), "p"),
    (lambda: gmot.exact_ot(U2, U2, C2, max_iter="10"), "max_iter"),
    (lambda: gmot.kl(np.array([0.5 + 0j, 0.5]), U2), "p"),
])
def test_strings_and_complex_numbers_are_type_errors(call, name):
    with pytest.raises(TypeError, match=rf"^{name} must be"):
        call()


def test_empty_point_sets_name_the_argument():
    with pytest.raises(ValueError, match="x is empty"):
        gmot.sinkhorn_divergence(np.zeros((0, 1)), X2, 0.1)
    with pytest.raises(ValueError, match="y is empty"):
        gmot.semidiscrete_ot(lambda n, r: r.uniform(size=(n, 1)),
                             np.zeros((0, 1)), n_iter=10, n_eval=10)


def test_semidiscrete_ot_checks_the_first_batch():
    calls = []

    def sampler(n, rng):
        calls.append(n)
        return np.full((n, 1), math.nan)

    with pytest.raises(ValueError, match="sampler.*NaN"):
        gmot.semidiscrete_ot(sampler, X2, n_iter=20_000)
    assert calls == [32]  # not after 20000 steps


def test_gradient_helpers_check_plans_and_exponents():
    def gen(t, z):
        return z + t

    theta = torch.zeros(1, dtype=DT)
    with pytest.raises(ValueError, match="plan must be non-negative"):
        gmot.primal_gradient(theta, gen, X2, X2, [[1.0, -0.5], [0.0, 0.5]])
    with pytest.raises(ValueError, match="p must be a finite number > 0"):
        gmot.primal_gradient(theta, gen, X2, X2, np.eye(2) / 2, p=0)
