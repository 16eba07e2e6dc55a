"""Execute the chapters the execution cache lacks, several at a time.

MyST-NB (``execute_notebooks: cache``) executes each notebook when Sphinx
reads it, one after the other, and stores the result in the jupyter-cache of
the build.  Each chapter's kernel is single-threaded for most of its run (the
model training runs on one thread, see ``gmtheory.models.cache.reproducible``),
so on a machine with several cores most of them idle.

Before Sphinx reads the documents (``env-before-read-docs``), this extension
finds the notebooks to be read that the cache does not hold, executes them in
``gm_execution_workers`` kernels at once (or ``$GMTHEORY_EXECUTION_WORKERS``;
default: the number of CPUs this process may use, at most
``MAX_DEFAULT_WORKERS``; 1 leaves the execution to MyST-NB alone), with the
settings MyST-NB would use (timeout, errors, temporary working directory),
and adds each successful run to the cache exactly as MyST-NB does.  MyST-NB
then finds every chapter in the cache and renders it as usual, including the
check that no cell wrote to stderr.  A chapter whose execution failed is not
cached: MyST-NB executes it again itself and reports the failure as it always
does.  The execution times that the status page lists are the ones measured
here, with the other kernels running beside.

Chapters that share a trained model do not train it twice: the model cache
of ``gmtheory`` lets one process train while the others wait for its file
(``gmtheory.models.cache.load_or_train``).
"""

from __future__ import annotations

import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

#: the default number of kernels at once is the number of usable CPUs, at
#: most this many (each kernel holds torch and its models: ~0.5 GB)
MAX_DEFAULT_WORKERS = 4

#: environment variables that size the thread pools of torch, NumPy's BLAS
#: and the like; set to 1 in the kernels started here
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _workers(app: Sphinx) -> int:
    n = os.environ.get("GMTHEORY_EXECUTION_WORKERS") or app.config.gm_execution_workers
    if n:
        return int(n)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(cpus, MAX_DEFAULT_WORKERS)


def _stale_notebooks(env: Any, docnames: list[str]) -> list[tuple]:
    """``(docname, path, notebook, read_fmt)`` of the documents to be read
    that are notebooks MyST-NB would execute and the cache does not hold."""
    from jupyter_cache import get_cache
    from myst_nb.core.read import create_nb_reader

    nb_config = env.mystnb_config
    cache = get_cache(nb_config.execution_cache_path)
    stale = []
    for docname in sorted(docnames):
        path = Path(env.doc2path(docname))
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf8")
        reader = create_nb_reader(str(path), env.myst_config, nb_config, text)
        if reader is None:
            continue
        notebook = reader.read(text)
        if nb_config.metadata_key in notebook.metadata:
            continue     # per-notebook settings: left to MyST-NB
        if any(path.match(p) for p in nb_config.execution_excludepatterns):
            continue
        kernel = notebook.metadata.get("kernelspec", {}).get("name")
        for rgx, alias in (nb_config.kernel_rgx_aliases or {}).items():
            if kernel is not None and re.fullmatch(rgx, kernel):
                notebook.metadata["kernelspec"]["name"] = alias
                break
        try:
            cache.match_cache_notebook(notebook)
            continue     # already executed with this code
        except KeyError:
            pass
        stale.append((docname, path, notebook, reader.read_fmt))
    return stale


def execution_order(stale: list[tuple]) -> list[int]:
    """The order in which the kernels start the notebooks: the last first.

    Part III's chapters are among the book's longest (they train critics,
    a WGAN and a WAE) and use a model that the first chapters of Part I use
    too (the digits VAE).  Started in reading order, the first chapters all
    wait on the digits VAE's training lock while one core trains it; started
    from the end, long chapters run first, beside each other, and the short
    early ones find the models trained (cold builds on 2 cores, one run each: 176 s in reading order,
    131 s from the end; ``benchmarks/book_build.py``).
    """
    return list(range(len(stale)))[::-1]


def _execute(notebook: Any, nb_config: Any) -> Any:
    from jupyter_cache.executors.utils import single_nb_execution

    with tempfile.TemporaryDirectory() as cwd:   # as ``run_in_temp`` asks
        return single_nb_execution(
            notebook, cwd=cwd, allow_errors=nb_config.execution_allow_errors,
            timeout=nb_config.execution_timeout, meta_override=True)


def execute_stale(app: Sphinx, env: Any, docnames: list[str]) -> None:
    nb_config = getattr(env, "mystnb_config", None)
    if nb_config is None or nb_config.execution_mode != "cache":
        return
    workers = _workers(app)
    if workers < 2 or not nb_config.execution_in_temp:
        return
    stale = _stale_notebooks(env, docnames)
    if len(stale) < 2:
        return
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    LOGGER.info(f"executing {len(stale)} notebooks, {min(workers, len(stale))} at a time")
    # one thread per kernel: with several kernels, torch's (OpenMP) thread
    # pools would otherwise fight over the cores (measured on 2 cores: 1.5x
    # the CPU time of a serial build)
    saved = {k: os.environ.get(k) for k in _THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(_THREAD_VARIABLES, "1"))
    try:
        with ThreadPoolExecutor(max_workers=min(workers, len(stale))) as pool:
            # started from the last chapter: see ``execution_order``
            order = execution_order(stale)
            done = dict(zip(order, pool.map(
                lambda i: _execute(stale[i][2], nb_config), order)))
            results = [done[i] for i in range(len(stale))]
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    cache = get_cache(nb_config.execution_cache_path)
    for (docname, path, notebook, read_fmt), result in zip(stale, results):
        if result.err is not None:
            LOGGER.info(f"{docname}: execution failed in parallel; "
                        "MyST-NB will execute it again and report the error")
            continue
        if read_fmt is not None:
            record = cache.add_nb_to_project(str(path), read_data=read_fmt)
        else:
            record = cache.add_nb_to_project(str(path))
        cache.cache_notebook_bundle(
            CacheBundleIn(notebook, record.uri,
                          data={"execution_seconds": result.time}),
            check_validity=False, overwrite=True)
        LOGGER.info(f"{docname}: executed in {result.time:.2f} seconds (parallel)")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("gm_execution_workers", 0, "env", [int])
    app.connect("env-before-read-docs", execute_stale)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
