"""A content-addressed cache for trained weights.

A trained model is stored under a key that is the SHA-256 of its training
configuration (a JSON-serialisable dict that includes a version of the
training code), so changing any setting retrains, and rebuilding the book
reuses the weights.  Files are written atomically (temporary file, then
``os.replace``) together with a SHA-256 of their bytes; on load the digest is
checked first and the file is read with ``torch.load(weights_only=True)``.
A file that fails either check is reported with a warning and retrained,
never loaded.

The cache directory is ``$GMTHEORY_CACHE`` if set, else
``~/.cache/gmtheory``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import torch
from torch import Tensor

__all__ = ["cache_dir", "config_key", "load_or_train", "reproducible"]


@contextmanager
def reproducible() -> Iterator[None]:
    """Make training inside the block bit-for-bit reproducible.

    Inside the block torch runs on one thread (multi-threaded kernels may sum
    in a different order on a machine with another core count), the default
    dtype is float64 (parameter initialisation draws different numbers in
    float32 and float64, so it must not depend on the caller's setting), and
    the global random state is forked, so seeding inside does not disturb the
    caller's random stream.  Everything is restored on exit.
    """
    threads = torch.get_num_threads()
    dtype = torch.get_default_dtype()
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        torch.set_num_threads(threads)
        torch.set_default_dtype(dtype)


def cache_dir() -> Path:
    """The directory where trained weights are kept."""
    root = os.environ.get("GMTHEORY_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "gmtheory"


def config_key(config: dict[str, Any]) -> str:
    """SHA-256 (hex, first 16 characters) of a JSON-serialisable config.

    >>> config_key({"a": 1, "b": [2, 3]}) == config_key({"b": [2, 3], "a": 1})
    True
    """
    try:
        text = json.dumps(config, sort_keys=True)
    except TypeError as err:
        raise TypeError(f"config must be JSON-serialisable: {err}") from err
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _try_load(path: Path, config: dict[str, Any]) -> dict[str, Tensor] | None:
    sums = path.with_suffix(".sha256")
    if not path.exists():
        return None
    problem = None
    if not sums.exists():
        problem = "its checksum file is missing"
    elif sums.read_text().strip() != _digest(path):
        problem = "its SHA-256 does not match the recorded one"
    else:
        try:
            payload = torch.load(path, weights_only=True)
            if payload.get("config") != json.dumps(config, sort_keys=True):
                problem = "it was trained with a different configuration"
        except Exception as err:  # unreadable pickle, truncated file, ...
            problem = f"it cannot be read ({type(err).__name__}: {err})"
    if problem is not None:
        warnings.warn(
            f"cache file {path} is corrupted or stale: {problem}; retraining.",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    return payload["tensors"]


def load_or_train(
    name: str,
    config: dict[str, Any],
    train: Callable[[], dict[str, Tensor]],
    directory: str | os.PathLike | None = None,
) -> tuple[dict[str, Tensor], bool]:
    """Return cached tensors for ``config``, training and storing them on a miss.

    Parameters
    ----------
    name : str
        Prefix of the cache file name (e.g. ``"digits-vae"``).
    config : dict
        JSON-serialisable training configuration; its hash is the key.
    train : callable
        Called with no arguments on a miss; returns a dict of tensors
        (a ``state_dict`` plus anything else worth keeping, such as the loss
        history).
    directory : path, optional
        Overrides :func:`cache_dir`.

    Returns
    -------
    tensors : dict of str to Tensor
    hit : bool
        Whether the tensors came from the cache.
    """
    folder = Path(directory) if directory is not None else cache_dir()
    path = folder / f"{name}-{config_key(config)}.pt"
    tensors = _try_load(path, config)
    if tensors is not None:
        return tensors, True
    tensors = train()
    if not isinstance(tensors, dict) or not all(
        isinstance(v, Tensor) for v in tensors.values()
    ):
        raise TypeError("train() must return a dict of str to torch.Tensor.")
    payload = {"config": json.dumps(config, sort_keys=True), "tensors": tensors}
    _atomic_write(path, lambda tmp: torch.save(payload, tmp))
    _atomic_write(path.with_suffix(".sha256"),
                  lambda tmp: Path(tmp).write_text(_digest(path)))
    return tensors, False
