"""Benchmark: geodesic solves under the expected metric of the 0/1 digits VAE.

Model: ``gm.train_stochastic_vae()`` (digits 0 and 1, 2-D latent space, RBF
precision network; cached after the first run).  Endpoint pairs: 6 pairs of
codes chosen with a seeded generator.  For each metric -- the mean-manifold
pullback metric ``J_mu^T J_mu``, the expected metric with the standard
sigma network, and the expected metric with the RBF precision -- the table
reports the time of one metric evaluation at 64 points (best of 5), and the
wall-clock time per pair, iterations, convergence and mean length of
``gm.geodesic(method="energy", n_points=65, tol=1e-4)`` solved one pair at a
time, and of ``gm.geodesics`` solving all pairs in one batch.

Run (from the repository root, with the README's venv)::

    .venv/bin/python benchmarks/expected_metric_geodesics.py

(one to two minutes; single-threaded torch, which is faster for these tiny
nets).
"""

from __future__ import annotations

import time
import warnings

import torch

import gmtheory as gm

N_PAIRS = 6
OPTIONS = dict(method="energy", n_points=65, tol=1e-4)


def best_of(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    model = gm.train_stochastic_vae()
    codes = model.codes
    g = torch.Generator().manual_seed(0)
    idx = torch.randperm(len(codes), generator=g)[: 2 * N_PAIRS]
    Z0, Z1 = codes[idx[:N_PAIRS]], codes[idx[N_PAIRS:]]
    metrics = {
        "mean pullback": gm.PullbackMetric(model.mean, 2),
        "expected, standard sigma": model.expected_metric("standard"),
        "expected, RBF sigma": model.expected_metric("rbf"),
    }
    z64 = codes[:64]
    print(f"{'metric':<26} {'M(64 pts) ms':>12} {'s/pair':>8} {'iters':>6} "
          f"{'conv':>5} {'length':>8} {'batch s/pair':>12}")
    for name, metric in metrics.items():
        t_eval = best_of(lambda m=metric: m(z64)) * 1e3
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            t0 = time.perf_counter()
            single = [gm.geodesic(metric, a, b, **OPTIONS)
                      for a, b in zip(Z0, Z1)]
            t_single = (time.perf_counter() - t0) / N_PAIRS
            t0 = time.perf_counter()
            gm.geodesics(metric, Z0, Z1, **OPTIONS)
            t_batch = (time.perf_counter() - t0) / N_PAIRS
        iters = sum(r.iterations for r in single) / N_PAIRS
        conv = sum(r.converged for r in single)
        length = sum(r.length for r in single) / N_PAIRS
        print(f"{name:<26} {t_eval:12.2f} {t_single:8.2f} {iters:6.0f} "
              f"{conv:>3}/{N_PAIRS} {length:8.3f} {t_batch:12.2f}")


if __name__ == "__main__":
    main()
