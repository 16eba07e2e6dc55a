"""MMD estimators: closed form, brute force, unbiasedness, gradients, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gmtheory as gm


@pytest.fixture(autouse=True)
def one_thread():
    # small kernels: threads only add overhead on a shared machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


M1, S1 = np.zeros(2), np.eye(2)
M2, S2 = np.array([0.6, -0.3]), np.array([[0.5, 0.2], [0.2, 0.8]])


def _draws(rng, n):
    x = rng.multivariate_normal(M1, S1, size=n)
    y = rng.multivariate_normal(M2, S2, size=n)
    return x, y


def _brute(x, y, kernel, scale, unbiased, a=None, b=None):
    def k(u, v):
        d2 = sum((ui - vi) ** 2 for ui, vi in zip(u, v))
        if kernel == "imq":
            return scale / (scale + d2)
        return math.exp(-d2 / (2 * scale ** 2))

    n, m = len(x), len(y)
    a = [1 / n] * n if a is None else a
    b = [1 / m] * m if b is None else b
    xx = yy = xy = 0.0
    for i in range(n):
        for j in range(n):
            if unbiased and i != j:
                xx += k(x[i], x[j]) / (n * (n - 1))
            elif not unbiased:
                xx += a[i] * a[j] * k(x[i], x[j])
    for i in range(m):
        for j in range(m):
            if unbiased and i != j:
                yy += k(y[i], y[j]) / (m * (m - 1))
            elif not unbiased:
                yy += b[i] * b[j] * k(y[i], y[j])
    for i in range(n):
        for j in range(m):
            xy += a[i] * b[j] * k(x[i], y[j])
    return xx + yy - 2 * xy


@pytest.mark.parametrize("kernel,scale", [("imq", 4.0), ("gaussian", 0.7)])
@pytest.mark.parametrize("unbiased", [True, False])
def test_matches_brute_force_double_loop(kernel, scale, unbiased):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(5, 3)) + 0.5
    got = gm.ot.mmd2(x, y, kernel, scale, unbiased=unbiased)
    assert got == pytest.approx(_brute(x, y, kernel, scale, unbiased), abs=1e-14)


def test_weighted_v_statistic_matches_brute_force():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(4, 2)), rng.normal(size=(6, 2))
    a, b = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(6))
    got = gm.ot.mmd2(x, y, "gaussian", 1.3, unbiased=False, a=a, b=b)
    assert got == pytest.approx(_brute(x, y, "gaussian", 1.3, False, a, b),
                                abs=1e-14)


def test_u_statistic_matches_gaussian_closed_form():
    # 40 replicates of n = 200: the replicate mean must fall within 4 SE
    rng = np.random.default_rng(2)
    h = 1.0
    exact = gm.ot.gaussian_mmd2(M1, S1, M2, S2, h)
    vals = np.array([gm.ot.mmd2(*_draws(rng, 200), "gaussian", h)
                     for _ in range(40)])
    se = vals.std(ddof=1) / math.sqrt(len(vals))
    assert abs(vals.mean() - exact) < 4 * se
    assert se < 0.1 * exact            # the test has power: SE << value


def test_closed_form_against_quadrature_in_1d():
    # E k(X, Y) for X ~ N(0, 1), Y ~ N(1, 0.25) in 1-D by Gauss-Hermite
    from numpy.polynomial.hermite_e import hermegauss

    t, w = hermegauss(80)
    w = w / w.sum()
    xs, ys = t, 1.0 + 0.5 * t
    h = 0.8

    def e(u, v, wu, wv):
        return float(wu @ np.exp(-(u[:, None] - v[None]) ** 2 / (2 * h * h)) @ wv)

    quad = e(xs, xs, w, w) + e(ys, ys, w, w) - 2 * e(xs, ys, w, w)
    closed = gm.ot.gaussian_mmd2([0.0], [[1.0]], [1.0], [[0.25]], h)
    assert closed == pytest.approx(quad, rel=1e-10)


def test_unbiasedness_and_v_statistic_bias_at_tiny_n():
    # n = m = 3: E[U] = MMD^2 exactly; E[V] = MMD^2 + (1 - E k(X,X'))/n
    #                                             + (1 - E k(Y,Y'))/m.
    rng = np.random.default_rng(3)
    h, n, reps = 1.0, 3, 2000
    x = rng.multivariate_normal(M1, S1, size=(reps, n))
    y = rng.multivariate_normal(M2, S2, size=(reps, n))
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    u = np.array([float(gm.ot.mmd2(xt[r], yt[r], "gaussian", h))
                  for r in range(reps)])
    v = np.array([float(gm.ot.mmd2(xt[r], yt[r], "gaussian", h,
                                   unbiased=False)) for r in range(reps)])
    exact = gm.ot.gaussian_mmd2(M1, S1, M2, S2, h)
    kxx = gm.ot.gaussian_mmd2(M1, S1, M1, S1, h)  # 0, sanity
    assert kxx == pytest.approx(0.0, abs=1e-15)
    ekxx = 1.0 / math.sqrt(np.linalg.det(np.eye(2) + 2 * S1 / h ** 2))
    ekyy = 1.0 / math.sqrt(np.linalg.det(np.eye(2) + 2 * S2 / h ** 2))
    bias = (1 - ekxx) / n + (1 - ekyy) / n
    se_u = u.std(ddof=1) / math.sqrt(reps)
    se_v = v.std(ddof=1) / math.sqrt(reps)
    assert abs(u.mean() - exact) < 4 * se_u
    assert abs(v.mean() - (exact + bias)) < 4 * se_v
    assert bias > 10 * se_v              # the V-statistic bias is detectable


def test_dirac_against_gaussian_is_finite():
    # a Dirac at x0 is N(x0, 0): closed form vs V-statistic of one point
    rng = np.random.default_rng(4)
    x0 = np.array([[0.5, 0.0]])
    y = rng.normal(size=(4000, 2))
    exact = gm.ot.gaussian_mmd2(x0[0], np.zeros((2, 2)), M1, S1, 1.0)
    est = gm.ot.mmd2(x0, y, "gaussian", 1.0, unbiased=False)
    # the cross term dominates the sampling error; the V-statistic bias of
    # the y-y term is at most 1/m
    kxy = gm.ot.kernel_matrix(x0, y, "gaussian", 1.0).ravel()
    se = 2 * kxy.std() / math.sqrt(len(y))
    assert np.isfinite(exact) and exact > 0.3
    assert abs(est - exact) < 4 * se + 1 / len(y)


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(5)
    x = torch.tensor(rng.normal(size=(6, 2)), requires_grad=True)
    y = torch.tensor(rng.normal(size=(5, 2)))
    (g,) = torch.autograd.grad(gm.ot.mmd2(x, y, "imq", 2.0), x)
    fd = torch.zeros_like(x)
    with torch.no_grad():
        for i in range(6):
            for k in range(2):
                e = torch.zeros_like(x)
                e[i, k] = 1e-6
                fd[i, k] = (gm.ot.mmd2(x + e, y, "imq", 2.0)
                            - gm.ot.mmd2(x - e, y, "imq", 2.0)) / 2e-6
    assert torch.allclose(g, fd, atol=1e-8)


def test_numpy_in_float_out_and_torch_in_tensor_out():
    x = np.array([[0.0, 0.0], [1.0, 0.0]])
    assert isinstance(gm.ot.mmd2(x, x + 1), float)
    assert isinstance(gm.ot.mmd2(torch.as_tensor(x), x + 1), torch.Tensor)


@pytest.mark.parametrize("kwargs,match", [
    ({"x": [0.0, 1.0], "y": [[0.0], [1.0]]}, r"shape \(n, k\)"),
    ({"x": [[0.0, 1.0], [1.0, 0.0]], "y": [[0.0], [1.0]]}, "same dimension"),
    ({"x": [[np.nan], [1.0]], "y": [[0.0], [1.0]]}, "NaN"),
    ({"x": [[0.0], [1.0]], "y": [[0.0], [1.0]], "kernel": "rbf"}, "kernel must"),
    ({"x": [[0.0], [1.0]], "y": [[0.0], [1.0]], "scale": 0.0}, "scale"),
    ({"x": [[0.0]], "y": [[0.0], [1.0]]}, "at least 2 points"),
    ({"x": [[0.0], [1.0]], "y": [[0.0], [1.0]], "a": [0.5, 0.5]}, "V-statistic"),
    ({"x": [[0.0], [1.0]], "y": [[0.0], [1.0]], "unbiased": False, "a": [0.5, 0.6]},
     "sum to 1"),
])
def test_bad_input_is_reported(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        gm.ot.mmd2(**kwargs)


def test_gaussian_closed_form_rejects_bad_shapes():
    with pytest.raises(ValueError, match="same length"):
        gm.ot.gaussian_mmd2([0.0], [[1.0]], [0.0, 1.0], np.eye(2), 1.0)
    with pytest.raises(ValueError, match="symmetric"):
        gm.ot.gaussian_mmd2([0, 0], [[1, 1], [0, 1]], [0, 0], np.eye(2), 1.0)
    with pytest.raises(ValueError, match="bandwidth"):
        gm.ot.gaussian_mmd2([0.0], [[1.0]], [0.0], [[1.0]], -1.0)
