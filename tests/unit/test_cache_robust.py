"""The weight cache under hostile conditions: read-only folders, concurrent
writers, files of the earlier format, and what its checksum does not cover."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest
import torch

from gmtheory import cache
from gmtheory.models.cache import config_key, load_or_train


def _weights(seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {"w": torch.randn(64, 8, generator=g, dtype=torch.float64),
            "loss": torch.linspace(0.0, 1.0, 50, dtype=torch.float64)}


def _no_warnings():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("error")
    return ctx


def test_saves_are_byte_deterministic(tmp_path):
    """Two saves of equal tensors give identical files, whatever the folder."""
    load_or_train("m", {"k": 1}, lambda: _weights(0), tmp_path / "a")
    load_or_train("m", {"k": 1}, lambda: _weights(0), tmp_path / "b")
    (fa,), (fb,) = (tmp_path / "a").glob("m-*"), (tmp_path / "b").glob("m-*")
    assert fa.name == fb.name and fa.read_bytes() == fb.read_bytes()
    # one file per model: no separate checksum file that could disagree
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [fa.name]


def test_unwritable_folder_returns_the_trained_model_with_one_warning(tmp_path):
    """A path below a regular file cannot be created, even by root."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    calls = []

    def train():
        calls.append(1)
        return _weights(1)

    with pytest.warns(RuntimeWarning) as record:
        tensors, hit = load_or_train("m", {"k": 1}, train, blocker / "cache")
    assert len(record) == 1
    message = str(record[0].message)
    assert str(blocker / "cache") in message and "GMTHEORY_CACHE" in message
    assert not hit and calls == [1]
    assert torch.equal(tensors["w"], _weights(1)["w"])


def test_read_only_file_system(tmp_path, monkeypatch):
    """The error of the issue, EROFS, raised by the temporary-file creation."""
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(cache.tempfile, "mkstemp", read_only)
    with pytest.warns(RuntimeWarning, match="Read-only file system") as record:
        tensors, hit = load_or_train("m", {"k": 1}, lambda: _weights(2), tmp_path)
    assert len(record) == 1 and not hit
    assert torch.equal(tensors["w"], _weights(2)["w"])
    assert list(tmp_path.iterdir()) == []


