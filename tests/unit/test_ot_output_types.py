"""The output rule of :mod:`gmtheory.ot`, checked on every public function.

NumPy (or list) inputs give NumPy arrays; if an array argument is a torch
tensor, array results are tensors. Non-differentiable scalars are Python
floats either way; the differentiable ones (Sinkhorn's ``cost`` and
``value``, the Sinkhorn divergence, the MMD) are 0-d tensors for tensor
input. Both routes give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import gmtheory.ot as gmot

RNG = np.random.default_rng(7)
X = RNG.normal(size=(5, 2))
Y = RNG.normal(size=(4, 2)) + 1.0
A = np.full(5, 0.2)
B = np.array([0.1, 0.2, 0.3, 0.4])
C = gmot.cost_matrix(X, Y)
SQ = gmot.cost_matrix(X, X[::-1])
G = np.exp(-gmot.cost_matrix(X, X))  # a Gaussian Gram matrix on the rows
H = RNG.normal(size=5)
W = np.array([0.1, 0.3, 0.2, 0.25, 0.15])
U3 = np.full(3, 1 / 3)
C3, G3 = C[:3, :3].copy(), G[:3, :3].copy()
S1, S2 = G[:2, :2].copy(), G[1:3, 1:3].copy()


def _arrays(conv: Callable[[np.ndarray], Any]) -> dict[str, Any]:
    return {k: conv(v) for k, v in
            dict(x=X, y=Y, a=A, b=B, w=W, u3=U3, C=C, C3=C3, SQ=SQ, G=G, G3=G3, S1=S1, S2=S2,
                 h=H, x0=X[0], y0=Y[0]).items()}


# name -> function of the (converted) inputs, returning a tuple of array results
ARRAY_CASES: dict[str, Callable[[dict[str, Any]], tuple]] = {
    "cost_matrix": lambda d: (gmot.cost_matrix(d["x"], d["y"]),
                              gmot.cost_matrix(d["x"], d["y"], p=1)),
    "c_transform": lambda d: (gmot.c_transform(d["h"], d["C"]),
                              *gmot.c_transform(d["h"], d["C"], return_argmin=True)),
    "cbar_transform": lambda d: (gmot.cbar_transform(d["b"], d["C"]),
                                 *gmot.cbar_transform(d["b"], d["C"], return_argmin=True)),
    "exact_ot": lambda d: (lambda r: (r.plan, r.f, r.g))(gmot.exact_ot(d["a"], d["b"], d["C"])),
    "exact_ot_lp": lambda d: (lambda r: (r.plan, r.f, r.g))(
        gmot.exact_ot(d["a"], d["b"], d["C"], method="lp")),
    "assignment_ot": lambda d: (lambda r: (r.permutation, r.plan))(gmot.assignment_ot(d["SQ"])),
    "sinkhorn": lambda d: (lambda r: (r.plan, r.f, r.g))(gmot.sinkhorn(d["a"], d["b"], d["C"], 0.5)),
    "best_critic": lambda d: (gmot.best_critic(d["a"], d["w"]).critic,
                              gmot.best_critic(d["a"], d["w"], d["x"], lipschitz=1.0).critic),
    "relaxed_primal": lambda d: (gmot.relaxed_primal(d["C"], d["a"], d["b"], d["G"], 1.0).plan,),
    "deterministic_relaxed_primal": lambda d: (
        gmot.deterministic_relaxed_primal(d["C3"], d["u3"], d["u3"], d["G3"], 1.0).plan,),
    "kernel_matrix": lambda d: (gmot.kernel_matrix(d["x"], d["y"]),
                                gmot.kernel_matrix(d["x"], d["y"], "gaussian", 0.5)),
}

# scalars that follow the array type (differentiable quantities)
DIFFERENTIABLE_SCALARS: dict[str, Callable[[dict[str, Any]], tuple]] = {
    "sinkhorn": lambda d: (lambda r: (r.cost, r.value))(gmot.sinkhorn(d["a"], d["b"], d["C"], 0.5)),
    "sinkhorn_divergence": lambda d: (gmot.sinkhorn_divergence(d["x"], d["y"], 0.5),),
    "mmd2": lambda d: (gmot.mmd2(d["x"], d["y"]), gmot.mmd2(d["x"], d["y"], unbiased=False)),
}

# scalars that are Python floats whatever the input type
FLOAT_SCALARS: dict[str, Callable[[dict[str, Any]], tuple]] = {
    "exact_ot": lambda d: (gmot.exact_ot(d["a"], d["b"], d["C"]).cost,),
    "assignment_ot": lambda d: (gmot.assignment_ot(d["SQ"]).cost,),
    "best_critic": lambda d: (gmot.best_critic(d["a"], d["a"]).value,),
    "dual_value": lambda d: (gmot.dual_value(d["h"], d["h"][:4], d["a"], d["b"]),),
    "dual_violation": lambda d: (gmot.dual_violation(d["h"], d["h"][:4], d["C"]),),
    "wasserstein_1d": lambda d: (gmot.wasserstein_1d(d["h"], d["h"] + 1.0, p=2),),
    "wasserstein_1d_cdf": lambda d: (gmot.wasserstein_1d_cdf(d["h"], d["h"] + 1.0),),
    "gaussian_w2": lambda d: (gmot.gaussian_w2(d["x0"], d["S1"], d["y0"], d["S2"]),),
    "gaussian_mmd2": lambda d: (gmot.gaussian_mmd2(d["x0"], d["S1"], d["y0"], d["S2"], 1.0),),
    "kl": lambda d: (gmot.kl(d["a"], d["a"]),),
    "js": lambda d: (gmot.js(d["a"], d["w"]),),
    "tv": lambda d: (gmot.tv(d["a"], d["w"]),),
}


def _both(case: Callable[[dict[str, Any]], tuple]) -> tuple[tuple, tuple]:
    return case(_arrays(lambda v: v)), case(_arrays(torch.as_tensor))


@pytest.mark.parametrize("name", sorted(ARRAY_CASES))
def test_arrays_follow_the_input_type(name):
    from_numpy, from_torch = _both(ARRAY_CASES[name])
    for n_out, t_out in zip(from_numpy, from_torch):
        assert isinstance(n_out, np.ndarray), f"{name}: NumPy in, {type(n_out).__name__} out"
        assert isinstance(t_out, torch.Tensor), f"{name}: torch in, {type(t_out).__name__} out"
        assert t_out.dtype == (torch.int64 if n_out.dtype.kind == "i" else torch.float64)
        np.testing.assert_allclose(t_out.numpy(), n_out, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", sorted(ARRAY_CASES))
def test_lists_count_as_numpy(name):
    out = ARRAY_CASES[name](_arrays(lambda v: v.tolist()))
    assert all(isinstance(o, np.ndarray) for o in out)


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE_SCALARS))
def test_differentiable_scalars_follow_the_input_type(name):
    from_numpy, from_torch = _both(DIFFERENTIABLE_SCALARS[name])
    for n_out, t_out in zip(from_numpy, from_torch):
        assert type(n_out) is float
        assert isinstance(t_out, torch.Tensor) and t_out.ndim == 0
        assert float(t_out) == pytest.approx(n_out, abs=1e-12)


@pytest.mark.parametrize("name", sorted(FLOAT_SCALARS))
def test_other_scalars_are_python_floats(name):
    from_numpy, from_torch = _both(FLOAT_SCALARS[name])
    for n_out, t_out in zip(from_numpy, from_torch):
        assert type(n_out) is float and type(t_out) is float
        assert t_out == pytest.approx(n_out, abs=1e-12)


def test_building_blocks_keep_dtype_and_gradient():
    x = torch.tensor(X, dtype=torch.float32, requires_grad=True)
    Cx = gmot.cost_matrix(x, torch.tensor(Y, dtype=torch.float32), p=1)
    assert Cx.dtype == torch.float32 and Cx.requires_grad
    hc = gmot.cbar_transform(torch.zeros(4, dtype=torch.float32), Cx)
    assert hc.dtype == torch.float32
    (grad,) = torch.autograd.grad(hc.sum(), x)
    assert torch.isfinite(grad).all()
    # a float32 tensor beside a float64 array: the common dtype is float64
    assert gmot.cost_matrix(x, Y).dtype == torch.float64
    # coincident points: the gradient of |x - y| is 0 there, not NaN
    z = torch.zeros(1, 2, requires_grad=True)
    (gz,) = torch.autograd.grad(gmot.cost_matrix(z, torch.zeros(1, 2), p=1).sum(), z)
    assert torch.equal(gz, torch.zeros(1, 2))


def test_numpy_and_torch_cost_matrices_agree_bit_for_bit_in_low_dimension():
    for p in (1.0, 2.0):
        ref = gmot.cost_matrix(X, Y, p)
        assert np.array_equal(gmot.cost_matrix(torch.tensor(X), torch.tensor(Y), p).numpy(), ref)
    # other exponents go through each library's pow: equal to rounding
    ref = gmot.cost_matrix(X, Y, 3.0)
    np.testing.assert_allclose(gmot.cost_matrix(torch.tensor(X), torch.tensor(Y), 3.0).numpy(),
                               ref, rtol=1e-15, atol=0)
    # the expansion |x|^2 - 2 x.y + |y|^2 is not used: close points keep their digits
    near = np.array([[1e8, 0.0]])
    assert gmot.cost_matrix(near, near + [1e-4, 0.0])[0, 0] == pytest.approx(1e-8, rel=1e-7)


def test_c_transform_argmin_is_the_first_minimiser_in_both_types():
    Ct = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 2.0]])    # ties in columns 1 and 2
    for conv in (np.asarray, torch.as_tensor):
        vals, idx = gmot.c_transform(conv(np.zeros(2)), conv(Ct), return_argmin=True)
        assert np.asarray(idx).tolist() == [1, 0, 0]
        vals, idx = gmot.cbar_transform(conv(np.zeros(3)), conv(Ct), return_argmin=True)
        assert np.asarray(idx).tolist() == [1, 0]
        assert np.asarray(vals).tolist() == [0.0, 0.0]
