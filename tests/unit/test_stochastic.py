"""Tests of the expected metric, the RBF precision network, the stochastic
digits VAE (training and cache) and k-medoids / graph distances."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import torch

import gmtheory as gm
from gmtheory.models.stochastic_vae import StochasticVAEConfig

DT = torch.float64


def toy(D: int = 6, seed: int = 0):
    mu_net = gm.random_mlp([2, 8, D], seed=seed, dtype=DT)
    sd_net = gm.random_mlp([2, 8, D], seed=seed + 1, dtype=DT)
    return mu_net, (lambda z: torch.nn.functional.softplus(sd_net(z)))


Z = torch.tensor([[0.3, -0.2], [-1.0, 0.5], [1.2, 1.1]], dtype=DT)


# --------------------------------------------------------------------------
# ExpectedMetric
# --------------------------------------------------------------------------

def test_expected_metric_matches_jacobian_formula():
    mu, sd = toy()
    M = gm.ExpectedMetric(mu, sd, dim=2)(Z)
    Jm, Js = gm.jacobian(mu, Z), gm.jacobian(sd, Z)
    torch.testing.assert_close(M, Jm.mT @ Jm + Js.mT @ Js, rtol=1e-13, atol=0)


def test_expected_metric_dominates_mean_metric():
    mu, sd = toy()
    metric = gm.ExpectedMetric(mu, sd, dim=2)
    diff = metric(Z) - metric.mean_metric(Z)
    assert float(torch.linalg.eigvalsh(diff).min()) >= -1e-12
    torch.testing.assert_close(metric.mean_metric(Z),
                               gm.PullbackMetric(mu, 2)(Z))


def test_expected_metric_derivative_matches_finite_differences():
    mu, sd = toy()
    metric = gm.ExpectedMetric(mu, sd, dim=2)
    dM = metric.metric_derivative(Z)
    h = 1e-6
    for k in range(2):
        e = torch.zeros(2, dtype=DT)
        e[k] = h
        fd = (metric(Z + e) - metric(Z - e)) / (2 * h)
        torch.testing.assert_close(dM[..., k], fd, rtol=1e-6, atol=1e-8)


def test_closed_form_vs_monte_carlo_within_standard_errors():
    mu, sd = toy()
    M = gm.ExpectedMetric(mu, sd, dim=2)(Z)
    for noise in ["gaussian", "rademacher"]:
        est = gm.sample_metric(mu, sd, Z, 20000,
                               torch.Generator().manual_seed(0), noise=noise)
        # 12 entries: P(max |z| > 4.5) < 1e-4 for a correct formula
        assert float(est.z_scores(M).max()) < 4.5, noise
        assert est.n_samples == 20000


def test_nonunit_variance_needs_the_weighted_formula():
    mu, sd = toy()
    s = torch.linspace(0.5, 2.0, 6, dtype=DT)
    est = gm.sample_metric(
        mu, sd, Z, 20000, torch.Generator().manual_seed(1),
        noise=lambda N, D, g: torch.randn(N, D, generator=g, dtype=DT) * s)
    naive = gm.ExpectedMetric(mu, sd, 2)(Z)
    weighted = gm.ExpectedMetric(mu, sd, 2, noise_var=s ** 2)(Z)
    assert float(est.z_scores(weighted).max()) < 4.5
    assert float(est.z_scores(naive).max()) > 20


def test_rademacher_enumeration_is_exact():
    mu, sd = toy(D=4)
    signs = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=4)),
                         dtype=DT)
    est = gm.monte_carlo_metric(lambda z, e: mu(z) + sd(z) * e, Z, signs,
                                chunk=5)
    torch.testing.assert_close(est.mean, gm.ExpectedMetric(mu, sd, 2)(Z),
                               rtol=1e-12, atol=1e-14)


def test_monte_carlo_samples_and_standard_error():
    mu, sd = toy()
    eps = torch.randn(50, 6, generator=torch.Generator().manual_seed(2),
                      dtype=DT)
    est = gm.monte_carlo_metric(lambda z, e: mu(z) + sd(z) * e, Z[:1], eps,
                                chunk=7, keep_samples=True)
    assert est.samples.shape == (50, 1, 2, 2)
    torch.testing.assert_close(est.mean, est.samples.mean(0))
    torch.testing.assert_close(est.std_error,
                               est.samples.std(0) / math.sqrt(50))
    # per-sample metrics are PSD pullbacks J^T J with J = J_mu + diag(e) J_sd
    Jm, Js = gm.jacobian(mu, Z[:1])[0], gm.jacobian(sd, Z[:1])[0]
    J0 = Jm + eps[0][:, None] * Js
    torch.testing.assert_close(est.samples[0, 0], J0.T @ J0)


def test_expected_metric_error_paths():
    mu, sd = toy()
    with pytest.raises(TypeError, match="mean must be callable"):
        gm.ExpectedMetric(3, sd, 2)
    with pytest.raises(TypeError, match="std must be callable"):
        gm.ExpectedMetric(mu, None, 2)
    with pytest.raises(ValueError, match="dim must be a positive integer"):
        gm.ExpectedMetric(mu, sd, 0)
    with pytest.raises(ValueError, match="noise_var must be a 1-D"):
        gm.ExpectedMetric(mu, sd, 2, noise_var=-torch.ones(6, dtype=DT))
    bad = gm.ExpectedMetric(mu, lambda z: sd(z)[:, :3], 2)
    with pytest.raises(ValueError, match="same output dimension"):
        bad(Z)
    wrong_len = gm.ExpectedMetric(mu, sd, 2, noise_var=torch.ones(4, dtype=DT))
    with pytest.raises(ValueError, match="noise_var must have length D = 6"):
        wrong_len(Z)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        gm.ExpectedMetric(mu, sd, 2)(torch.zeros(3, 3, dtype=DT))


def test_sample_metric_error_paths():
    mu, sd = toy()
    g = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="n_samples must be an integer >= 2"):
        gm.sample_metric(mu, sd, Z, 1, g)
    with pytest.raises(TypeError, match="seeded torch.Generator"):
        gm.sample_metric(mu, sd, Z, 10, 0)
    with pytest.raises(ValueError, match="'gaussian' or 'rademacher'"):
        gm.sample_metric(mu, sd, Z, 10, g, noise="uniform")
    with pytest.raises(ValueError, match=r"must return shape \(10, 6\)"):
        gm.sample_metric(mu, sd, Z, 10, g,
                         noise=lambda N, D, g_: torch.zeros(N, D + 1, dtype=DT))
    with pytest.raises(TypeError, match="realise must be callable"):
        gm.monte_carlo_metric(None, Z, torch.zeros(3, 6, dtype=DT))
    with pytest.raises(ValueError, match="at least 2 draws"):
        gm.monte_carlo_metric(lambda z, e: mu(z), Z, torch.zeros(1, 6, dtype=DT))
    with pytest.raises(TypeError, match="floating dtype"):
        gm.sample_metric(mu, sd, torch.zeros(2, 2, dtype=torch.int64), 10, g)


# --------------------------------------------------------------------------
# RBF precision network
# --------------------------------------------------------------------------

def _blobs():
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[-2.0, 0.0], [2.0, 0.0]], dtype=DT)
    z = torch.cat([c + 0.3 * torch.randn(40, 2, generator=g, dtype=DT)
                   for c in centres])
    A = torch.randn(2, 5, generator=g, dtype=DT)
    x = torch.tanh(z @ A) + 0.05 * torch.randn(80, 5, generator=g, dtype=DT)
    mean = lambda u: torch.tanh(u @ A)
    return z, x, mean


def test_rbf_centres_and_lso_bandwidths():
    z, _, _ = _blobs()
    c, lam = gm.rbf_centres(z, 2, bandwidth_scale=1.5, seed=0)
    # independent route: assign to nearest centre and recompute
    labels = torch.cdist(z, c).argmin(1)
    for k in range(2):
        members = z[labels == k]
        torch.testing.assert_close(c[k], members.mean(0))
        rbar = (members - c[k]).norm(dim=1).mean()
        torch.testing.assert_close(lam[k], 0.5 / (1.5 * rbar) ** 2)


def test_rbf_sigma_grows_away_from_data_and_is_capped():
    z, x, mean = _blobs()
    fit = gm.fit_rbf_precision(z, x, mean, n_centres=6, zeta=0.04, steps=400)
    net = fit.network
    assert float(fit.log_likelihood[-1]) > float(fit.log_likelihood[0])
    on = net.std(z).mean()
    radii = [4.0, 6.0, 10.0]
    theta = torch.linspace(0, 2 * math.pi, 33, dtype=DT)[:-1]
    ring_means = [net.std(r * torch.stack([theta.cos(), theta.sin()], 1)).mean()
                  for r in radii]
    assert float(on) < 0.2
    assert all(float(on) < float(m) for m in ring_means)
    assert float(ring_means[0]) <= float(ring_means[1]) <= float(ring_means[2])
    torch.testing.assert_close(ring_means[-1], torch.tensor(5.0, dtype=DT),
                               rtol=1e-6, atol=0)
    grid = 20 * torch.rand(200, 2, generator=torch.Generator().manual_seed(1),
                           dtype=DT) - 10
    assert float(net.std(grid).max()) <= 5.0 + 1e-12
    assert bool((net.weight >= 0).all())


def test_rbf_error_paths():
    z, x, mean = _blobs()
    with pytest.raises(ValueError, match=r"n_centres must be an integer in \[1, 80\]"):
        gm.rbf_centres(z, 0)
    with pytest.raises(ValueError, match="bandwidth_scale must be finite and > 0"):
        gm.rbf_centres(z, 2, bandwidth_scale=-1.0)
    with pytest.raises(ValueError, match="only 1 distinct points"):
        gm.rbf_centres(torch.zeros(5, 2, dtype=DT), 2)
    with pytest.raises(ValueError, match="same number of rows"):
        gm.fit_rbf_precision(z, x[:10], mean)
    with pytest.raises(ValueError, match="zeta must be finite and > 0"):
        gm.RBFPrecision(z[:2], torch.ones(2, dtype=DT), 5, zeta=0.0)
    with pytest.raises(ValueError, match="bandwidths must have shape"):
        gm.RBFPrecision(z[:2], torch.ones(3, dtype=DT), 5, zeta=1.0)
    with pytest.raises(ValueError, match="bandwidths must be finite and > 0"):
        gm.RBFPrecision(z[:2], -torch.ones(2, dtype=DT), 5, zeta=1.0)


# --------------------------------------------------------------------------
# stochastic digits VAE: training and cache
# --------------------------------------------------------------------------

SMALL = StochasticVAEConfig(
    base=gm.VAEConfig(digits=(0, 1), hidden=16, steps=60),
    sigma_hidden=8, sigma_steps=40, n_centres=6, rbf_steps=40)


def test_stochastic_vae_cache_hit_returns_identical_weights(tmp_path):
    first = gm.train_stochastic_vae(SMALL, cache_dir=tmp_path)
    assert first.cache_hits == {"vae": False, "sigma": False, "rbf": False}
    second = gm.train_stochastic_vae(SMALL, cache_dir=tmp_path)
    assert second.cache_hits == {"vae": True, "sigma": True, "rbf": True}
    for a, b in [(first.sigma_net, second.sigma_net), (first.rbf, second.rbf)]:
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys()
        for k in sa:
            assert torch.equal(sa[k], sb[k]), k
    z = first.codes[:5]
    assert torch.equal(first.expected_metric("rbf")(z),
                       second.expected_metric("rbf")(z))
    # the fits improved the likelihood they maximise
    assert float(first.sigma_history[-1]) > float(first.sigma_history[0])
    assert float(first.rbf_history[-1]) > float(first.rbf_history[0])
    X = first.vae.data.images
    ref = torch.distributions.Normal(
        first.mean(first.codes), first.std(first.codes, "standard")
    ).log_prob(X).sum(1).mean()
    assert first.log_likelihood("standard") == pytest.approx(float(ref),
                                                             rel=1e-12)
    assert first.log_likelihood("standard") > float(first.sigma_history[0])


def test_corrupted_cache_file_is_detected_and_retrained(tmp_path):
    first = gm.train_stochastic_vae(SMALL, cache_dir=tmp_path)
    files = sorted(tmp_path.glob("digits-rbf-precision-*.pt"))
    assert len(files) == 1
    data = bytearray(files[0].read_bytes())
    data[len(data) // 2] ^= 0xFF
    files[0].write_bytes(bytes(data))
    with pytest.warns(RuntimeWarning, match="corrupted or stale"):
        again = gm.train_stochastic_vae(SMALL, cache_dir=tmp_path)
    assert again.cache_hits == {"vae": True, "sigma": True, "rbf": False}
    for k, v in first.rbf.state_dict().items():
        assert torch.equal(v, again.rbf.state_dict()[k]), k
    # the retrained file is valid again
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        third = gm.train_stochastic_vae(SMALL, cache_dir=tmp_path)
    assert third.cache_hits["rbf"]


def test_stochastic_vae_error_paths(tmp_path):
    with pytest.raises(TypeError, match="config must be a StochasticVAEConfig"):
        gm.train_stochastic_vae(gm.VAEConfig())
    model = gm.train_stochastic_vae(SMALL, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="kind must be 'rbf' or 'standard'"):
        model.std(model.codes[:2], "gp")


# --------------------------------------------------------------------------
# k-medoids and graph distances
# --------------------------------------------------------------------------

def test_k_medoids_matches_brute_force():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(c, 0.3, size=(6, 2))
                        for c in [(0, 0), (3, 0), (0, 3)]])
    D = np.linalg.norm(x[:, None] - x[None], axis=-1)
    res = gm.k_medoids(D, 3)
    best = min(itertools.combinations(range(len(x)), 3),
               key=lambda m: D[:, list(m)].min(1).sum())
    assert res.converged
    assert res.cost == pytest.approx(D[:, list(best)].min(1).sum())
    assert sorted(res.medoids.tolist()) == sorted(best)
    again = gm.k_medoids(D, 3)
    assert np.array_equal(res.labels, again.labels)


def test_graph_distances_bound_euclidean_and_metric():
    z = torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [2.0, 1.0]],
                     dtype=DT)
    D = gm.graph_distances(z, n_neighbors=1)
    assert D[0, 3] == pytest.approx(3.0)
    assert (D + 1e-12 >= torch.cdist(z, z).numpy()).all()
    metric = gm.ConstantMetric(4.0 * torch.eye(2, dtype=DT))
    torch.testing.assert_close(
        torch.as_tensor(gm.graph_distances(z, metric, n_neighbors=1)),
        torch.as_tensor(2.0 * D))


def test_clustering_error_paths():
    D = np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="square"):
        gm.k_medoids(np.zeros((2, 3)), 1)
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 2\]"):
        gm.k_medoids(D, 3)
    with pytest.raises(ValueError, match="symmetric and non-negative"):
        gm.k_medoids(np.array([[0.0, 1.0], [2.0, 0.0]]), 1)
    with pytest.raises(ValueError, match="finite"):
        gm.k_medoids(np.array([[0.0, np.inf], [np.inf, 0.0]]), 1)
    far = torch.tensor([[0.0, 0.0], [0.1, 0.0], [9.0, 0.0], [9.1, 0.0]],
                       dtype=DT)
    with pytest.raises(ValueError, match="disconnected"):
        gm.graph_distances(far, n_neighbors=1)
    with pytest.raises(TypeError, match="metric must be a gmtheory Metric"):
        gm.graph_distances(far, metric="euclidean")
    with pytest.raises(ValueError, match="n_neighbors must be a positive"):
        gm.graph_distances(far, n_neighbors=0)
