"""A content-addressed cache for trained weights.

A trained model is stored under a key that is the SHA-256 of its training
configuration (a JSON-serialisable dict that includes a version of the
training code), so changing any setting retrains, and rebuilding the book
reuses the weights.

**File format.** One file per model, ``<name>-<key>.pt``: a header line
``gmtheory-cache 1``, a line with the SHA-256 of the body, then the body,
the bytes of ``torch.save({"config": ..., "tensors": ...})`` serialised in
memory.  Those bytes depend only on the tensors and the configuration (not
on a file name or a time), so two processes that train the same model
reproducibly write identical files; and because the digest travels in the
same file, written to a temporary file and moved into place with one
``os.replace``, a reader sees one writer's complete file or the previous
one, never a checksum of one save next to the weights of another.

**What the checksum protects against.** Torn or truncated writes and bit
rot: a file whose body does not match its recorded digest is reported with
a warning and retrained, never loaded.  It is *not* a signature: anyone who
can write to the cache folder can write a file with a matching digest, and
such a file loads.  The safety boundary against a malicious file is
``torch.load(..., weights_only=True)``, which unpickles tensors and plain
containers only and never runs code; the configuration stored in the file
must also equal the requested one.

**Read-only folders.** If the cache folder cannot be created or written
(a read-only file system, a read-only home with ``GMTHEORY_CACHE`` unset),
the freshly trained tensors are returned from memory with one
:class:`RuntimeWarning` that names the folder and how to move the cache.

Files of the earlier format (weights in ``<name>-<key>.pt``, digest in a
``.sha256`` file beside it) are still read when the pair agrees; a pair that
disagrees is retrained silently, since concurrent writers of that format
left such pairs behind without any damage to either file.

**Concurrent training.** A process that misses a model takes an exclusive
lock (``<name>-<key>.lock``, ``fcntl.flock``) while it trains; another
process asking for the same model meanwhile waits, then loads the stored
file instead of training it again.

The cache directory is ``$GMTHEORY_CACHE`` if set, else
``~/.cache/gmtheory``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["cache_dir", "config_key", "load_module", "load_or_train",
           "module_tensors", "reproducible"]


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


#: first line of a cache file of the current format
_MAGIC = b"gmtheory-cache 1\n"
_DIGEST_LEN = 64  # hex characters of a SHA-256


def _encode(payload: dict[str, Any]) -> bytes:
    """Header, SHA-256 of the body, body (``torch.save`` to memory)."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    body = buffer.getvalue()
    return _MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def _decode(data: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """``(payload, None)`` for an intact file, ``(None, problem)`` otherwise."""
    if not data.startswith(_MAGIC):
        return None, "it does not start with the gmtheory cache header"
    start = len(_MAGIC)
    recorded = data[start:start + _DIGEST_LEN].decode("ascii", "replace")
    body = data[start + _DIGEST_LEN + 1:]
    if hashlib.sha256(body).hexdigest() != recorded:
        return None, ("its SHA-256 does not match the recorded one (a torn "
                      "write or a damaged disk)")
    try:
        return torch.load(io.BytesIO(body), weights_only=True), None
    except Exception as err:
        return None, f"it cannot be read ({type(err).__name__}: {err})"


def _legacy_payload(path: Path, data: bytes) -> dict[str, Any] | None:
    """The payload of an earlier-format file whose ``.sha256`` file agrees."""
    try:
        recorded = path.with_suffix(".sha256").read_text().strip()
        if recorded != hashlib.sha256(data).hexdigest():
            return None
        return torch.load(io.BytesIO(data), weights_only=True)
    except Exception:
        return None


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with one ``os.replace`` of a synced file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _try_load(path: Path, config: dict[str, Any]) -> dict[str, Tensor] | None:
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):  # no cache file there
        return None
    except OSError as err:
        data, problem = None, f"it cannot be read ({err})"
    if data is not None and data.startswith(b"PK"):  # earlier format
        payload, problem = _legacy_payload(path, data), None
        if payload is None:
            return None
    elif data is not None:
        payload, problem = _decode(data)
    if problem is None:
        if not isinstance(payload, dict) or "tensors" not in payload:
            problem = "it does not hold a dict of tensors"
        elif payload.get("config") != json.dumps(config, sort_keys=True):
            problem = "it was trained with a different configuration"
    if problem is not None:
        warnings.warn(
            f"cache file {path} is corrupted or stale: {problem}; retraining.",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    return payload["tensors"]


def _store(path: Path, payload: dict[str, Any]) -> None:
    """Write the cache file; on a read-only folder, warn once and go on."""
    try:
        _atomic_write(path, _encode(payload))
    except OSError as err:
        warnings.warn(
            f"could not write the trained weights to the cache folder "
            f"{path.parent} ({err.strerror or err}); using the trained model "
            "from memory, and it will be trained again next time. Point the "
            "cache at a writable folder with the environment variable "
            "GMTHEORY_CACHE (a folder of your own that you can write to), or "
            "make that folder writable.",
            RuntimeWarning,
            stacklevel=3,
        )
        return
    try:  # the checksum file of the earlier format, now stale
        path.with_suffix(".sha256").unlink(missing_ok=True)
    except OSError:
        pass


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

    Warns
    -----
    RuntimeWarning
        If the cache file is corrupted or stale (it is then retrained), or
        the cache folder is not writable (the trained tensors are then
        returned from memory, not stored).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> train = lambda: {"w": torch.ones(2)}
    >>> load_or_train("demo", {"lr": 0.1}, train, folder)[1]
    False
    >>> load_or_train("demo", {"lr": 0.1}, train, folder)[1]
    True
    """
    folder = Path(directory) if directory is not None else cache_dir()
    path = folder / f"{name}-{config_key(config)}.pt"
    seen = _stamp(path)
    tensors = _try_load(path, config)
    if tensors is not None:
        return tensors, True
    with _training_lock(path):
        if _stamp(path) != seen:   # another process stored it while we waited
            tensors = _try_load(path, config)
            if tensors is not None:
                return tensors, True
        tensors = train()
        if not isinstance(tensors, dict) or not all(
            isinstance(v, Tensor) for v in tensors.values()
        ):
            raise TypeError("train() must return a dict of str to torch.Tensor.")
        _store(path, {"config": json.dumps(config, sort_keys=True), "tensors": tensors})
    return tensors, False


def _stamp(path: Path) -> tuple[int, int] | None:
    """``(inode, mtime)`` of the cache file, ``None`` if there is none."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


@contextmanager
def _training_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<name>-<key>.lock`` while training.

    Two processes that miss the same model (two chapters executed at once)
    would otherwise both train it; with the lock the second waits and then
    loads the first one's file (the lock file is removed when the training
    ends, so the folder holds only models).  Where no lock can be taken (no ``fcntl``
    on Windows, a folder that cannot be written), nothing is held and each
    process trains on its own, as without the lock.
    """
    try:
        import fcntl
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_suffix(".lock"), "a")
    except (ImportError, OSError):
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            # removed before it is released: a process that opens the name
            # afterwards locks a new file, and finds the model stored
            Path(handle.name).unlink(missing_ok=True)
            fcntl.flock(handle, fcntl.LOCK_UN)


def module_tensors(module: nn.Module, prefix: str = "model.") -> dict[str, Tensor]:
    """A module's parameters and buffers as cacheable tensors, keys prefixed.

    The inverse of :func:`load_module`: ``train()`` of :func:`load_or_train`
    returns these (one prefix per network, so several networks share a file).

    Parameters
    ----------
    module : torch.nn.Module
    prefix : str
        Prepended to every key of ``module.state_dict()``.

    Returns
    -------
    dict of str to Tensor
        Detached copies.

    Notes
    -----
    Used by every trained model of the package (the digits VAE, the variance
    networks, the WAE, the critics and GANs of Part III).

    Examples
    --------
    >>> sorted(module_tensors(torch.nn.Linear(2, 1), "lin."))
    ['lin.bias', 'lin.weight']
    """
    return {prefix + k: v.detach().clone() for k, v in module.state_dict().items()}


def load_module(module: nn.Module, tensors: dict[str, Tensor],
                prefix: str = "model.") -> nn.Module:
    """Load the ``prefix``-ed entries of ``tensors`` into ``module``, frozen.

    Parameters
    ----------
    module : torch.nn.Module
        A freshly built module of the architecture that was trained.
    tensors : dict of str to Tensor
        As returned by :func:`load_or_train` (see :func:`module_tensors`).
    prefix : str
        Only keys starting with it are loaded, with the prefix removed.

    Returns
    -------
    torch.nn.Module
        ``module`` itself, in eval mode, parameters not requiring gradients.

    Raises
    ------
    RuntimeError
        From :meth:`torch.nn.Module.load_state_dict` if keys or shapes do not
        match the module.

    Examples
    --------
    >>> lin = torch.nn.Linear(2, 1)
    >>> twin = load_module(torch.nn.Linear(2, 1), module_tensors(lin))
    >>> torch.equal(twin.weight, lin.weight), twin.weight.requires_grad
    (True, False)
    """
    module.load_state_dict({k[len(prefix):]: v for k, v in tensors.items()
                            if k.startswith(prefix)})
    return module.eval().requires_grad_(False)
