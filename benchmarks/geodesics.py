"""Benchmark of the geodesic solvers of :mod:`gmtheory` (accuracy and speed).

For a fixed, seeded decoder and ten fixed endpoint pairs, every solver
configuration computes the geodesics; the table reports the length relative
to the best (shortest) length any configuration found for that pair (all
lengths measured the same way: cubic spline + Gauss--Legendre quadrature of
the returned curve, see ``gm.spline_length_energy``), the time per pair with
one torch thread, and whether the solver reported convergence.  It also
compares solving the ten pairs in one batched problem with solving them one
at a time.

Decoders (``--suite``): ``tanh`` a 2-32-32-10 tanh MLP (float64 closure);
``wide32`` an untrained float32 ``torch.nn`` MLP 2-256-784 with sigmoid
output (the size of an MNIST decoder); ``vae64`` the book's digits VAE
decoder; ``vae32`` the same trained decoder as a float32 module (what users
train); ``routes`` a conformal metric with a costly bump beside the segment
and a cheap valley on the other side, where the straight-line start ends
in the longer of two local geodesics.  Since the solver works in float64
(a float32 module is evaluated by a float64 copy), ``vae32`` and ``vae64``
give the same lengths.

Usage (from the repository root, with the README's venv)::

    .venv/bin/python benchmarks/geodesics.py                   # all suites
    .venv/bin/python benchmarks/geodesics.py --suite vae32 routes
    .venv/bin/python benchmarks/geodesics.py --expected        # + ExpectedMetric

Another script can call :func:`run_benchmark` with any metric, e.g.::

    from benchmarks.geodesics import run_benchmark, fixed_pairs
    rows = run_benchmark(my_expected_metric, fixed_pairs(), label="expected")
"""

from __future__ import annotations

import argparse
import copy
import itertools
import time
import warnings

import numpy as np
import torch

import gmtheory as gm

#: stochman 0.3 numbers quoted in the project issue (not measured here:
#: stochman is not installed in this environment)
STOCHMAN_QUOTED = [
    ("stochman 0.3 default (quoted)", 1.016, 0.27),
    ("stochman 0.3 tuned (quoted)", 1.0055, 1.9),
]


def tanh_mlp(seed: int = 0, sizes=(2, 32, 32, 10)):
    """A fixed, smooth decoder with a strongly curved pullback metric."""
    g = torch.Generator().manual_seed(seed)
    Ws = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        scale = 1.0 if i == 0 else a ** -0.5     # curved: unit-scale first layer
        Ws.append(torch.randn(b, a, generator=g, dtype=torch.float64) * scale)

    def f(z):
        h = z
        for W in Ws[:-1]:
            h = torch.tanh(h @ W.T)
        return h @ Ws[-1].T

    return f


def fixed_pairs(n: int = 10, seed: int = 1, box: float = 1.5, dim: int = 2):
    """``n`` seeded endpoint pairs in ``[-box, box]^dim``: ``(Z0, Z1)``."""
    g = torch.Generator().manual_seed(seed)
    Z = (torch.rand(2, n, dim, generator=g, dtype=torch.float64) * 2 - 1) * box
    return Z[0], Z[1]


DEFAULT = "energy, default (line + grid starts)"

CONFIGS = [
    ("energy, straight-line start only", {"multistart": False}),
    (DEFAULT, {}),
    ("energy, default, 129 points", {"n_points": 129}),
    ("bvp, straight-line init", {"method": "bvp"}),
]


