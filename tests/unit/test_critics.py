"""Tests of gmtheory.models (critics, WGAN, semi-discrete GAN) and
gmtheory.ot.best_critic."""

import numpy as np
import ot as pot
import pytest
import torch

import gmtheory as gm
from gmtheory.models import (
    AdamAscent,
    Critic,
    CriticConfig,
    SemiDiscreteGANConfig,
    WGANConfig,
    critic_value,
    eight_gaussians,
    empirical_lipschitz,
    gradient_penalty,
    train_critic,
    train_semidiscrete_gan,
    train_wgan,
)


@pytest.fixture(autouse=True)
def _float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


# ---------------------------------------------------------- gradient penalty
def test_gradient_penalty_of_a_linear_critic_is_hand_computed():
    w = torch.tensor([0.3, -1.2, 2.0])
    h = lambda p: p @ w + 0.7
    x, y = torch.randn(10, 3), torch.randn(10, 3)
    expected = (w.norm() - 1.0) ** 2  # the gradient is w everywhere
    assert torch.allclose(gradient_penalty(h, x, y), expected, rtol=1e-14)


def test_gradient_penalty_of_a_quadratic_critic_at_given_t():
    h = lambda p: 0.5 * (p ** 2).sum(1)  # gradient = p
    x = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    y = torch.tensor([[0.0, 0.0], [0.0, 4.0]])
    t = torch.tensor([0.25, 0.5])
    # x_hat = (0.5, 0) and (0, 2): norms 0.5 and 2 -> ((-0.5)^2 + 1^2) / 2
    assert gradient_penalty(h, x, y, t).item() == pytest.approx(0.625, abs=1e-15)


def test_gradient_penalty_is_differentiable_in_the_critic():
    critic = Critic(hidden=8, method="gp", seed=0).double()
    gp = gradient_penalty(critic, torch.randn(6, 2), torch.randn(6, 2),
                          rng=torch.Generator().manual_seed(0))
    gp.backward()
    # every weight matrix gets a gradient (the last bias cannot: it does not
    # change the critic's gradient)
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for name, p in critic.named_parameters() if "weight" in name)


def test_gradient_penalty_rejects_bad_input():
    h = lambda p: p.sum(1)
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(h, torch.zeros(3, 2), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="t must have shape"):
        gradient_penalty(h, torch.zeros(3, 2), torch.zeros(3, 2), t=torch.ones(2))
    with pytest.raises(ValueError, match="NaN"):
        gradient_penalty(h, torch.full((3, 2), float("nan")), torch.zeros(3, 2))


# ---------------------------------------------------- empirical Lipschitz
def test_linear_critic_lipschitz_constant_is_its_weight_norm():
    w = torch.tensor([1.5, -2.0])
    rng = np.random.default_rng(0)
    pts = torch.tensor(rng.normal(size=(50, 2)))
    # a pair along w attains the supremum |w . d| / |d| = |w|
    pts = torch.cat([pts, torch.zeros(1, 2), w[None] / w.norm()])
    L = empirical_lipschitz(pts @ w, pts)
    assert L == pytest.approx(w.norm().item(), rel=1e-14)
    # without that pair it is below |w| but close on a dense set
    L_rand = empirical_lipschitz(pts[:50] @ w, pts[:50])
    assert 0.95 * w.norm().item() < L_rand <= w.norm().item() * (1 + 1e-14)


def test_empirical_lipschitz_ignores_repeated_points_and_checks_input():
    pts = torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    assert empirical_lipschitz(torch.tensor([0.0, 0.0, 2.0]), pts) == 2.0
    with pytest.raises(ValueError, match="one per point"):
        empirical_lipschitz(torch.zeros(2), pts)
    with pytest.raises(ValueError, match="two distinct"):
        empirical_lipschitz(torch.zeros(2), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="NaN"):
        empirical_lipschitz(torch.tensor([0.0, float("inf"), 1.0]), pts)


def test_critic_value_sign_convention():
    h = lambda p: p[:, 0]
    assert critic_value(h, torch.ones(4, 2), torch.zeros(3, 2)).item() == 1.0
    with pytest.raises(ValueError):
        critic_value(h, torch.ones(4, 2), torch.zeros(3, 3))


