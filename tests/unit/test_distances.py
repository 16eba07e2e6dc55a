"""Tests of gmtheory.geometry.distances.metric_axioms."""

import itertools

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

from gmtheory import metric_axioms


def _brute_force_excess(D: np.ndarray) -> float:
    n = D.shape[0]
    return max(D[i, k] - D[i, j] - D[j, k]
               for i, j, k in itertools.product(range(n), repeat=3))


def _squared(a, b):
    return torch.cdist(a, b) ** 2


def test_collinear_counterexample_for_squared_distance():
    x = torch.tensor([[0.0], [1.0], [2.0]], dtype=torch.float64)
    r = metric_axioms(x, _squared)
    assert r.max_triangle_excess == pytest.approx(4.0 - 1.0 - 1.0, abs=1e-12)
    assert sorted(r.worst_triple) == [0, 1, 2] and r.worst_triple[1] == 1
    assert not r.holds
    # the other three axioms do hold for the square
    assert r.min_value >= 0 and r.max_asymmetry == 0 and r.max_identical == 0
    assert r.min_distinct == pytest.approx(1.0)


def test_euclidean_is_a_metric_and_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(9, 4, generator=g, dtype=torch.float64)
    r = metric_axioms(x, torch.cdist, atol=1e-12)
    assert r.holds
    D = cdist(x.numpy(), x.numpy())  # independent route: scipy
    brute = _brute_force_excess(D)
    assert r.max_triangle_excess == pytest.approx(brute, abs=1e-12)
    # the maximal excess is 0, attained by degenerate triples (j = i or k)
    assert abs(r.max_triangle_excess) <= 1e-12
    off_diagonal = D[~np.eye(9, dtype=bool)]
    assert r.min_distinct == pytest.approx(off_diagonal.min(), rel=1e-12)


def test_squared_excess_matches_brute_force_and_worst_triple():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(8, 3, generator=g, dtype=torch.float64)
    r = metric_axioms(x, _squared)
    D = cdist(x.numpy(), x.numpy(), "sqeuclidean")
    best = _brute_force_excess(D)
    assert r.max_triangle_excess == pytest.approx(best, rel=1e-12)
    i, j, k = r.worst_triple
    assert D[i, k] - D[i, j] - D[j, k] == pytest.approx(best, rel=1e-12)
    assert best > 0 and not r.holds


def test_duplicates_count_as_identical_points():
    x = torch.tensor([[0.0, 1.0], [0.0, 1.0], [3.0, 5.0]], dtype=torch.float64)
    r = metric_axioms(x, torch.cdist)
    assert r.holds and r.max_identical == 0
    assert r.min_distinct == pytest.approx(5.0, rel=1e-12)
    # a "distance" that is 1 everywhere violates identity of indiscernibles
    ones = metric_axioms(x, lambda a, b: torch.ones(a.shape[0], b.shape[0],
                                                    dtype=a.dtype))
    assert ones.max_identical == 1.0 and not ones.holds
    single = metric_axioms(x[:1], torch.cdist)
    assert single.min_distinct == float("inf") and single.holds


def test_asymmetric_and_negative_candidates_fail():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(5, 2, generator=g, dtype=torch.float64)

    def shifted(a, b):  # d(a, b) + (a_1 - b_1): not symmetric
        return torch.cdist(a, b) + (a[:, :1] - b[:, :1].T)

    r = metric_axioms(x, shifted)
    assert r.max_asymmetry > 0.1 and not r.holds
    neg = metric_axioms(x, lambda a, b: -torch.cdist(a, b))
    assert neg.min_value < 0 and not neg.holds


def test_input_is_not_mutated():
    x = torch.tensor([[0.0], [1.0], [2.0]], dtype=torch.float64)
    before = x.clone()
    metric_axioms(x, _squared)
    assert torch.equal(x, before)


def test_errors():
    x = torch.zeros(3, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"points must have shape \(n, d\)"):
        metric_axioms(torch.zeros(3, dtype=torch.float64), torch.cdist)
    with pytest.raises(TypeError, match="floating dtype"):
        metric_axioms(torch.zeros(3, 2, dtype=torch.int64), torch.cdist)
    with pytest.raises(ValueError, match="NaN or infinite"):
        metric_axioms(torch.full((3, 2), float("nan")), torch.cdist)
    with pytest.raises(TypeError, match="distance must be callable"):
        metric_axioms(x, "euclidean")
    with pytest.raises(ValueError, match="atol must be finite and >= 0"):
        metric_axioms(x, torch.cdist, atol=-1.0)
    with pytest.raises(ValueError, match=r"must return an \(3, 3\) tensor"):
        metric_axioms(x, lambda a, b: torch.zeros(3))
    with pytest.raises(ValueError, match="NaN or infinite"):
        metric_axioms(x, lambda a, b: torch.full((3, 3), float("inf")))