def test_read_only_home_with_the_variable_unset(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.write_text("a home that is not a writable folder")
    monkeypatch.delenv("GMTHEORY_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(home))
    assert cache.cache_dir() == home / ".cache" / "gmtheory"
    with pytest.warns(RuntimeWarning, match="GMTHEORY_CACHE"):
        tensors, hit = load_or_train("m", {"k": 1}, lambda: _weights(3))
    assert not hit and torch.equal(tensors["w"], _weights(3)["w"])


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="permission bits do not stop root")
def test_read_only_folder_by_permissions(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.warns(RuntimeWarning, match="GMTHEORY_CACHE"):
            _, hit = load_or_train("m", {"k": 1}, lambda: _weights(4), folder)
        assert not hit
    finally:
        folder.chmod(0o755)


_WRITER = textwrap.dedent("""
    import sys, time, warnings
    import torch
    from gmtheory.models.cache import load_or_train
    warnings.simplefilter("error")
    folder, start, keys = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    time.sleep(max(0.0, start - time.time()))  # both start together
    def train(k):
        g = torch.Generator().manual_seed(k)
        return {"w": torch.randn(256, 16, generator=g, dtype=torch.float64)}
    for k in range(keys):
        load_or_train("race", {"k": k}, lambda: train(k), folder)
""")


def test_two_concurrent_writers_leave_consistent_files(tmp_path):
    """Two processes started together train and save the same 40 models."""
    keys = 40
    start = time.time() + 3.0  # both import torch first, then start together
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path),
                               repr(start), str(keys)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
             for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "Warning" not in err, err
    files = sorted(tmp_path.iterdir())
    assert len(files) == keys, [f.name for f in files]  # no stray temp files
    ctx = _no_warnings()
    try:
        for k in range(keys):
            tensors, hit = load_or_train("race", {"k": k},
                                         lambda: pytest.fail("retrained"),
                                         tmp_path)
            g = torch.Generator().manual_seed(k)
            assert hit and torch.equal(
                tensors["w"],
                torch.randn(256, 16, generator=g, dtype=torch.float64))
    finally:
        ctx.__exit__(None, None, None)


def _legacy_files(folder: Path, config: dict, tensors: dict, checksum=True):
    """Write the earlier two-file format: weights, and a .sha256 beside them."""
    import json
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"m-{config_key(config)}.pt"
    torch.save({"config": json.dumps(config, sort_keys=True),
                "tensors": tensors}, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if checksum:
        path.with_suffix(".sha256").write_text(digest)
    return path


def test_earlier_format_is_still_read(tmp_path):
    _legacy_files(tmp_path, {"k": 1}, _weights(5))
    ctx = _no_warnings()
    try:
        tensors, hit = load_or_train("m", {"k": 1},
                                     lambda: pytest.fail("retrained"), tmp_path)
    finally:
        ctx.__exit__(None, None, None)
    assert hit and torch.equal(tensors["w"], _weights(5)["w"])


def test_mismatched_pair_of_the_earlier_format_retrains_silently(tmp_path):
    path = _legacy_files(tmp_path, {"k": 1}, _weights(6))
    path.with_suffix(".sha256").write_text("0" * 64)  # another writer's digest
    ctx = _no_warnings()
    try:
        _, hit = load_or_train("m", {"k": 1}, lambda: _weights(6), tmp_path)
        _, hit_again = load_or_train("m", {"k": 1},
                                     lambda: pytest.fail("retrained"), tmp_path)
    finally:
        ctx.__exit__(None, None, None)
    assert not hit and hit_again
    assert not path.with_suffix(".sha256").exists()  # replaced by one file
    assert path.read_bytes().startswith(b"gmtheory-cache 1\n")


def test_checksum_is_not_a_signature(tmp_path):
    """Documented limit: a file rewritten together with its digest loads
    (the checksum catches torn writes and bit rot, not tampering), but
    torch.load(weights_only=True) still refuses to run code from it."""
    load_or_train("m", {"k": 1}, lambda: _weights(7), tmp_path)
    (path,) = tmp_path.glob("m-*.pt")
    payload = torch.load(io.BytesIO(path.read_bytes().split(b"\n", 2)[2]),
                         weights_only=True)
    payload["tensors"]["w"] = payload["tensors"]["w"] * 0
    path.write_bytes(cache._encode(payload))
    tensors, hit = load_or_train("m", {"k": 1}, lambda: _weights(7), tmp_path)
    assert hit and float(tensors["w"].abs().max()) == 0.0

    class Exploit:
        def __reduce__(self):
            return (print, ("code ran",))

    buffer = io.BytesIO()
    torch.save({"config": payload["config"], "tensors": Exploit()}, buffer)
    body = buffer.getvalue()
    path.write_bytes(cache._MAGIC + hashlib.sha256(body).hexdigest().encode()
                     + b"\n" + body)
    with pytest.warns(RuntimeWarning, match="cannot be read"):
        _, hit = load_or_train("m", {"k": 1}, lambda: _weights(7), tmp_path)
    assert not hit


_SLOW_TRAINER = textwrap.dedent("""
    import sys, time, uuid
    from pathlib import Path
    import torch
    from gmtheory.models.cache import load_or_train
    folder, start = Path(sys.argv[1]), float(sys.argv[2])
    time.sleep(max(0.0, start - time.time()))  # both start together
    def train():
        (folder / "trained-by" / uuid.uuid4().hex).touch()
        time.sleep(1.0)                          # a training that takes a while
        return {"w": torch.ones(3, dtype=torch.float64)}
    tensors, hit = load_or_train("slow", {"k": 0}, train, folder / "cache")
    print(int(hit), float(tensors["w"].sum()))
""")


def test_two_processes_missing_one_model_train_it_once(tmp_path):
    """The second process waits on the training lock and loads the file."""
    (tmp_path / "trained-by").mkdir()
    start = time.time() + 3.0
    procs = [subprocess.Popen([sys.executable, "-c", _SLOW_TRAINER, str(tmp_path),
                               repr(start)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outs.append(out.split())
    assert len(list((tmp_path / "trained-by").iterdir())) == 1
    assert sorted(o[0] for o in outs) == ["0", "1"]       # one trained, one loaded
    assert all(o[1] == "3.0" for o in outs)
    # the lock file is gone: the folder holds the model only
    assert [p.suffix for p in (tmp_path / "cache").iterdir()] == [".pt"]
