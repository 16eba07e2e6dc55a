"""Benchmark: the pullback metric M = J^T J at 10,000 latent points.

Generator: a seeded tanh MLP 2 -> 64 -> 256 -> 784 (``gm.random_mlp``), in
float32 and float64.  Every time is the best of 5 runs and is reported as a
ratio to one forward pass of the generator at the same points.  Compared:

- ``gm.PullbackMetric``: forward mode, ``vmap(jacfwd)`` (d = 2 tangents);
- ``gm.finite_difference_jacobian``: central differences (2 d forward passes);
- ``vmap(jacrev)``: reverse mode, one vector-Jacobian product per output
  coordinate (D = 784 of them);
- ``torch.autograd.functional.jacobian(..., vectorize=True)`` of the batch
  sum ``z -> f(z).sum(0)`` (rows are independent, so this is the per-point
  Jacobian), also reverse mode.

The two reverse-mode routes need about D / d = 392 times more work than
forward mode; running them on all 10,000 points would take minutes and
several GB, so they are timed on the first ``N_REVERSE`` points and their
time is extrapolated linearly to 10,000 points (marked ``*``; their cost is
linear in the number of points once the per-call overhead is amortised, so
the extrapolation if anything flatters them).

The issue's target: the metric at n points costs at most 3 (d + 1) = 9
forward passes at the same points.

Run (from the repository root, with the README's venv)::

    .venv/bin/python benchmarks/pullback_metric.py

(under a minute).
"""

from __future__ import annotations

import time

import torch
from torch.func import jacrev, vmap

import gmtheory as gm

N = 10_000
N_REVERSE = 20
REPEATS = 5
SIZES = (2, 64, 256, 784)
D_LATENT = SIZES[0]
TARGET = 3 * (D_LATENT + 1)


def best_of(fn, repeats: int = REPEATS, warm_up: bool = True) -> float:
    """Best wall-clock time of ``repeats`` calls (after a warm-up call)."""
    if warm_up:
        fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def metric_from(J: torch.Tensor) -> torch.Tensor:
    return J.transpose(1, 2) @ J


def run(dtype: torch.dtype) -> list[tuple[str, int, float, float]]:
    f = gm.random_mlp(SIZES, activation="tanh", seed=0, dtype=dtype)
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(N, D_LATENT, generator=gen).to(dtype)
    z_rev = z[:N_REVERSE]
    metric = gm.PullbackMetric(f, dim=D_LATENT)

    def single(x):
        return f(x.unsqueeze(0)).squeeze(0)

    def batch_sum(x):
        return f(x).sum(0)

    with torch.no_grad():
        t_fwd = best_of(lambda: f(z))
    rows = []
    # correctness first: every route must give the same metric
    M = metric(z_rev)
    eps = 1e-3 if dtype == torch.float32 else 1e-6
    routes = {
        "finite differences": metric_from(
            gm.finite_difference_jacobian(f, z_rev, eps=eps)),
        "vmap(jacrev)": metric_from(vmap(jacrev(single))(z_rev)),
        "autograd.functional": metric_from(
            torch.autograd.functional.jacobian(
                batch_sum, z_rev, vectorize=True).permute(1, 0, 2)),
    }
    tol = 2e-2 if dtype == torch.float32 else 1e-6
    for name, other in routes.items():
        err = float((other - M).abs().max() / M.abs().max())
        assert err < tol, f"{name} disagrees with PullbackMetric: {err:.2e}"
    for name, fn, n, warm in [
        ("gm.PullbackMetric (vmap jacfwd)", lambda: metric(z), N, True),
        ("finite differences (central)",
         lambda: metric_from(gm.finite_difference_jacobian(f, z, eps=eps)),
         N, True),
        ("vmap(jacrev) *",
         lambda: metric_from(vmap(jacrev(single))(z_rev)), N_REVERSE, False),
        ("autograd.functional.jacobian *",
         lambda: metric_from(torch.autograd.functional.jacobian(
             batch_sum, z_rev, vectorize=True).permute(1, 0, 2)),
         N_REVERSE, False),
    ]:
        t = best_of(fn, warm_up=warm) * N / n
        rows.append((name, n, t, t / t_fwd))
    rows.insert(0, ("one forward pass", N, t_fwd, 1.0))
    return rows


def main() -> None:
    t_start = time.perf_counter()
    print(f"pullback metric of a tanh MLP {' -> '.join(map(str, SIZES))}, "
          f"best of {REPEATS}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    verdicts = []
    for dtype in (torch.float32, torch.float64):
        rows = run(dtype)
        print(f"\n{dtype!s:<14} {'method':<34} {'points':>7} "
              f"{'ms @ 10k':>10} {'x forward':>10}")
        for name, n, t, ratio in rows:
            print(f"{'':<14} {name:<34} {n:>7} {1e3 * t:>10.2f} {ratio:>10.1f}")
        ratio = rows[1][3]
        verdicts.append((dtype, ratio))
    print(f"\n* reverse mode timed on the first {N_REVERSE} points and "
          f"scaled by {N // N_REVERSE} to {N} points")
    print(f"target: metric <= 3 (d + 1) = {TARGET} forward passes")
    for dtype, ratio in verdicts:
        status = "met" if ratio <= TARGET else "NOT met"
        print(f"  {dtype!s:<14} gm.PullbackMetric ratio {ratio:.1f}: {status}")
    print(f"total benchmark time {time.perf_counter() - t_start:.1f} s")


if __name__ == "__main__":
    main()
