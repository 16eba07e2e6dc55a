"""Benchmark of a cold build of the whole book: chapters one per core vs serial.

Builds the book twice from this checkout, each time cold (a fresh output
folder, so an empty execution cache, and a fresh ``GMTHEORY_CACHE``, so every
model is trained): first with the chapters executed one after the other, as
MyST-NB alone does (``GMTHEORY_EXECUTION_WORKERS=1``), then with the default
of ``_ext/parallel_execution.py`` (one kernel per core).  It prints the
execution time of each chapter in both builds and the wall-clock time of each
build, with their ratio.  Each build takes a few minutes.

Usage (from the repository root, with the README's venv)::

    .venv/bin/python benchmarks/book_build.py
    .venv/bin/python benchmarks/book_build.py --workers 2   # parallel build only
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: a chapter's execution time in the build log: MyST-NB's own line (serial)
#: or the parallel extension's
SERIAL_LINE = re.compile(r"(book/\S+)\.md: Executed notebook in ([\d.]+) seconds")
PARALLEL_LINE = re.compile(r"(book/\S+): executed in ([\d.]+) seconds \(parallel\)")


def cold_build(workers: int | None) -> tuple[float, dict[str, float]]:
    """Build the book cold; return the wall time and each chapter's seconds.

    ``workers=None`` keeps the extension's default.
    """
    jb = Path(sys.executable).parent / "jupyter-book"
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as models:
        env = dict(os.environ, GMTHEORY_CACHE=models,
                   PYTHONWARNINGS="ignore::DeprecationWarning")
        env.pop("GMTHEORY_EXECUTION_WORKERS", None)
        if workers is not None:
            env["GMTHEORY_EXECUTION_WORKERS"] = str(workers)
        t = time.perf_counter()
        proc = subprocess.run([str(jb), "build", str(ROOT), "--path-output", out,
                               "-W", "-n", "--keep-going"], env=env,
                              capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"the build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    log = proc.stdout + proc.stderr
    times = {}
    for pattern in (SERIAL_LINE, PARALLEL_LINE):
        for m in pattern.finditer(log):
            times[m[1].split("book/", 1)[1]] = float(m[2])
    return wall, times


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=None,
                   help="build only once, with this many kernels at once")
    args = p.parse_args(argv)
    runs = {}
    if args.workers is None:
        runs["serial"] = cold_build(1)
        runs["one per core"] = cold_build(None)
    else:
        runs[f"{args.workers} at once"] = cold_build(args.workers)
    names = list(runs)
    chapters = sorted({c for _, t in runs.values() for c in t})
    print(f"\nCold build of the book (empty execution and model caches), "
          f"{os.cpu_count()} CPUs")
    print(f"{'chapter':<32}" + "".join(f"{n + ' s':>16}" for n in names))
    for c in chapters:
        print(f"{c:<32}" + "".join(f"{runs[n][1].get(c, float('nan')):>16.1f}"
                                   for n in names))
    print(f"{'sum of chapter times':<32}"
          + "".join(f"{sum(runs[n][1].values()):>16.1f}" for n in names))
    print(f"{'whole build, wall clock':<32}"
          + "".join(f"{runs[n][0]:>16.1f}" for n in names))
    if len(names) == 2:
        print(f"one per core / serial wall time: "
              f"{runs[names[1]][0] / runs[names[0]][0]:.2f}")


if __name__ == "__main__":
    main()
