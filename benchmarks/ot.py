"""Benchmark: gmtheory.ot against POT on exact and entropic transport.

Run:  /work/venv/bin/python benchmarks/ot.py  [--quick]

For n = 500, 1000, 2000 points in 2-D and 64-D (Gaussian clouds, uniform
weights, squared Euclidean cost divided by its maximum) the script times

- exact OT: ``gm.ot.exact_ot`` (HiGHS LP) vs POT's network simplex
  ``ot.emd2``; the LP has n^2 variables, so HiGHS is only run while its
  predicted time (extrapolated as n^2.5 from the previous size) stays under
  ``EXACT_BUDGET`` seconds;
- entropic OT: ``gm.ot.sinkhorn`` (log domain, torch log-sum-exp) vs
  ``ot.sinkhorn2(..., method="sinkhorn_log")`` with the same eps and the same
  stopping threshold on the marginal violation. POT tests the l2 norm of
  the column violation every 10 iterations, gmtheory the l1 norm of the row
  violation every iteration (l1 >= l2, so gmtheory stops no earlier at equal
  threshold); the table reports the l1 violation both plans actually reach.

Both libraries run single-threaded (``torch.set_num_threads(1)``; NumPy's
log-sum-exp is single-threaded), on the same data, in the same process; the
ratios are measured in the same run. Times are the best of ``REPEAT`` runs.
"""

from __future__ import annotations

import os
import sys
import time
import warnings

# this file is named ot.py: drop its own folder from the path so that
# `import ot` finds POT, not this script
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import numpy as np  # noqa: E402
import ot as pot  # noqa: E402
import torch  # noqa: E402

import gmtheory as gm  # noqa: E402

SIZES = (500, 1000, 2000)
DIMS = (2, 64)
EPS = 0.01          # relative to max C (the cost is normalised)
TOL = 1e-6          # stopping threshold on the marginal violation
REPEAT = 2
EXACT_BUDGET = 20.0  # seconds allowed for one HiGHS solve


def best_time(fn, repeat=REPEAT):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def problem(n, d, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = rng.normal(size=(n, d)) + 0.5
    C = gm.ot.cost_matrix(x, y)
    return np.full(n, 1.0 / n), C / C.max()


def l1_violation(P, a, b):
    return float(np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum())


def main(quick: bool = False) -> None:
    torch.set_num_threads(1)
    sizes = SIZES[:1] if quick else SIZES
    t_start = time.perf_counter()
    rows = []
    for d in DIMS:
        highs_time, highs_n = None, None
        for n in sizes:
            a, C = problem(n, d)
            # ---- exact
            t_pot, w_pot = best_time(lambda: pot.emd2(a, a, C, numItermax=10**7), 1)
            predicted = (0.0 if highs_time is None
                         else highs_time * (n / highs_n) ** 2.5)
            if predicted <= EXACT_BUDGET:
                t_gm, sol = best_time(lambda: gm.ot.exact_ot(a, a, C), 1)
                highs_time, highs_n = t_gm, n
                exact = (f"{t_gm:8.2f} {t_pot:7.3f} {t_gm / t_pot:8.1f} "
                         f"{abs(sol.cost - w_pot) / w_pot:9.1e}")
            else:
                exact = f"{'skip':>8} {t_pot:7.3f} {'-':>8} {'-':>9}"
            # ---- Sinkhorn
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                t_sk, res = best_time(
                    lambda: gm.ot.sinkhorn(a, a, C, EPS, tol=TOL, max_iter=100_000))
                t_ps, cost_pot = best_time(
                    lambda: pot.sinkhorn2(a, a, C, EPS, method="sinkhorn_log",
                                          stopThr=TOL, numItermax=100_000))
            P_pot, log = pot.sinkhorn(a, a, C, EPS, method="sinkhorn_log",
                                      stopThr=TOL, numItermax=100_000, log=True)
            rows.append(
                f"{d:3d} {n:5d} | {exact} | {t_sk:7.3f} {t_ps:7.3f} "
                f"{t_sk / t_ps:6.2f} | {res.iterations:5d} {log['niter'] + 1:5d} | "
                f"{l1_violation(res.plan, a, a):8.1e} {l1_violation(P_pot, a, a):8.1e} "
                f"| {abs(res.cost - float(cost_pot)):8.1e}"
            )
            print(rows[-1], flush=True)
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s "
          f"(eps = {EPS} x max C, stopping threshold {TOL:g}, torch threads "
          f"{torch.get_num_threads()})")



if __name__ == "__main__":
    print("  d     n | exact: gm(s) POT(s) gm/POT rel.diff | sinkhorn: gm(s)"
          "  POT(s) gm/POT | it.gm it.POT | viol.gm viol.POT | |cost gm-POT|")
    main(quick="--quick" in sys.argv)
