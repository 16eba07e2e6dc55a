"""The digits WAE-MMD: reproducibility, cache, objective, bad input."""

from __future__ import annotations

import pytest
import torch

import gmtheory as gm
from gmtheory.models import DigitsWAE, WAEConfig, train_digits_wae, wae_objective

SMALL = WAEConfig(gm.VAEConfig(digits=(0, 1), hidden=8, steps=25), lam=5.0,
                  batch=64)


def test_bit_for_bit_reproducible_and_cached(tmp_path):
    w1 = train_digits_wae(SMALL, cache_dir=tmp_path / "a")
    w2 = train_digits_wae(SMALL, cache_dir=tmp_path / "b")
    w3 = train_digits_wae(SMALL, cache_dir=tmp_path / "a")
    assert (w1.cache_hit, w2.cache_hit, w3.cache_hit) == (False, False, True)
    for other in (w2, w3):
        for (k, v), (k2, v2) in zip(w1.model.state_dict().items(),
                                    other.model.state_dict().items()):
            assert k == k2 and torch.equal(v, v2)
        assert torch.equal(w1.history, other.history)


def test_training_does_not_depend_on_caller_state(tmp_path):
    ref = train_digits_wae(SMALL, cache_dir=tmp_path / "a")
    dtype = torch.get_default_dtype()
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    torch.set_default_dtype(torch.float32)
    try:
        again = train_digits_wae(SMALL, cache_dir=tmp_path / "b")
    finally:
        torch.set_default_dtype(dtype)
    assert torch.equal(ref.codes, again.codes)
    assert torch.equal(state, torch.random.get_rng_state())


def test_config_changes_the_key(tmp_path):
    w = train_digits_wae(SMALL, cache_dir=tmp_path)
    other = WAEConfig(SMALL.base, lam=6.0, batch=64)
    assert not train_digits_wae(other, cache_dir=tmp_path).cache_hit
    assert not torch.equal(w.codes, train_digits_wae(other, tmp_path).codes)
    # obs_std of the base VAE config plays no role in the WAE
    same = WAEConfig(gm.VAEConfig(digits=(0, 1), hidden=8, steps=25,
                                  obs_std=0.3), lam=5.0, batch=64)
    assert train_digits_wae(same, cache_dir=tmp_path).cache_hit


def test_default_matches_the_book_vae():
    cfg = WAEConfig()
    vae = gm.VAEConfig()
    assert cfg.base == vae
    assert cfg.scale == 2.0 * vae.latent_dim
    m = DigitsWAE(64, vae.latent_dim, vae.hidden)
    v = gm.DigitsVAE(64, vae.latent_dim, vae.hidden)
    shapes = [p.shape for p in m.decoder_net.parameters()]
    assert shapes == [p.shape for p in v.decoder_net.parameters()]
    assert m.encoder[-1].out_features == vae.latent_dim   # deterministic


def test_history_and_objective(tmp_path):
    w = train_digits_wae(SMALL, cache_dir=tmp_path)
    assert w.history.shape == (SMALL.base.steps, 2)
    # training lowers the reconstruction cost
    assert w.history[-5:, 0].mean() < w.history[:5, 0].mean()
    # the objective's terms are the squared error and gm.ot.mmd2
    X = w.data.images[:50]
    prior = torch.randn(50, 2, generator=torch.Generator().manual_seed(0),
                        dtype=torch.float64)
    recon, pen = wae_objective(w.model, X, prior, SMALL)
    codes = w.encode(X)
    assert float(recon) == pytest.approx(
        float(((X - w.decode(codes)) ** 2).sum(1).mean()), rel=1e-14)
    assert float(pen) == pytest.approx(
        float(gm.ot.mmd2(codes, prior, "imq", 4.0)), rel=1e-14)


@pytest.mark.parametrize("kwargs,err,match", [
    ({"lam": 0.0}, ValueError, "lam"),
    ({"kernel": "rbf"}, ValueError, "kernel"),
    ({"kernel_scale": -1.0}, ValueError, "kernel_scale"),
    ({"batch": 1}, ValueError, "batch"),
    ({"base": {"latent_dim": 2}}, TypeError, "VAEConfig"),
])
def test_bad_config(kwargs, err, match):
    with pytest.raises(err, match=match):
        WAEConfig(**kwargs)


def test_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="WAEConfig"):
        train_digits_wae(gm.VAEConfig())
    w = train_digits_wae(SMALL, cache_dir=tmp_path)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        w.decode(torch.zeros(3, 5))
    with pytest.raises(ValueError, match=r"shape \(n, 64\)"):
        w.encode(torch.zeros(3, 8))
    with pytest.raises(TypeError, match="floating"):
        w.decode(torch.zeros(3, 2, dtype=torch.int64))