def wide_float32_decoder(seed: int = 0, hidden: int = 256, out: int = 784):
    """An untrained float32 MLP 2 -> hidden -> out with sigmoid output."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(2, hidden), torch.nn.Tanh(),
                              torch.nn.Linear(hidden, out), torch.nn.Sigmoid())
    return net.float().eval()


def two_routes_metric():
    """Conformal metric: a bump just below the segment from (-1, y) to
    (1, y) for small y >= 0 and a cheap valley further below."""

    def fn(z):
        c = torch.tensor([0.0, -0.1], dtype=z.dtype)
        c2 = torch.tensor([0.0, -0.8], dtype=z.dtype)
        bump = 1 + 30 * torch.exp(-((z - c) ** 2).sum(-1) / 0.3 ** 2)
        valley = 1 - 0.8 * torch.exp(-((z - c2) ** 2).sum(-1) / 0.5 ** 2)
        return (bump * valley)[:, None, None] * torch.eye(2, dtype=z.dtype)

    return gm.FunctionMetric(fn, 2)


def two_routes_pairs(n: int = 10):
    y = torch.linspace(0.0, 0.25, n, dtype=torch.float64)
    x = torch.linspace(-0.1, 0.1, n, dtype=torch.float64)
    return (torch.stack([-1.0 + x, y], 1), torch.stack([1.0 + x, y], 1))


def _timed(fn):
    """``(fn(), seconds)``; ``None`` instead of the result if ``fn`` raised a
    ValueError (e.g. the solver ran into a singular metric), which the table
    counts as not converged."""
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            out = fn()
        except ValueError:
            out = None
    return out, time.perf_counter() - t


def run_benchmark(metric, pairs, configs=CONFIGS, label: str = "", batched: bool = True):
    """Run every configuration on every pair; print and return the table.

    Parameters
    ----------
    metric : gm.Metric
        Any metric (pullback, expected, ...).
    pairs : (Tensor (B, d), Tensor (B, d))
    configs : list of (name, options for gm.geodesic)
    label : str
        Printed in the title.
    batched : bool
        Also time ``gm.geodesics`` on all pairs at once vs one at a time.

    Returns
    -------
    dict
        ``rows``: name -> (lengths, list of seconds per pair, converged count);
        ``best``: best length per pair; ``batched``: (batched s, serial s).
    """
    torch.set_num_threads(1)
    Z0, Z1 = pairs
    B = Z0.shape[0]
    # warm-up (first-call checks, torch.func tracing caches)
    _timed(lambda: gm.geodesic(metric, Z0[0], Z1[0], n_points=17))
    # pair-major order: a change of machine load hits every configuration
    lengths = {name: [] for name, _ in configs}
    secs = {name: [] for name, _ in configs}
    for b in range(B):
        for name, opts in configs:
            r, dt = _timed(lambda b=b, opts=opts: gm.geodesic(
                metric, Z0[b], Z1[b], **opts))
            ok = r is not None and r.converged
            lengths[name].append(r.length if ok else np.inf)
            secs[name].append(dt)
    rows = {name: (np.array(lengths[name]), secs[name],
                   int(np.isfinite(lengths[name]).sum())) for name, _ in configs}
    out = {"rows": rows}
    if batched:
        # batched and serial, alternated twice; best of two each
        t_batch = t_serial = np.inf
        for _ in range(2):
            rs, t = _timed(lambda: gm.geodesics(metric, Z0, Z1))
            t_batch = min(t_batch, t)
            _, t = _timed(lambda: [gm.geodesic(metric, a, b)
                                   for a, b in zip(Z0, Z1)])
            t_serial = min(t_serial, t)
        rs = rs if rs is not None else [None] * B
        ok = [r is not None and r.converged for r in rs]
        rows["energy, default, batched"] = (
            np.array([r.length if o else np.inf for r, o in zip(rs, ok)]),
            [t_batch / B], sum(ok))
        out["batched"] = (t_batch, t_serial)
    best = np.min(np.stack([v[0] for v in rows.values()]), axis=0)
    out["best"] = best
    straight = gm.spline_length_energy(
        metric, torch.stack([gm.straight_line(a, b, 64) for a, b in zip(Z0, Z1)]))[0]
    # ratios over the pairs some configuration solved (best is finite)
    solved = np.isfinite(best)
    print(f"\nGeodesic benchmark {label}: {B} pairs, torch threads = "
          f"{torch.get_num_threads()}")
    if not solved.all():
        print(f"no configuration converged on pair(s) "
              f"{np.flatnonzero(~solved).tolist()}; ratios use the other "
              f"{int(solved.sum())}")
    print(f"straight line / best: mean "
          f"{np.mean(straight.numpy()[solved] / best[solved]):.4f}")
    print(f"{'method':<38} {'mean L/best':>11} {'worst L/best':>12} "
          f"{'median s':>9} {'mean s':>7} {'converged':>9}")
    print("(L/best over the pairs the method converged on; a converged "
          "curve may be a longer local geodesic)")
    line_row = straight.numpy() / best
    print(f"{'straight line':<38} {np.mean(line_row[solved]):>11.4f} "
          f"{np.max(line_row[solved]):>12.4f}")
    for name, (L, s, c) in rows.items():
        ratio = L[np.isfinite(L)] / best[np.isfinite(L)]
        ratio = ratio if ratio.size else np.array([np.inf])
        print(f"{name:<38} {np.mean(ratio):>11.5f} {np.max(ratio):>12.5f} "
              f"{np.median(s):>9.3f} {np.mean(s):>7.3f} {c:>6}/{B}")
        longer = int(np.sum(np.isfinite(L) & (L > straight.numpy() * (1 + 1e-9))))
        if longer:
            print(f"{'':<38} ({longer} pair(s) longer than the straight line)")
    for name, ratio, s in STOCHMAN_QUOTED:
        print(f"{name:<38} {ratio:>11.4f} {'':>12} {s:>9.2f} {'':>7} {'':>9}")
    out["straight"] = straight.numpy()
    print("best length per pair: " + " ".join(f"{b:.6f}" for b in best))
    if batched:
        t_batch, t_serial = out["batched"]
        print(f"batched vs one at a time ({B} pairs): {t_batch:.2f} s vs "
              f"{t_serial:.2f} s ({t_serial / t_batch:.1f}x faster)")
    return out


def _vae_pairs(vae, n: int = 10):
    g = torch.Generator().manual_seed(1)
    idx = torch.randperm(vae.codes.shape[0], generator=g)[:2 * n]
    return vae.codes[idx[:n]], vae.codes[idx[n:]]


def suite(name: str):
    """``(metric, pairs, label)`` of one benchmark suite."""
    if name == "tanh":
        return (gm.PullbackMetric(tanh_mlp(), 2), fixed_pairs(),
                "(2-32-32-10 tanh MLP pullback, float64)")
    if name == "wide32":
        Z0, Z1 = fixed_pairs(box=2.0)
        return (gm.PullbackMetric(wide_float32_decoder(), 2),
                (Z0.float(), Z1.float()),
                "(untrained 2-256-784 float32 nn.Module pullback)")
    if name in ("vae64", "vae32"):
        vae = gm.train_digits_vae()
        Z0, Z1 = _vae_pairs(vae)
        if name == "vae64":
            return (gm.PullbackMetric(vae.decode, 2), (Z0, Z1),
                    "(digits VAE pullback, float64)")
        model32 = copy.deepcopy(vae.model).float()
        return (gm.PullbackMetric(model32.decode, 2), (Z0.float(), Z1.float()),
                "(digits VAE pullback, float32 module)")
    if name == "routes":
        return two_routes_metric(), two_routes_pairs(), "(two routes, conformal)"
    raise ValueError(f"unknown suite {name!r}")


SUITES = ("tanh", "wide32", "vae64", "vae32", "routes")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--suite", nargs="+", choices=SUITES, default=list(SUITES))
    p.add_argument("--expected", action="store_true",
                   help="also time geodesics of an ExpectedMetric")
    args = p.parse_args(argv)
    summary = []
    for name in args.suite:
        metric, pairs, label = suite(name)
        out = run_benchmark(metric, pairs, label=label)
        L, secs, conv = out["rows"][DEFAULT]
        solved = np.isfinite(L) & np.isfinite(out["best"])
        ratio = L[solved] / out["best"][solved]
        t_batch, t_serial = out["batched"]
        summary.append((name, np.mean(ratio), np.max(ratio),
                        np.mean(out["straight"][solved] / out["best"][solved]),
                        np.median(secs), t_serial / t_batch, conv, len(L)))
    print("\nSummary of the default solver (gm.geodesic with no options); "
          "best = shortest converged length of any configuration")
    print(f"{'suite':<8} {'mean L/best':>11} {'worst L/best':>12} "
          f"{'line/best':>9} {'median s':>9} {'batch speed-up':>14} {'conv':>6}")
    for name, mean, worst, line, med, speed, conv, n in summary:
        print(f"{name:<8} {mean:>11.5f} {worst:>12.5f} {line:>9.4f} "
              f"{med:>9.3f} {speed:>13.1f}x {conv:>3}/{n}")
    if args.expected:
        std_net = tanh_mlp(seed=5)

        def std(z):
            return 0.1 + torch.nn.functional.softplus(std_net(z))

        metric = gm.ExpectedMetric(tanh_mlp(), std, 2)
        run_benchmark(metric, fixed_pairs(), configs=CONFIGS[1:2],
                      label="(ExpectedMetric of the tanh MLP)", batched=True)


if __name__ == "__main__":
    main()
