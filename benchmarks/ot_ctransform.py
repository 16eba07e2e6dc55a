"""Benchmark: the cost of the one cost matrix and the one c-transform in a loop.

Run (from the repository root, with the README's venv)::

    .venv/bin/python benchmarks/ot_ctransform.py

A semi-discrete solver step forms the cost between a mini-batch of ``B``
samples and the ``m`` atoms, then the Laguerre cell of each sample,
``argmin_j [c(x, y_j) - g_j]``. The table times three ways of doing it on
the same data, in the same run (best of ``REPEAT`` rounds of ``CALLS``
calls, single-threaded), and checks that all three return the same cells:

- ``inline``: the two NumPy lines written out by hand (the reference);
- ``checked``: ``gm.ot.cbar_transform(g, gm.ot.cost_matrix(x, y),
  return_argmin=True)`` with its default input checks;
- ``unchecked``: the same calls with ``check=False``, for a loop whose
  inputs were validated once before it.

Ratios are to ``inline``; the machine's load makes single timings noisy,
the ratios less so.
"""

from __future__ import annotations

import time

import numpy as np
import torch

import gmtheory.ot as gmot

B, REPEAT, CALLS = 32, 5, 2000


def _best(fn, calls: int = CALLS) -> float:
    best = np.inf
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t0) / calls)
    return best


def main() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    print(f"batch B = {B}; microseconds per call (best of {REPEAT} x {CALLS})")
    print(f"{'m':>5} {'inline':>8} {'checked':>8} {'ratio':>6} {'unchecked':>9} {'ratio':>6}")
    for m in (8, 64, 512):
        X, Y, g = rng.normal(size=(B, 2)), rng.normal(size=(m, 2)), rng.normal(size=m)

        def inline(X=X, Y=Y, g=g):
            cost = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
            return np.argmin(cost - g[None, :], axis=1)

        def checked(X=X, Y=Y, g=g):
            return gmot.cbar_transform(g, gmot.cost_matrix(X, Y), return_argmin=True)[1]

        def unchecked(X=X, Y=Y, g=g):
            C = gmot.cost_matrix(X, Y, check=False)
            return gmot.cbar_transform(g, C, return_argmin=True, check=False)[1]

        ref = inline()
        assert np.array_equal(ref, checked()) and np.array_equal(ref, unchecked())
        t_in, t_ch, t_un = _best(inline), _best(checked), _best(unchecked)
        print(f"{m:5d} {1e6 * t_in:8.1f} {1e6 * t_ch:8.1f} {t_ch / t_in:6.2f} "
              f"{1e6 * t_un:9.1f} {t_un / t_in:6.2f}")


if __name__ == "__main__":
    main()
