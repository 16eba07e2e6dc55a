"""Benchmark: semi-discrete OT on ill-conditioned targets, SGD against SGD + Newton.

Run (from the repository root, with the README's venv)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/semidiscrete.py  [--quick]

(``--quick``: skip the SGD runs with ten times the steps.)

Targets, all with the squared cost and a uniform source:

- ``1-D pair``: U[0, 1] to four atoms, two of them 1e-3 apart with weights
  0.35 and 0.15 (the test target of ``tests/unit/test_semidiscrete.py``).
  Reference: the cells are the intervals between the cumulative weights
  (quantile function), W in closed form; the cell masses of a dual vector
  are measured on 10^6 midpoint quantiles (exact to 1e-6).
- ``2-D pair``: the unit square to eight weighted atoms, two 1e-3 apart.
- ``2-D m=20``: twenty weighted atoms with two pairs 1e-3 apart.
- ``2-D book``: the well-conditioned eight atoms of the chapter on duality
  (SGD converges there, so ``sgd+newton`` returns the SGD result).

In 2-D the cell masses are measured on 10^6 fresh samples the solver never
saw (Monte Carlo noise about ``floor`` in the table) and the reference value
is exact discrete OT (POT's ``ot.emd2``) of the 100 x 100 midpoint grid,
whose discretisation error is estimated against the 50 x 50 grid.

Columns: the solver's own mass-error estimate and ``converged``; the mass
error against the reference; ``value - W`` in units of the reported standard
error (a value that hides a wrong cell is still within a few s.e.); seconds,
and the ratio to ``sgd`` with the default 20000 steps on the same target,
measured in the same run.
"""

from __future__ import annotations

import os
import sys
import time
import warnings

# benchmarks/ holds a script named ot.py: drop this folder from the path so
# that `import ot` finds POT
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import numpy as np  # noqa: E402  (after the sys.path fix above)
import ot as pot  # noqa: E402

import gmtheory as gm  # noqa: E402

N_EVAL = 100_000
N_ITER = 20_000
N_CHECK = 10**6


def uniform_line(n, rng):
    return rng.uniform(size=(n, 1))


def uniform_square(n, rng):
    return rng.uniform(size=(n, 2))


def target_1d():
    y = np.array([[0.2], [0.5], [0.501], [0.8]])
    b = np.array([0.2, 0.35, 0.15, 0.3])
    t = np.concatenate([[0.0], np.cumsum(b)[:-1], [1.0]])
    w = float((((t[1:] - y[:, 0]) ** 3 - (t[:-1] - y[:, 0]) ** 3) / 3).sum())
    x = (np.arange(N_CHECK) + 0.5)[:, None] / N_CHECK
    return y, b, uniform_line, 1.0, w, 0.0, x


def weighted_atoms(m, seed, pairs=()):
    rng = np.random.default_rng(seed)
    y = rng.uniform(0.05, 0.95, size=(m, 2))
    for j, shift in pairs:
        y[j + 1] = y[j] + shift
    b = rng.uniform(0.5, 1.5, m)
    return y, b / b.sum()


def grid_reference(y, b):
    """W on the 100 x 100 midpoint grid, and its change from the 50 x 50 one."""
    def w(k):
        t = (np.arange(k) + 0.5) / k
        pts = np.stack(np.meshgrid(t, t), axis=-1).reshape(-1, 2)
        return pot.emd2(np.full(k * k, 1.0 / k**2), b, gm.ot.cost_matrix(pts, y),
                        numItermax=10**8)
    fine = w(100)
    return float(fine), float(abs(fine - w(50)))


def targets():
    yield ("1-D pair",) + target_1d()
    check = uniform_square(N_CHECK, np.random.default_rng(2024))
    rng = np.random.default_rng(3)
    y8 = rng.uniform(0.1, 0.9, size=(8, 2))
    y8[1] = y8[0] + [1e-3, 0.0]
    b8 = rng.uniform(0.5, 1.5, 8)
    b8 /= b8.sum()
    yield ("2-D pair", y8, b8, uniform_square, 0.2, *grid_reference(y8, b8), check)
    y20, b20 = weighted_atoms(20, 2, [(0, [6e-4, 8e-4]), (2, [0.0, 1e-3])])
    yield ("2-D m=20", y20, b20, uniform_square, 1.0, *grid_reference(y20, b20),
           check)
    rng = np.random.default_rng(3)  # the chapter's target (duality.md)
    yb = rng.uniform(0.1, 0.9, size=(8, 2))
    bb = rng.uniform(0.5, 1.5, 8)
    bb /= bb.sum()
    yield ("2-D book", yb, bb, uniform_square, 0.2, *grid_reference(yb, bb), check)


def main(quick: bool = False) -> None:
    runs = [("sgd", N_ITER), ("sgd+newton", N_ITER), ("newton", N_ITER)]
    if not quick:
        runs.insert(1, ("sgd", 10 * N_ITER))
    print(f"n_eval = {N_EVAL}, tol = 0.02; mass errors are L1; 'check' is the "
          f"error against the reference ({N_CHECK} points)\n")
    head = (f"{'target':9} {'method':11} {'SGD':>6} {'Newton':>6} "
            f"{'estimate':>8} {'conv':>5} {'check':>7} {'floor':>6} "
            f"{'(value-W)/se':>12} {'W err':>7} {'s':>6} {'ratio':>5}")
    print(head)
    print("-" * len(head))
    t_start = time.perf_counter()
    for name, y, b, sampler, step, w, w_err, check in targets():
        floor = 0.0 if name.startswith("1-D") else float(
            np.sqrt(2 / np.pi) * np.sqrt(b * (1 - b) / N_CHECK).sum())
        base = None
        for method, n_iter in runs:
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = gm.ot.semidiscrete_ot(sampler, y, b, n_iter=n_iter,
                                            step=step, n_eval=N_EVAL, seed=0,
                                            method=method)
            sec = time.perf_counter() - t0
            base = sec if (method, n_iter) == ("sgd", N_ITER) else base
            cells = gm.ot.laguerre_cells(check, y, res.g)
            err = float(np.abs(np.bincount(cells, minlength=len(b)) / len(check)
                               - b).sum())
            z = (res.value - w) / res.value_se
            label = method if n_iter == N_ITER or method == "newton" else "sgd 10x"
            print(f"{name:9} {label:11} {res.iterations:6d} "
                  f"{res.newton_iterations:6d} {res.mass_error:8.4f} "
                  f"{res.converged!s:>5} {err:7.4f} {floor:6.4f} "
                  f"{z:12.1f} {w_err:7.1e} {sec:6.2f} {sec / base:5.2f}",
                  flush=True)
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
