"""One result vocabulary across the solvers of :mod:`gmtheory.ot`.

Every solver result has ``converged`` (bool) and ``message`` (a sentence);
``value`` is the optimum of the problem solved and ``cost`` the transport
cost of the returned plan. Not-converged messages say what to do, and are
the text of the warning.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import torch

import gmtheory.ot as gmot

RESULTS = [gmot.ExactOTResult, gmot.AssignmentOTResult, gmot.SinkhornResult,
           gmot.SemiDiscreteResult, gmot.BestCriticResult, gmot.RelaxedPrimalResult]


@pytest.mark.parametrize("cls", RESULTS, ids=lambda c: c.__name__)
def test_every_result_has_converged_and_message(cls):
    fields = {f.name: f.type for f in dataclasses.fields(cls)}
    assert fields.get("converged") in (bool, "bool")
    assert fields.get("message") in (str, "str")
    assert "status" not in fields and "objective" not in fields


def _problem(seed=0, n=6, m=5):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, 2)), rng.normal(size=(m, 2)) + 1.0
    return np.full(n, 1 / n), np.full(m, 1 / m), gmot.cost_matrix(x, y)


def test_converged_results_say_so():
    a, b, C = _problem()
    for res in (gmot.exact_ot(a, b, C), gmot.exact_ot(a, b, C, method="lp"),
                gmot.assignment_ot(C[:5, :5]), gmot.best_critic(a, a[::-1].copy()),
                gmot.relaxed_primal(C, a, b, np.eye(6), 1.0),
                gmot.deterministic_relaxed_primal(C[:3, :3], a[:3] * 2, b[:3] * 5 / 3,
                                                  np.eye(3), 1.0)):
        assert res.converged and isinstance(res.message, str)
        assert res.message.split(":")[0] in ("Optimal", "Converged", "Exact")
    sk = gmot.sinkhorn(a, b, C, 0.5)
    assert sk.converged and sk.message.startswith("Converged")
    assert f"{sk.iterations} iterations" in sk.message


def test_sinkhorn_value_and_cost_are_the_two_quantities():
    a, b, C = _problem(seed=3)
    res = gmot.sinkhorn(a, b, C, 0.3, tol=1e-12)
    assert res.cost == pytest.approx(float(np.sum(res.plan * C)), abs=1e-14)
    assert res.value == pytest.approx(float(a @ res.f + b @ res.g), abs=1e-14)
    assert res.value != pytest.approx(res.cost, abs=1e-3)  # the entropic term


@pytest.mark.parametrize("symmetric", [False, True])
def test_sinkhorn_not_converged_message_is_the_warning(symmetric):
    rng = np.random.default_rng(5)
    x, a = rng.normal(size=(6, 2)), rng.dirichlet(np.ones(6))
    C = gmot.cost_matrix(x, x)   # OT_eps(a, a): the symmetric update applies
    with pytest.warns(RuntimeWarning) as record:
        res = gmot.sinkhorn(a, a, C, 0.3, max_iter=1, symmetric=symmetric)
    assert not res.converged
    assert res.message.startswith("Not converged") and "Increase max_iter" in res.message
    assert any(res.message in str(w.message) for w in record)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = gmot.sinkhorn(a, a, C, 0.3, max_iter=1, symmetric=symmetric, warn=False)
    assert quiet.message == res.message


def test_exact_ot_not_converged_message_is_the_warning():
    a, b, C = _problem(seed=1, n=30, m=30)
    with pytest.warns(RuntimeWarning) as record:
        res = gmot.exact_ot(a, b, C, max_iter=1)
    assert not res.converged and "Increase max_iter" in res.message
    assert any(res.message in str(w.message) for w in record)


def test_unchecked_building_blocks_give_the_same_numbers():
    rng = np.random.default_rng(2)
    x, y, g = rng.normal(size=(7, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    for p in (1.0, 2.0, 1.5):
        C = gmot.cost_matrix(x, y, p)
        assert np.array_equal(gmot.cost_matrix(x, y, p, check=False), C)
        for fn, pot in ((gmot.cbar_transform, g), (gmot.c_transform, x[:, 0])):
            v1, i1 = fn(pot, C, return_argmin=True)
            v2, i2 = fn(pot, C, return_argmin=True, check=False)
            assert np.array_equal(v1, v2) and np.array_equal(i1, i2)
    xt = torch.tensor(x, requires_grad=True)
    Ct = gmot.cost_matrix(xt, y, 1.5, check=False)
    np.testing.assert_allclose(Ct.detach().numpy(), gmot.cost_matrix(x, y, 1.5), rtol=1e-15)
    assert gmot.cbar_transform(g, Ct, check=False).requires_grad
    with pytest.raises(ValueError, match="NaN or infinite"):
        gmot.cbar_transform(g, np.full((2, 4), np.nan))