# ------------------------------------------------------------- critics
def test_spectral_norm_critic_is_at_most_one_lipschitz():
    critic = Critic(hidden=32, method="sn", seed=3).double()
    x = torch.randn(200, 2)
    for _ in range(20):  # let the power iteration converge
        critic(x)
    critic.eval()
    with torch.no_grad():
        L = empirical_lipschitz(critic(x), x)
    assert L <= 1.0 + 1e-6


def test_clipped_critic_stays_in_the_box_after_training(tmp_path):
    x, y = torch.randn(32, 2), torch.randn(32, 2) + 1.0
    res = train_critic(x, y, CriticConfig(method="clip", clip=0.02, steps=20,
                                          hidden=8), cache_dir=tmp_path)
    assert all(p.abs().max() <= 0.02 for p in res.critic.parameters())


def test_critic_rejects_bad_options():
    with pytest.raises(ValueError, match="method"):
        Critic(method="lasso")
    with pytest.raises(ValueError, match="clip"):
        Critic(method="clip", clip=-1.0)
    with pytest.raises(ValueError, match="method"):
        CriticConfig(method="wrong")
    with pytest.raises(ValueError, match="steps"):
        CriticConfig(steps=0)


def test_adam_ascent_project_hook_runs_after_every_step():
    w = torch.zeros(2, requires_grad=True)
    ascent = AdamAscent([w], lr=1.0, project=lambda: w.clamp_(-0.1, 0.1))
    for _ in range(3):
        ascent.step(lambda: w.sum())
    assert torch.equal(w.detach(), torch.full((2,), 0.1))


# ------------------------------------------------------------- training
def _same_tensors(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_train_critic_is_bit_for_bit_reproducible_and_cached(tmp_path):
    gen = torch.Generator().manual_seed(0)  # seeded data: the test is deterministic
    x, y = torch.randn(16, 2, generator=gen), torch.randn(16, 2, generator=gen) + 1.0
    cfg = CriticConfig(method="gp", steps=15, hidden=8, seed=4)
    first = train_critic(x, y, cfg, cache_dir=tmp_path / "a")
    second = train_critic(x, y, cfg, cache_dir=tmp_path / "b")
    again = train_critic(x, y, cfg, cache_dir=tmp_path / "a")
    assert not first.cache_hit and not second.cache_hit and again.cache_hit
    assert _same_tensors(first.critic.state_dict(), second.critic.state_dict())
    assert torch.equal(first.value_history, again.value_history)
    # the critic separates the two sets: its value rose
    assert first.value_history[-1] > first.value_history[0]


def test_train_critic_with_spectral_norm_reloads_identically(tmp_path):
    gen = torch.Generator().manual_seed(0)  # seeded data: the test is deterministic
    x, y = torch.randn(16, 2, generator=gen), torch.randn(16, 2, generator=gen) + 1.0
    cfg = CriticConfig(method="sn", steps=5, hidden=8)
    fresh = train_critic(x, y, cfg, cache_dir=tmp_path)
    cached = train_critic(x, y, cfg, cache_dir=tmp_path)
    assert cached.cache_hit
    assert torch.equal(fresh.critic(x), cached.critic(x))


def test_train_critic_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="same shape"):
        train_critic(torch.zeros(4, 2), torch.zeros(5, 2), cache_dir=tmp_path)
    with pytest.raises(TypeError, match="CriticConfig"):
        train_critic(torch.zeros(4, 2), torch.zeros(4, 2), {"steps": 3})
    with pytest.raises(ValueError, match="shape"):
        train_critic(torch.zeros(4), torch.zeros(4), cache_dir=tmp_path)


def test_train_wgan_is_bit_for_bit_reproducible(tmp_path):
    data = eight_gaussians(32, seed=0)
    cfg = WGANConfig(CriticConfig(hidden=8), hidden=8, gen_steps=4, n_critic=2,
                     snapshot_every=2, n_eval=8, seed=1)
    a = train_wgan(data, cfg, cache_dir=tmp_path / "a")
    b = train_wgan(data, cfg, cache_dir=tmp_path / "b")
    assert torch.equal(a.snapshots, b.snapshots)
    assert torch.equal(a.estimates, b.estimates)
    assert a.snapshot_steps.tolist() == [0, 2, 4]
    with pytest.raises(TypeError):
        train_wgan(data, CriticConfig())
    with pytest.raises(ValueError):
        WGANConfig(n_critic=0)


