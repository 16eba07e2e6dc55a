"""Benchmark: gmtheory.ot against POT on exact and entropic transport.

Run (from the repository root, with the README's venv)::

    .venv/bin/python benchmarks/ot.py  [--quick] [--exact]

(``--quick``: n = 500 only; ``--exact``: skip the entropic columns.)

For n = 500, 1000, 2000 points in 2-D and 64-D (Gaussian clouds, uniform
weights, squared Euclidean cost divided by its maximum) the script times

- exact OT: ``gm.ot.exact_ot`` (default ``method="network_simplex"``: POT's
  network simplex underneath, so the ratio to POT's ``ot.emd2`` measures
  the package's overhead -- input validation, plan and dual potentials;
  target <= 1.2x, values equal to 1e-12), and the HiGHS LP
  (``method="lp"``, the method the book derives); the LP has n^2
  variables, so HiGHS is only run while its predicted time (extrapolated as
  n^2.5 from the previous size) stays under ``EXACT_BUDGET`` seconds;
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

import numpy as np  # noqa: E402  (after the sys.path fix above)
import ot as pot  # noqa: E402
import torch  # noqa: E402

import gmtheory as gm  # noqa: E402

SIZES = (500, 1000, 2000)
DIMS = (2, 64)
EPS = 0.01          # relative to max C (the cost is normalised)
TOL = 1e-6          # stopping threshold on the marginal violation
REPEAT = 2
EXACT_REPEAT = 5    # best of 5, interleaved (the network simplex is fast)
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


def main(quick: bool = False, exact_only: bool = False) -> None:
    torch.set_num_threads(1)
    sizes = SIZES[:1] if quick else SIZES
    t_start = time.perf_counter()
    rows = []
    for d in DIMS:
        highs_time, highs_n = None, None
        for n in sizes:
            a, C = problem(n, d)
            # ---- exact: interleave the two so that load changes hit both
            t_pot, t_ns = np.inf, np.inf
            for _ in range(EXACT_REPEAT):
                t, w_pot = best_time(
                    lambda a=a, C=C: pot.emd2(a, a, C, numItermax=10**7), 1)
                t_pot = min(t_pot, t)
                t, ns = best_time(lambda a=a, C=C: gm.ot.exact_ot(a, a, C), 1)
                t_ns = min(t_ns, t)
            assert ns.converged and ns.method == "network_simplex"
            exact = (f"{t_ns:7.3f} {t_pot:7.3f} {t_ns / t_pot:6.2f} "
                     f"{abs(ns.cost - w_pot):8.1e}")
            predicted = (0.0 if highs_time is None
                         else highs_time * (n / highs_n) ** 2.5)
            if predicted <= EXACT_BUDGET:
                t_lp, lp = best_time(lambda a=a, C=C: gm.ot.exact_ot(a, a, C, method="lp"),
                    1)
                highs_time, highs_n = t_lp, n
                exact += (f" {t_lp:7.2f} {t_lp / t_pot:7.0f} "
                          f"{abs(lp.cost - w_pot) / w_pot:8.1e}")
            else:
                exact += f" {'skip':>7} {'-':>7} {'-':>8}"
            if exact_only:
                rows.append(f"{d:3d} {n:5d} | {exact}")
                print(rows[-1], flush=True)
                continue
            # ---- Sinkhorn
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                t_sk, res = best_time(
                    lambda a=a, C=C: gm.ot.sinkhorn(a, a, C, EPS, tol=TOL, max_iter=100_000))
                t_ps, cost_pot = best_time(
                    lambda a=a, C=C: pot.sinkhorn2(a, a, C, EPS, method="sinkhorn_log",
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
    print("  d     n | exact: gm(s) POT(s) gm/POT |diff| LP(s) LP/POT rel.diff"
          " | sinkhorn: gm(s)  POT(s) gm/POT | it.gm it.POT | viol.gm viol.POT"
          " | |cost gm-POT|")
    main(quick="--quick" in sys.argv, exact_only="--exact" in sys.argv)
