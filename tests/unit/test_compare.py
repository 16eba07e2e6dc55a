"""Comparing a digits VAE with a WAE: digits_measures, code_log_magnification."""

from __future__ import annotations

import numpy as np
import ot as pot
import pytest
import torch
from scipy.spatial.distance import cdist

import gmtheory as gm
from gmtheory.models import (
    DIGITS_MEASURE_KEYS,
    WAEConfig,
    code_log_magnification,
    digits_measures,
    train_digits_wae,
)

BASE = gm.VAEConfig(digits=(0, 1), hidden=8, steps=25)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    cache = tmp_path_factory.mktemp("compare-cache")
    vae = gm.train_digits_vae(BASE, cache_dir=cache)
    wae = train_digits_wae(WAEConfig(BASE, batch=64), cache_dir=cache)
    return vae, wae


def _w2_pot(A: torch.Tensor, B: torch.Tensor) -> float:
    """Exact W2^2 between two uniform clouds by POT's network simplex."""
    u = np.full(A.shape[0], 1 / A.shape[0])
    return pot.emd2(u, u, cdist(A.numpy(), B.numpy(), "sqeuclidean"))


def test_every_entry_against_a_replay_of_the_draws(pair):
    """Replay the documented draws; W2 by POT, MMD by gm.ot.mmd2."""
    vae, wae = pair
    seed, R = 5, 3
    meas = digits_measures(vae, wae, seed=seed, n_prior_draws=R)
    assert list(meas) == list(DIGITS_MEASURE_KEYS)
    assert all(type(v) is float for v in meas.values())

    X, f64 = vae.data.images, torch.float64
    n, D, d, h = X.shape[0], X.shape[1], 2, X.shape[0] // 2
    g = torch.Generator().manual_seed(seed)
    priors = [torch.randn(n, d, generator=g, dtype=f64) for _ in range(R)]
    eps = [torch.randn(n, d, generator=g, dtype=f64) for _ in range(R)]
    perm = torch.randperm(n, generator=g)
    z_new = torch.randn(h, d, generator=g, dtype=f64)
    noise = torch.randn(h, D, generator=g, dtype=f64)

    m, sd = vae.model.encode(X)
    for kern, scale in [("imq", 4.0), ("gaussian", 1.0)]:
        vae_mmd = np.mean([gm.ot.mmd2(m + sd * e, p, kern, scale)
                           for e, p in zip(eps, priors)])
        wae_mmd = np.mean([gm.ot.mmd2(wae.codes, p, kern, scale)
                           for p in priors])
        assert meas[f"mmd_{kern}_vae"] == pytest.approx(vae_mmd, rel=1e-12)
        assert meas[f"mmd_{kern}_wae"] == pytest.approx(wae_mmd, rel=1e-12)

    rec = lambda A: float(((X - A) ** 2).sum(1).mean())
    assert meas["rec_vae_mean"] == pytest.approx(rec(vae.decode(m)))
    assert meas["rec_vae_sample"] == pytest.approx(
        rec(vae.decode(m + sd * eps[0])))
    assert meas["rec_wae"] == pytest.approx(rec(wae.decode(wae.codes)))

    half, other = X[perm[:h]], X[perm[h:2 * h]]
    expected = {
        "w2_floor": _w2_pot(other, half),
        "w2_vae_mean": _w2_pot(vae.decode(z_new), half),
        "w2_vae_sample": _w2_pot(vae.decode(z_new)
                                 + vae.config.obs_std * noise, half),
        "w2_wae": _w2_pot(wae.decode(z_new), half),
    }
    for k, v in expected.items():
        assert meas[k] == pytest.approx(v, rel=1e-9), k


def test_seeded_and_independent_of_the_default_dtype(pair):
    vae, wae = pair
    ref = digits_measures(vae, wae, seed=1, n_prior_draws=1)
    dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        again = digits_measures(vae, wae, seed=1, n_prior_draws=1)
    finally:
        torch.set_default_dtype(dtype)
    assert again == ref
    other = digits_measures(vae, wae, seed=2, n_prior_draws=1)
    assert other["w2_floor"] != ref["w2_floor"]
    # the reconstruction at the encoder mean uses no draw
    assert other["rec_vae_mean"] == ref["rec_vae_mean"]


def test_bad_input(pair, tmp_path):
    vae, wae = pair
    with pytest.raises(TypeError, match="TrainedVAE"):
        digits_measures(wae, wae)
    with pytest.raises(TypeError, match="TrainedWAE"):
        digits_measures(vae, vae)
    with pytest.raises(ValueError, match="seed"):
        digits_measures(vae, wae, seed=-1)
    with pytest.raises(ValueError, match="n_prior_draws"):
        digits_measures(vae, wae, n_prior_draws=0)
    other_digits = gm.VAEConfig(digits=(0, 2), hidden=8, steps=2)
    wae_02 = train_digits_wae(WAEConfig(other_digits), cache_dir=tmp_path)
    with pytest.raises(ValueError, match="different images"):
        digits_measures(vae, wae_02)
    d3 = gm.VAEConfig(digits=(0, 1), hidden=8, steps=2, latent_dim=3)
    wae_d3 = train_digits_wae(WAEConfig(d3), cache_dir=tmp_path)
    with pytest.raises(ValueError, match="latent dimensions"):
        digits_measures(vae, wae_d3)


def test_log_magnification_closed_form_and_finite_differences(pair):
    # a linear map z -> z A^T: sqrt det(A^T A) everywhere
    A = torch.tensor([[2.0, 0.5], [0.0, 1.5], [1.0, -1.0]], dtype=torch.float64)
    z = torch.randn(4, 2, generator=torch.Generator().manual_seed(0),
                    dtype=torch.float64)
    expected = np.log10(np.sqrt(np.linalg.det(A.numpy().T @ A.numpy())))
    got = code_log_magnification(lambda u: u @ A.T, z)
    np.testing.assert_allclose(got.numpy(), np.full(4, expected), rtol=1e-12)
    # a trained decoder against a finite-difference Jacobian
    vae, _ = pair
    codes = vae.codes[:6]
    J = gm.finite_difference_jacobian(vae.model.decode, codes)
    fd = torch.linalg.det(J.transpose(1, 2) @ J).sqrt().log10()
    np.testing.assert_allclose(code_log_magnification(vae.model.decode, codes),
                               fd, rtol=1e-6)


def test_log_magnification_bad_input():
    f = lambda z: torch.cat([z, z ** 2], dim=1)
    with pytest.raises(ValueError, match="shape"):
        code_log_magnification(f, torch.zeros(2))
    with pytest.raises(ValueError, match="finite|NaN"):
        code_log_magnification(f, torch.tensor([[0.0, float("nan")]]))
    with pytest.raises(TypeError, match="floating"):
        code_log_magnification(f, torch.zeros(1, 2, dtype=torch.int64))