def test_train_semidiscrete_gan_is_reproducible_and_feasible(tmp_path):
    data = eight_gaussians(16, seed=0)
    cfg = SemiDiscreteGANConfig(hidden=8, gen_steps=3, batch_size=16,
                                dual_iter=5, snapshot_every=3, n_eval=8)
    a = train_semidiscrete_gan(data, cfg, cache_dir=tmp_path / "a")
    b = train_semidiscrete_gan(data, cfg, cache_dir=tmp_path / "b")
    assert torch.equal(a.snapshots, b.snapshots) and torch.equal(a.dual, b.dual)
    assert abs(a.dual.mean().item()) < 1e-12  # normalised to mean zero
    with pytest.raises(ValueError):
        SemiDiscreteGANConfig(dual_step=0.0)


def test_eight_gaussians_component_means():
    y = eight_gaussians(8000, seed=0, std=0.01)
    angles = torch.atan2(y[:, 1], y[:, 0])
    k = torch.round(angles / (np.pi / 4)) % 8
    assert torch.bincount(k.long()).tolist() == [1000] * 8
    assert torch.allclose(y.norm(dim=1).mean(), torch.tensor(2.0), atol=1e-3)
    with pytest.raises(ValueError):
        eight_gaussians(0)


# ---------------------------------------------------------- best critic
def test_best_bounded_critic_is_total_variation():
    rng = np.random.default_rng(1)
    a, b = rng.dirichlet(np.ones(15)), rng.dirichlet(np.ones(15))
    res = gm.ot.best_critic(a, b)
    assert res.value == pytest.approx(gm.ot.tv(a, b), abs=1e-12)
    assert np.allclose(res.critic, a > b)


def test_best_lipschitz_critic_is_w1_and_rescales_with_L():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(25, 2))
    a, b = rng.dirichlet(np.ones(25)), rng.dirichlet(np.ones(25))
    W1 = pot.emd2(a, b, pot.dist(x, x, metric="euclidean"))
    res = gm.ot.best_critic(a, b, x, lipschitz=1.0, bounds=None)
    assert res.value == pytest.approx(W1, abs=1e-10)
    h = res.critic
    D = gm.ot.cost_matrix(x, x, p=1)
    assert (np.abs(h[:, None] - h[None, :]) <= D + 1e-9).all()
    res3 = gm.ot.best_critic(a, b, x, lipschitz=3.0, bounds=None)
    assert res3.value == pytest.approx(3 * W1, abs=1e-9)


def test_best_critic_rejects_bad_input():
    with pytest.raises(ValueError, match="unbounded"):
        gm.ot.best_critic([0.5, 0.5], [1.0, 0.0], bounds=None)
    with pytest.raises(ValueError, match="x"):
        gm.ot.best_critic([0.5, 0.5], [1.0, 0.0], lipschitz=1.0)
    with pytest.raises(ValueError, match="lo < hi"):
        gm.ot.best_critic([0.5, 0.5], [1.0, 0.0], bounds=(1.0, 0.0))
    with pytest.raises(ValueError, match="lipschitz"):
        gm.ot.best_critic([0.5, 0.5], [1.0, 0.0], [[0.0], [1.0]], lipschitz=0.0)
    with pytest.raises(ValueError, match="sum to 1"):
        gm.ot.best_critic([0.5, 0.6], [1.0, 0.0])
    with pytest.raises(ValueError, match="3 points"):
        gm.ot.best_critic([0.5, 0.5], [1.0, 0.0], [[0.0], [1.0], [2.0]],
                          lipschitz=1.0)


def test_semidiscrete_warm_start_is_validated():
    with pytest.raises(ValueError, match="g0"):
        gm.ot.semidiscrete_ot(lambda n, r: r.uniform(size=(n, 1)), [[0.2], [0.8]],
                              n_iter=2, n_eval=10, g0=[0.0, 0.0, 0.0])
