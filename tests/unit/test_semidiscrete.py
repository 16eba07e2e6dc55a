"""Semi-discrete OT on ill-conditioned targets: the damped Newton phase.

Two atoms 1e-3 apart make the semi-dual steep along g_j - g_l: averaged SGD
leaves a cell with the wrong mass however many steps it takes, and the
value hides it. Each test checks the mass against an independent route (the
quantile function in 1-D, a fresh sample in 2-D) and shows that SGD alone
fails on the same target.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import ot as pot
import pytest

import gmtheory as gm
from gmtheory.ot import semidiscrete_ot


def uniform_line(n, rng):
    return rng.uniform(size=(n, 1))


def uniform_square(n, rng):
    return rng.uniform(size=(n, 2))


# 1-D: U[0, 1] to four atoms, two of them 1e-3 apart with unequal weights.
# The optimal map is monotone, so the cells are the intervals between the
# cumulative weights B = (0.2, 0.55, 0.7).
Y1 = np.array([[0.2], [0.5], [0.501], [0.8]])
B1 = np.array([0.2, 0.35, 0.15, 0.3])
CUM1 = np.cumsum(B1)[:-1]


def _boundaries_1d(g):
    """Boundaries between consecutive cells on the line (squared cost):
    (t - y_j)^2 - g_j = (t - y_{j+1})^2 - g_{j+1}."""
    y = Y1[:, 0]
    return ((g[:-1] - g[1:]) + y[1:] ** 2 - y[:-1] ** 2) / (2 * (y[1:] - y[:-1]))


def _exact_h_1d(g):
    """H(g) on U[0, 1] in closed form, for boundaries increasing in [0, 1]."""
    t = np.concatenate([[0.0], _boundaries_1d(g), [1.0]])
    y = Y1[:, 0]
    cells = ((t[1:] - y) ** 3 - (t[:-1] - y) ** 3) / 3 - g * (t[1:] - t[:-1])
    return float(cells.sum() + B1 @ g)


def _grid_masses_1d(g, k=100_000):
    """Cell masses of U[0, 1] to 1/k, from the cells of k midpoints."""
    x = (np.arange(k) + 0.5) / k
    return np.bincount(gm.ot.laguerre_cells(x[:, None], Y1, g), minlength=4) / k


def _exact_w_1d():
    t = np.concatenate([[0.0], CUM1, [1.0]])
    y = Y1[:, 0]
    return float((((t[1:] - y) ** 3 - (t[:-1] - y) ** 3) / 3).sum())


def test_1d_close_atoms_match_the_quantile_solution():
    # reference value by two routes: the integral over the quantile cells,
    # and gm.ot.wasserstein_1d against the midpoint quantiles of U[0, 1]
    w_exact = _exact_w_1d()
    K = 10**6
    w_quant = gm.ot.wasserstein_1d((np.arange(K) + 0.5) / K, Y1[:, 0], b=B1,
                                   p=2) ** 2
    assert w_quant == pytest.approx(w_exact, abs=1e-10)

    res = semidiscrete_ot(uniform_line, Y1, B1, n_iter=2000, n_eval=100_000,
                          seed=0)
    assert res.converged and res.mass_error <= 0.02
    assert res.newton_iterations > 0
    assert "damped Newton" in res.message and "<= tol=0.02" in res.message
    # the cells are intervals; their boundaries are the quantiles of b, up to
    # the sampling error of the N fixed samples and the Newton target
    N, target = 100_000, 0.02 / 10
    t = _boundaries_1d(res.g)
    bound = 5 * np.sqrt(CUM1 * (1 - CUM1) / N) + target
    assert np.all(np.abs(t - CUM1) <= bound), (t, CUM1)
    # exact H of the returned vector: below W (duality), and close to it;
    # the Monte Carlo value estimates it within four standard errors
    h = _exact_h_1d(res.g)
    assert h <= w_exact + 1e-15
    assert w_exact - h <= res.value_se
    assert abs(res.value - h) <= 4 * res.value_se


def test_1d_close_atoms_defeat_sgd_alone():
    # the same target: SGD leaves a cell of the wrong mass, and ten times
    # the steps do not fix it; its warning sends the user to the Newton phase
    for n_iter in (2000, 20_000):
        with pytest.warns(RuntimeWarning, match=r"method='sgd\+newton'"):
            res = semidiscrete_ot(uniform_line, Y1, B1, n_iter=n_iter,
                                  n_eval=100_000, seed=0, method="sgd")
        assert not res.converged and res.mass_error > 0.1
        assert res.newton_iterations == 0
        # on the exact cells too (midpoint quantiles of U[0, 1], 1e-5 apart)
        assert np.abs(_grid_masses_1d(res.g) - B1).sum() > 0.1


def _target_2d():
    rng = np.random.default_rng(3)
    y = rng.uniform(0.1, 0.9, size=(8, 2))
    y[1] = y[0] + [1e-3, 0.0]
    b = rng.uniform(0.5, 1.5, 8)
    return y, b / b.sum()


def _fresh_masses(y, g, n, seed):
    x = uniform_square(n, np.random.default_rng(seed))
    return np.bincount(gm.ot.laguerre_cells(x, y, g), minlength=len(y)) / n


def test_2d_close_atoms_cell_masses_and_value():
    y, b = _target_2d()
    n_eval = n_fresh = 100_000
    res = semidiscrete_ot(uniform_square, y, b, n_iter=2000, step=0.2,
                          n_eval=n_eval, seed=0)
    assert res.converged and res.newton_iterations > 0
    # cell masses on a fresh sample that the solver never saw
    masses = _fresh_masses(y, res.g, n_fresh, seed=123)
    sd = np.sqrt(b * (1 - b) * (1 / n_fresh + 1 / n_eval))
    assert np.all(np.abs(masses - b) <= 4 * sd + 0.02 / 10), masses - b
    assert np.abs(masses - b).sum() <= 0.02
    # value against exact discrete OT of a large sample (POT), within the
    # Monte Carlo error of both: W_N fluctuates as the mean of the optimal
    # potentials u_i, and H_N(g) <= W_N on that sample (weak duality), with a
    # gap below the standard error of the value
    n_ref = 10_000
    x = uniform_square(n_ref, np.random.default_rng(7))
    C = gm.ot.cost_matrix(x, y)
    w_n, log = pot.emd2(np.full(n_ref, 1 / n_ref), b, C, numItermax=10**7,
                        log=True)
    se_ref = float(np.std(log["u"], ddof=1) / math.sqrt(n_ref))
    assert abs(res.value - w_n) <= 4 * math.hypot(se_ref, res.value_se)
    h_n = gm.ot.semidiscrete_dual(res.g, x, y, b)[0]
    assert -1e-12 <= w_n - h_n <= res.value_se


def test_2d_close_atoms_defeat_sgd_alone():
    y, b = _target_2d()
    with pytest.warns(RuntimeWarning, match="cell masses differ from b"):
        res = semidiscrete_ot(uniform_square, y, b, n_iter=2000, step=0.2,
                              n_eval=100_000, seed=0, method="sgd")
    assert res.mass_error > 0.1
    assert np.abs(_fresh_masses(y, res.g, 100_000, seed=123) - b).sum() > 0.1


def test_twenty_atoms_with_two_close_pairs():
    rng = np.random.default_rng(2)
    y = rng.uniform(0.05, 0.95, (20, 2))
    y[1] = y[0] + [6e-4, 8e-4]
    y[3] = y[2] + [0.0, 1e-3]
    b = rng.uniform(0.5, 1.5, 20)
    b /= b.sum()
    kw = dict(n_iter=5000, n_eval=100_000, seed=0)
    with pytest.warns(RuntimeWarning, match="cell masses differ from b"):
        sgd = semidiscrete_ot(uniform_square, y, b, method="sgd", **kw)
    res = semidiscrete_ot(uniform_square, y, b, **kw)
    assert sgd.mass_error > 0.02 >= res.mass_error
    masses = _fresh_masses(y, res.g, 100_000, seed=321)
    sd = np.sqrt(b * (1 - b) * 2 / 100_000)
    # every cell, the four of the close pairs included, within four standard
    # deviations of the two samples plus the Newton target
    assert np.all(np.abs(masses - b) <= 4 * sd + 0.02 / 10), masses - b


def test_newton_phase_leaves_converged_sgd_untouched():
    # where SGD reaches tol the default method returns the SGD result,
    # bit for bit (the book's numbers do not move)
    y, b = np.array([[0.2], [0.7]]), np.array([0.3, 0.7])
    kw = dict(n_iter=3000, n_eval=50_000, seed=4)
    a = semidiscrete_ot(uniform_line, y, b, method="sgd", **kw)
    c = semidiscrete_ot(uniform_line, y, b, **kw)
    assert a.converged and c.newton_iterations == 0
    np.testing.assert_array_equal(a.g, c.g)
    assert (a.value, a.mass_error, a.message) == (c.value, c.mass_error, c.message)
    assert c.message.startswith("averaged SGD ran 3000 steps;")


def test_newton_only_and_zero_weights():
    # method="newton" skips SGD; an atom of zero weight gets an empty cell
    y = np.array([[0.2], [0.5], [0.501], [0.8]])
    b = np.array([0.4, 0.0, 0.3, 0.3])
    res = semidiscrete_ot(uniform_line, y, b, method="newton", n_eval=50_000)
    assert res.iterations == 0 and res.g_history.shape == (0, 4)
    assert res.converged and res.message.startswith("damped Newton")
    assert res.cell_masses[1] == 0.0
    t = np.sort(uniform_line(50_000, np.random.default_rng(5)), axis=0)
    cells = gm.ot.laguerre_cells(t, y, res.g)
    assert np.all(np.diff(cells) >= 0) and 1 not in cells  # monotone map


def test_advice_when_the_newton_phase_cannot_finish():
    y, b = _target_2d()
    with pytest.warns(RuntimeWarning, match="raise newton_iter"):
        res = semidiscrete_ot(uniform_square, y, b, method="newton",
                              n_eval=20_000, newton_iter=1)
    assert res.newton_iterations == 1 and not res.converged
    # a source with atoms cannot be split by Laguerre cells
    def atoms(n, rng):
        return rng.integers(0, 3, size=(n, 1)).astype(float)

    with pytest.warns(RuntimeWarning, match="draws from a density"):
        res = semidiscrete_ot(atoms, [[0.0], [1.0], [2.0]], [0.5, 0.25, 0.25],
                              n_iter=200, n_eval=10_000)
    assert not res.converged
    # noise-limited: exact cells on the sample, tol below the noise floor
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = semidiscrete_ot(uniform_line, Y1, B1, n_iter=200, n_eval=2000,
                              tol=1e-3)
    assert not res.converged and res.newton_iterations > 0
    assert "sampling noise" in res.message and "raise n_eval" in res.message
    assert [str(w.message) for w in rec] == [f"semidiscrete_ot: {res.message}"]


def test_new_arguments_are_validated():
    with pytest.raises(ValueError, match="method must be one of"):
        semidiscrete_ot(uniform_line, Y1, B1, method="lbfgs")
    with pytest.raises(ValueError, match="n_newton must be a positive integer"):
        semidiscrete_ot(uniform_line, Y1, B1, n_newton=0)
    with pytest.raises(ValueError, match="newton_iter must be a positive integer"):
        semidiscrete_ot(uniform_line, Y1, B1, newton_iter=0)
