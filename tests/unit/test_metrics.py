"""Tests of gmtheory.geometry.jacobian, metrics, surfaces and curves.

Every numerical test compares against an independent route: a closed form,
central finite differences or an SVD.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gmtheory as gm
from gmtheory.geometry.jacobian import validate_generator

DTYPE = torch.float64


@pytest.fixture(autouse=True)
def _float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(DTYPE)
    yield
    torch.set_default_dtype(old)


def points(n: int = 20, d: int = 2, seed: int = 0, scale: float = 1.0):
    gen = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, d, generator=gen, dtype=DTYPE)


@pytest.fixture
def mlp():
    return gm.random_mlp([2, 16, 16, 4], activation="tanh", seed=0)


# --------------------------------------------------------------------------
# Jacobian


def test_jacobian_matches_central_differences(mlp):
    z = points()
    J = gm.jacobian(mlp, z)
    assert J.shape == (20, 4, 2)
    J_fd = gm.finite_difference_jacobian(mlp, z, eps=1e-5)
    assert torch.allclose(J, J_fd, rtol=0, atol=1e-9)


def test_jacobian_matches_columnwise_difference_by_hand(mlp):
    # a second, hand-written finite-difference route for one column
    z = points(3)
    e = torch.tensor([0.0, 1e-6])
    col = (mlp(z + e) - mlp(z - e)) / 2e-6
    assert torch.allclose(gm.jacobian(mlp, z)[:, :, 1], col, atol=1e-8)


def test_jacobian_of_linear_map_is_the_matrix():
    L = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]])
    J = gm.jacobian(lambda z: z @ L.T, points(5))
    assert torch.equal(J, L.expand(5, 3, 2))


def test_pullback_jacobian_method_agrees(mlp):
    z = points(4)
    assert torch.allclose(gm.PullbackMetric(mlp, 2).jacobian(z),
                          gm.jacobian(mlp, z))


def test_finite_difference_jacobian_rejects_bad_eps(mlp):
    with pytest.raises(ValueError, match="eps"):
        gm.finite_difference_jacobian(mlp, points(2), eps=0.0)


# --------------------------------------------------------------------------
# Metrics against closed forms


@pytest.mark.parametrize("surface", [gm.Paraboloid(), gm.SphereChart(),
                                     gm.FoldedLine()])
def test_autograd_metric_matches_closed_form(surface):
    z = points(50, seed=1)
    assert torch.allclose(surface.pullback()(z), surface.metric()(z),
                          rtol=0, atol=1e-12)


def test_paraboloid_closed_form_values():
    z = torch.tensor([[1.0, 2.0]])
    expected = torch.eye(2) + 4 * z.T @ z
    assert torch.allclose(gm.Paraboloid().pullback()(z)[0], expected)


def test_sphere_pole_metric_is_singular():
    M = gm.SphereChart().pullback()(torch.tensor([[0.0, 1.3]]))[0]
    assert torch.allclose(M, torch.diag(torch.tensor([1.0, 0.0])), atol=1e-15)
    assert float(torch.linalg.det(M)) == 0.0


def test_folded_line_is_psd_not_pd():
    z = points(10, seed=2)
    M = gm.FoldedLine().pullback()(z)
    eig = torch.linalg.eigvalsh(M)
    s = z.sum(1)
    assert torch.allclose(eig[:, 0], torch.zeros(10), atol=1e-12)
    assert torch.allclose(eig[:, 1], 2 * (1 + 4 * s**2 + s.cos() ** 2))
    v = torch.tensor([[1.0, -1.0]]).expand(10, 2)
    assert torch.allclose(gm.FoldedLine().pullback().norm(z, v),
                          torch.zeros(10), atol=1e-7)


def test_pullback_metric_is_symmetric_psd(mlp):
    M = gm.PullbackMetric(mlp, 2)(points(30))
    assert torch.allclose(M, M.transpose(1, 2))
    assert bool((torch.linalg.eigvalsh(M) > 0).all())


def test_inner_and_norm_match_data_space(mlp):
    z, v = points(6, seed=3), points(6, seed=4)
    metric = gm.PullbackMetric(mlp, 2)
    Jv = torch.einsum("nij,nj->ni", gm.jacobian(mlp, z), v)
    assert torch.allclose(metric.norm(z, v), Jv.norm(dim=1))
    assert torch.allclose(metric.inner(z, v, v), (Jv**2).sum(1))


def test_inner_rejects_mismatched_rows(mlp):
    metric = gm.PullbackMetric(mlp, 2)
    with pytest.raises(ValueError, match="same number of rows"):
        metric.inner(points(3), points(3), points(2))


# --------------------------------------------------------------------------
# ConstantMetric / Mahalanobis


def test_constant_metric_is_linear_pullback_and_mahalanobis():
    L = torch.tensor([[1.0, 0.3], [0.0, 2.0], [0.5, -1.0]])
    const = gm.ConstantMetric(L.T @ L)
    pull = gm.PullbackMetric(lambda z: z @ L.T, 2)
    z = points(7)
    assert torch.allclose(const(z), pull(z))
    za, zb = torch.tensor([0.0, 1.0]), torch.tensor([2.0, -3.0])
    Sigma = torch.linalg.inv(L.T @ L)
    d = zb - za
    maha = torch.sqrt(d @ torch.linalg.solve(Sigma, d))
    length = gm.curve_length(const, gm.straight_line(za, zb, 5))
    assert torch.allclose(length, maha[None])
    assert torch.allclose(length, (L @ d).norm()[None])


def test_constant_metric_derivative_is_zero():
    const = gm.ConstantMetric(torch.tensor([[2.0, 0.5], [0.5, 1.0]]))
    assert float(const.metric_derivative(points(3)).abs().max()) == 0.0


def test_constant_metric_rejects_non_symmetric():
    with pytest.raises(ValueError, match="symmetric"):
        gm.ConstantMetric(torch.tensor([[1.0, 0.5], [0.0, 1.0]]))


def test_constant_metric_rejects_non_pd():
    with pytest.raises(ValueError, match="positive definite"):
        gm.ConstantMetric(torch.tensor([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="positive definite"):
        gm.ConstantMetric(torch.tensor([[1.0, 2.0], [2.0, 1.0]]))


def test_constant_metric_rejects_non_square_and_integer():
    with pytest.raises(ValueError, match="square"):
        gm.ConstantMetric(torch.ones(2, 3))
    with pytest.raises(TypeError, match="floating dtype"):
        gm.ConstantMetric(torch.eye(2, dtype=torch.int64))
    with pytest.raises(ValueError, match="NaN or infinite"):
        gm.ConstantMetric(torch.tensor([[1.0, 0.0], [0.0, math.nan]]))


# --------------------------------------------------------------------------
# Metric derivative and magnification


def test_metric_derivative_matches_finite_differences(mlp):
    metric = gm.PullbackMetric(mlp, 2)
    z = points(5, seed=5)
    dM = metric.metric_derivative(z)
    assert dM.shape == (5, 2, 2, 2)
    eps = 1e-5
    for k in range(2):
        e = torch.zeros(2)
        e[k] = eps
        fd = (metric(z + e) - metric(z - e)) / (2 * eps)
        assert torch.allclose(dM[..., k], fd, atol=1e-8)


def test_metric_derivative_works_as_first_call(mlp):
    # regression: the generator check used to run inside vmap and fail
    metric = gm.PullbackMetric(mlp, 2)
    assert metric.metric_derivative(points(2)).shape == (2, 2, 2, 2)


def test_metric_derivative_of_sphere_closed_form():
    z = torch.tensor([[0.7, 0.2]])
    dM = gm.SphereChart().metric().metric_derivative(z)[0]
    expected = torch.zeros(2, 2, 2)
    expected[1, 1, 0] = math.sin(2 * 0.7)  # d sin^2(theta) / d theta
    assert torch.allclose(dM, expected)


def test_relu_metric_derivative_is_zero_but_metric_jumps():
    relu = gm.PullbackMetric(
        gm.random_mlp([2, 32, 32, 5], activation="relu", seed=0), 2)
    assert float(relu.metric_derivative(points(8)).abs().max()) == 0.0
    t = torch.linspace(0.0, 1.0, 1001)[:, None]
    seg = torch.tensor([0.2, -0.3]) + 0.1 * t * torch.tensor([0.8, 0.6])
    M = relu(seg)
    jumps = (M[1:] - M[:-1]).flatten(1).norm(dim=1)
    assert float(jumps.max()) > 0.05 * float(M[0].norm())


def test_magnification_is_product_of_singular_values(mlp):
    z = points(25, seed=6)
    sv = torch.linalg.svdvals(gm.jacobian(mlp, z))
    mag = gm.PullbackMetric(mlp, 2).magnification(z)
    assert torch.allclose(mag, sv.prod(1), rtol=1e-10)


def test_magnification_of_paraboloid_closed_form():
    z = points(10, seed=7)
    mag = gm.Paraboloid().pullback().magnification(z)
    assert torch.allclose(mag, torch.sqrt(1 + 4 * (z**2).sum(1)))


def test_pullback_taylor_error_is_cubic(mlp):
    steps = torch.logspace(-4, -2, 5)
    err = gm.pullback_taylor_error(mlp, torch.tensor([0.3, -0.2]), steps)
    slope = np.polyfit(np.log(steps.numpy()), np.log(err.numpy()), 1)[0]
    assert abs(slope - 3.0) < 0.1


def test_pullback_taylor_error_is_zero_for_affine_maps():
    L = torch.tensor([[1.0, 2.0], [0.0, 1.0], [3.0, 0.0]])
    err = gm.pullback_taylor_error(lambda z: z @ L.T + 1.0,
                                   torch.tensor([0.1, 0.2]),
                                   torch.tensor([1e-2, 1.0]))
    assert float(err.max()) < 1e-12


def test_pullback_taylor_error_rejects_bad_input(mlp):
    with pytest.raises(ValueError, match="steps must be positive"):
        gm.pullback_taylor_error(mlp, torch.zeros(2), torch.tensor([0.0]))
    with pytest.raises(ValueError, match=r"shape \(d,\)"):
        gm.pullback_taylor_error(mlp, torch.zeros(1, 2), torch.tensor([0.1]))
    with pytest.raises(ValueError, match="n_directions"):
        gm.pullback_taylor_error(mlp, torch.zeros(2), torch.tensor([0.1]),
                                 n_directions=0)


# --------------------------------------------------------------------------
# Curves


def test_great_circle_arc_length_equals_angle():
    sphere = gm.SphereChart()
    z0 = torch.tensor([math.pi / 2, 0.0])
    z1 = torch.tensor([math.pi / 2, 1.2])
    gamma = gm.straight_line(z0, z1, 40)
    for metric in (sphere.metric(), sphere.pullback()):
        assert torch.allclose(gm.curve_length(metric, gamma),
                              torch.tensor([1.2]), rtol=1e-12)
    assert torch.allclose(gm.great_circle_distance(z0[None], z1[None]),
                          torch.tensor([1.2]))


def test_meridian_length_equals_angle():
    z0, z1 = torch.tensor([0.3, 0.5]), torch.tensor([2.0, 0.5])
    L = gm.curve_length(gm.SphereChart().metric(),
                        gm.straight_line(z0, z1, 10))
    assert torch.allclose(L, torch.tensor([1.7]))


def test_length_squared_at_most_energy_with_equality_for_constant_speed():
    metric = gm.SphereChart().metric()
    t = torch.linspace(0.0, 1.0, 401)[:, None]
    a, b = torch.tensor([0.4, 0.0]), torch.tensor([2.5, 2.0])
    curves = torch.stack([a + t * (b - a), a + t**3 * (b - a)])
    L, E = gm.curve_length(metric, curves), gm.curve_energy(metric, curves)
    assert bool((L**2 < E).all())
    assert torch.allclose(L[0], L[1], rtol=1e-4)  # same image curve
    assert float(E[1]) > 1.5 * float(E[0])
    # constant speed (an equator arc): equality
    eq = gm.straight_line(torch.tensor([math.pi / 2, 0.0]),
                          torch.tensor([math.pi / 2, 2.0]), 30)
    assert torch.allclose(gm.curve_length(metric, eq) ** 2,
                          gm.curve_energy(metric, eq), rtol=1e-12)


def test_length_converges_to_decoded_length_at_second_order(mlp):
    metric = gm.PullbackMetric(mlp, 2)
    za, zb = torch.tensor([-1.0, 0.5]), torch.tensor([1.5, -0.5])
    gaps = []
    for T in (32, 64, 128):
        g = gm.straight_line(za, zb, T)
        gaps.append(float(gm.curve_length(metric, g)
                          - gm.decoded_length(mlp, g)))
    order = np.log2(gaps[1] / gaps[2])
    assert abs(order - 2.0) < 0.1


def test_segment_lengths_batch_shapes():
    metric = gm.Paraboloid().metric()
    gammas = points(3 * 6, seed=8).reshape(3, 6, 2)
    assert gm.segment_lengths(metric, gammas).shape == (3, 5)
    assert gm.curve_length(metric, gammas).shape == (3,)
    assert gm.curve_energy(metric, gammas).shape == (3,)


def test_straight_line_endpoints_and_spacing():
    z0, z1 = torch.tensor([1.0, -2.0]), torch.tensor([3.0, 4.0])
    g = gm.straight_line(z0, z1, 8)
    assert g.shape == (9, 2)
    assert torch.equal(g[0], z0)
    assert torch.allclose(g[-1], z1)
    assert torch.allclose(g[1:] - g[:-1], ((z1 - z0) / 8).expand(8, 2))


def test_straight_line_errors():
    with pytest.raises(ValueError, match="steps"):
        gm.straight_line(torch.zeros(2), torch.ones(2), 0)
    with pytest.raises(ValueError, match="same shape"):
        gm.straight_line(torch.zeros(2), torch.ones(3), 4)


def test_curve_with_one_point_is_rejected():
    with pytest.raises(ValueError, match="at least 2 points"):
        gm.curve_length(gm.Paraboloid().metric(), torch.zeros(1, 2))


def test_curve_errors():
    metric = gm.Paraboloid().metric()
    with pytest.raises(ValueError, match="metric expects 2"):
        gm.curve_length(metric, torch.zeros(4, 3))
    with pytest.raises(ValueError, match=r"\(T \+ 1, d\)"):
        gm.curve_length(metric, torch.zeros(4))
    with pytest.raises(ValueError, match="NaN or infinite"):
        gm.curve_length(metric, torch.tensor([[0.0, 0.0], [math.inf, 1.0]]))
    with pytest.raises(TypeError, match="gmtheory Metric"):
        gm.curve_length(lambda z: z, torch.zeros(3, 2))


def test_curves_do_not_mutate_input():
    gamma = points(6, seed=9)
    before = gamma.clone()
    gm.curve_energy(gm.Paraboloid().metric(), gamma)
    assert torch.equal(gamma, before)


# --------------------------------------------------------------------------
# Error paths of points and generators


def test_wrong_ndim_is_rejected(mlp):
    metric = gm.PullbackMetric(mlp, 2)
    with pytest.raises(ValueError, match=r"z\[None\]"):
        metric(torch.zeros(2))
    with pytest.raises(ValueError, match=r"shape \(n, d\)"):
        gm.jacobian(mlp, torch.zeros(1, 1, 2))


def test_mismatched_dims_are_rejected(mlp):
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        gm.PullbackMetric(mlp, 2)(torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        gm.Paraboloid().metric().magnification(torch.zeros(3, 1))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_points_are_rejected(mlp, bad):
    z = torch.tensor([[0.0, bad]])
    with pytest.raises(ValueError, match="NaN or infinite"):
        gm.jacobian(mlp, z)
    with pytest.raises(ValueError, match="NaN or infinite"):
        gm.PullbackMetric(mlp, 2)(z)


def test_integer_points_are_rejected(mlp):
    with pytest.raises(TypeError, match="floating dtype"):
        gm.PullbackMetric(mlp, 2)(torch.zeros(2, 2, dtype=torch.int64))
    with pytest.raises(TypeError, match="floating dtype"):
        gm.jacobian(mlp, np.zeros((2, 2), dtype=int))


def test_non_callable_generator_is_rejected():
    with pytest.raises(TypeError, match="callable"):
        gm.PullbackMetric(torch.zeros(3), 2)
    with pytest.raises(TypeError, match="callable"):
        gm.jacobian("not a function", points(2))


def test_generator_returning_numpy_is_rejected():
    def numpy_generator(z):
        return np.tanh(z.detach().numpy())

    with pytest.raises(TypeError, match="must return a torch.Tensor"):
        gm.jacobian(numpy_generator, points(2))
    with pytest.raises(TypeError, match="must return a torch.Tensor"):
        gm.PullbackMetric(numpy_generator, 2)(points(2))


@pytest.mark.parametrize("wrong", [
    lambda z: z.sum(),                    # scalar
    lambda z: z[:, :, None],              # (n, d, 1)
    lambda z: torch.cat([z, z], dim=0),   # 2n rows
])
def test_generator_returning_wrong_shape_is_rejected(wrong):
    with pytest.raises(ValueError, match=r"batch \(n, D\)"):
        gm.jacobian(wrong, points(3))
    with pytest.raises(ValueError, match=r"batch \(n, D\)"):
        gm.PullbackMetric(wrong, 2)(points(3))


def test_generator_returning_nan_is_rejected():
    with pytest.raises(ValueError, match="NaN or infinite"):
        validate_generator(lambda z: z / 0.0, torch.zeros(1, 2))


@pytest.mark.parametrize("name, generator", [
    ("numpy", lambda z: torch.as_tensor(np.sin(z.numpy()))),
    ("item", lambda z: z * z.sum().item()),
    ("branch", lambda z: z if bool(z.sum() > 0) else -z),
])
def test_non_differentiable_generator_raises_type_error(name, generator):
    z = points(3)
    with pytest.raises(TypeError, match="could not be differentiated"):
        gm.jacobian(generator, z)
    with pytest.raises(TypeError, match="could not be differentiated"):
        gm.PullbackMetric(generator, 2)(z)


def test_function_metric_wrong_shape_is_rejected():
    metric = gm.FunctionMetric(lambda z: torch.eye(2), dim=2)
    with pytest.raises(ValueError, match=r"must return shape \(n, 2, 2\)"):
        metric(points(3))
    with pytest.raises(ValueError, match="returned ndarray"):
        gm.FunctionMetric(lambda z: np.eye(2), dim=2)(points(3))
    with pytest.raises(TypeError, match="callable"):
        gm.FunctionMetric(None, dim=2)


def test_metric_dim_must_be_positive_integer():
    with pytest.raises(ValueError, match="positive integer"):
        gm.FunctionMetric(lambda z: z, dim=0)
    with pytest.raises(ValueError, match="positive integer"):
        gm.PullbackMetric(lambda z: z, dim=1.5)


def test_random_mlp_is_seeded_and_validates():
    a = gm.random_mlp([2, 8, 3], seed=4)(points(2))
    b = gm.random_mlp([2, 8, 3], seed=4)(points(2))
    c = gm.random_mlp([2, 8, 3], seed=5)(points(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    with pytest.raises(ValueError, match="activation"):
        gm.random_mlp([2, 3], activation="gelu")
    with pytest.raises(ValueError, match="at least two"):
        gm.random_mlp([2])


def test_value_and_derivative_in_one_pass_are_the_two_calls_bit_for_bit(mlp):
    # the geodesic right-hand side takes M and dM/dz from one forward-mode
    # pass; they must be exactly what the two separate calls return
    metric = gm.PullbackMetric(mlp, 2)
    z = points(17)
    M, dM = metric._evaluate_with_derivative(z)
    assert torch.equal(M, metric.evaluate(z))
    assert torch.equal(dM, metric.evaluate_derivative(z))


def test_an_overridden_derivative_is_used_by_the_connection(mlp):
    class Halved(gm.PullbackMetric):
        def evaluate_derivative(self, z):
            return 0.5 * super().evaluate_derivative(z)

    plain, halved = gm.PullbackMetric(mlp, 2), Halved(mlp, 2)
    z = points(5)
    M, dM = halved._evaluate_with_derivative(z)
    assert torch.equal(M, plain.evaluate(z))
    assert torch.equal(dM, 0.5 * plain.evaluate_derivative(z))
    v = points(5, seed=1)
    # the acceleration is linear in dM: halving it halves the acceleration
    torch.testing.assert_close(halved.evaluate_geodesic_rhs(z, v),
                               0.5 * plain.evaluate_geodesic_rhs(z, v),
                               rtol=1e-12, atol=1e-14)
