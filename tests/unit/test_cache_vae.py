"""The weight cache and the digits VAE: keys, integrity, reproducibility."""

from __future__ import annotations

import warnings

import pytest
import torch

import gmtheory as gm
from gmtheory.models.cache import config_key, load_or_train

SMALL = gm.VAEConfig(digits=(0, 1), hidden=16, steps=30)


def _counter_train(calls):
    def train():
        calls.append(1)
        return {"w": torch.arange(4.0)}
    return train


def test_config_key_depends_on_every_setting():
    assert config_key({"a": 1}) != config_key({"a": 2})
    assert config_key({"a": 1, "b": 2}) == config_key({"b": 2, "a": 1})
    with pytest.raises(TypeError, match="JSON"):
        config_key({"a": object()})


def test_cache_hit_returns_identical_tensors(tmp_path):
    calls = []
    t1, hit1 = load_or_train("x", {"k": 1}, _counter_train(calls), tmp_path)
    t2, hit2 = load_or_train("x", {"k": 1}, _counter_train(calls), tmp_path)
    assert (hit1, hit2) == (False, True) and len(calls) == 1
    assert torch.equal(t1["w"], t2["w"])
    # a different configuration is a different key
    _, hit3 = load_or_train("x", {"k": 2}, _counter_train(calls), tmp_path)
    assert not hit3 and len(calls) == 2


@pytest.mark.parametrize("damage", ["flip", "truncate", "checksum", "header"])
def test_corrupted_cache_is_detected_and_retrained(tmp_path, damage):
    calls = []
    load_or_train("x", {"k": 1}, _counter_train(calls), tmp_path)
    (pt,) = tmp_path.glob("x-*.pt")
    data = bytearray(pt.read_bytes())
    if damage == "flip":  # bit rot in the weights
        data[len(data) // 2] ^= 0xFF
    elif damage == "truncate":  # a torn write
        data = data[:100]
    elif damage == "checksum":  # the recorded digest is damaged
        at = data.index(b"\n") + 5
        data[at] = ord("0") if data[at] != ord("0") else ord("1")
    else:
        data[:4] = b"XXXX"
    pt.write_bytes(bytes(data))
    with pytest.warns(RuntimeWarning, match="corrupted or stale"):
        t, hit = load_or_train("x", {"k": 1}, _counter_train(calls), tmp_path)
    assert not hit and len(calls) == 2 and torch.equal(t["w"], torch.arange(4.0))
    # the repaired file is a hit again, without warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, hit = load_or_train("x", {"k": 1}, _counter_train(calls), tmp_path)
    assert hit


def test_train_must_return_tensors(tmp_path):
    with pytest.raises(TypeError, match="dict of str to torch.Tensor"):
        load_or_train("x", {"k": 1}, lambda: {"w": [1, 2]}, tmp_path)


def test_vae_training_is_reproducible_and_cached(tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    a = gm.train_digits_vae(SMALL, cache_dir=tmp_path / "a")
    torch.set_num_threads(2)  # the thread count outside must not matter,
    torch.set_default_dtype(torch.float64)  # nor the default dtype
    b = gm.train_digits_vae(SMALL, cache_dir=tmp_path / "b")
    torch.set_default_dtype(torch.float32)
    torch.set_num_threads(threads)
    assert torch.get_num_threads() == threads
    c = gm.train_digits_vae(SMALL, cache_dir=tmp_path / "a")
    assert not a.cache_hit and not b.cache_hit and c.cache_hit
    for m in (b, c):
        for (k, v), (_, w) in zip(a.model.state_dict().items(),
                                  m.model.state_dict().items()):
            assert torch.equal(v, w), k
    # the training improved the ELBO, and the model is frozen and smooth
    assert a.elbo_history[-1] > a.elbo_history[0]
    z = torch.zeros(3, 2)
    x = a.decode(z)
    assert x.shape == (3, 64) and bool(((x > 0) & (x < 1)).all())
    assert not any(p.requires_grad for p in a.model.parameters())


def test_vae_config_is_checked():
    with pytest.raises(TypeError, match="VAEConfig"):
        gm.train_digits_vae({"digits": (0, 1)})


def test_elbo_is_a_lower_bound_in_expectation():
    """For a fixed model, E_q[log p(x|z)] - KL <= log p(x), estimated by importance sampling."""
    torch.manual_seed(0)
    model = gm.DigitsVAE(data_dim=3, latent_dim=1, hidden=8).double()
    x = torch.tensor([[0.2, 0.5, 0.7]], dtype=torch.float64)
    s = 0.3
    gen = torch.Generator().manual_seed(1)
    noise = torch.randn(20000, 1, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        elbo = model.elbo(x.expand(20000, 3), s, noise).mean()
        mu = model.decode(torch.randn(200000, 1, generator=gen, dtype=torch.float64))
    # log p(x) = log E_{p(z)} p(x|z) by plain Monte Carlo over the prior
    log_lik = (-0.5 * ((x - mu) / s) ** 2).sum(1) - 3 * (
        torch.log(torch.tensor(s)) + 0.5 * torch.log(torch.tensor(2 * torch.pi)))
    log_px = torch.logsumexp(log_lik, 0) - torch.log(torch.tensor(200000.0))
    assert float(elbo) < float(log_px)


def test_digits_loader():
    d = gm.load_digits_data()
    assert d.images.shape == (1797, 64) and len(d) == 1797
    assert float(d.images.min()) == 0.0 and float(d.images.max()) == 1.0
    with pytest.raises(ValueError, match="0..9"):
        gm.load_digits_data((3, 12))
