"""n2t.torch.gan: the data, the losses against their textbook formulas and the gradients the page talks about,
MMD against a direct double sum, mode coverage, one training step against a hand-made one, a short training run
that brings the generated distribution closer to the data, determinism, errors, and a step on CUDA."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from n2t.torch.gan import (
    Discriminator,
    Generator,
    discriminator_loss,
    gaussian_kernel,
    generator_loss,
    mlp_stack,
    mmd,
    mode_coverage,
    ring_centres,
    ring_of_gaussians,
    train_gan,
    train_step,
)

torch.set_num_threads(1)


def rng(seed=0):
    return torch.Generator().manual_seed(seed)


def networks(seed=0, **options):
    torch.manual_seed(seed)
    return Generator(**options), Discriminator(hidden=options.get("hidden", 64))


# ---- data ----------------------------------------------------------------------------------------------------
def test_ring_centres_lie_on_the_circle_evenly_spaced():
    centres = ring_centres(8, 2.0)
    assert centres.shape == (8, 2) and centres.dtype == torch.float32
    torch.testing.assert_close(centres.norm(dim=1), torch.full((8,), 2.0))
    torch.testing.assert_close(centres[0], torch.tensor([2.0, 0.0]))
    torch.testing.assert_close(centres[2], torch.tensor([0.0, 2.0]), atol=1e-6, rtol=0)
    gaps = (centres - centres.roll(1, dims=0)).norm(dim=1)
    torch.testing.assert_close(gaps, torch.full((8,), 2 * 2.0 * math.sin(math.pi / 8)))


def test_ring_of_gaussians_has_the_mixture_it_promises():
    points = ring_of_gaussians(40_000, modes=5, radius=3.0, std=0.1, generator=rng(1))
    assert points.shape == (40_000, 2) and points.dtype == torch.float32
    centres = ring_centres(5, 3.0)
    nearest = torch.cdist(points, centres).argmin(dim=1)
    shares = torch.bincount(nearest, minlength=5) / len(points)
    torch.testing.assert_close(shares, torch.full((5,), 0.2), atol=0.01, rtol=0)
    offsets = points - centres[nearest]
    torch.testing.assert_close(offsets.mean(dim=0), torch.zeros(2), atol=0.003, rtol=0)
    torch.testing.assert_close(offsets.std(dim=0), torch.full((2,), 0.1), atol=0.003, rtol=0)


def test_ring_of_gaussians_is_reproducible_with_a_generator():
    first, second = ring_of_gaussians(50, generator=rng(3)), ring_of_gaussians(50, generator=rng(3))
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    assert not torch.equal(first, ring_of_gaussians(50, generator=rng(4)))
    torch.testing.assert_close(ring_of_gaussians(6, std=0.0, generator=rng(3)).norm(dim=1), torch.full((6,), 2.0))


# ---- networks ------------------------------------------------------------------------------------------------
def test_networks_map_noise_to_points_and_points_to_one_logit_each():
    generator, discriminator = networks(latent=3, hidden=16, layers=3)
    assert len([m for m in generator.net if isinstance(m, torch.nn.Linear)]) == 4
    assert generator(torch.randn(5, 3)).shape == (5, 2)
    assert discriminator(torch.randn(7, 2)).shape == (7,)
    assert isinstance(discriminator.net[1], torch.nn.LeakyReLU) and discriminator.net[1].negative_slope == 0.2
    torch.testing.assert_close(generator.sample(4, rng(5)), generator(torch.randn(4, 3, generator=rng(5))))
    double = Generator().double()
    assert double.sample(3).dtype == torch.float64


def test_mlp_stack_puts_activations_between_layers_only():
    stack = mlp_stack([3, 5, 2], torch.nn.Tanh)
    assert [type(m).__name__ for m in stack] == ["Linear", "Tanh", "Linear"]
    assert [(m.in_features, m.out_features) for m in stack if isinstance(m, torch.nn.Linear)] == [(3, 5), (5, 2)]


# ---- losses: textbook formulas, stability, gradients ---------------------------------------------------------
def test_losses_equal_their_textbook_formulas():
    real, fake = torch.randn(9, dtype=torch.float64) * 3, torch.randn(6, dtype=torch.float64) * 3
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    textbook_d = -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean())
    torch.testing.assert_close(discriminator_loss(real, fake), textbook_d)
    builtin = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
               + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    torch.testing.assert_close(discriminator_loss(real, fake), builtin)
    torch.testing.assert_close(generator_loss(fake, "minimax"), torch.log(1 - d_fake).mean())
    torch.testing.assert_close(generator_loss(fake, "non_saturating"), -torch.log(d_fake).mean())
    torch.testing.assert_close(generator_loss(fake), generator_loss(fake, "non_saturating"))


def test_losses_stay_finite_for_huge_logits():
    huge = torch.tensor([1000.0, -1000.0])
    torch.testing.assert_close(discriminator_loss(huge[:1], huge[1:]), torch.tensor(0.0))  # D is right
    torch.testing.assert_close(discriminator_loss(huge[1:], huge[:1]), torch.tensor(2000.0))  # D is wrong
    torch.testing.assert_close(generator_loss(huge[1:], "non_saturating"), torch.tensor(1000.0))
    torch.testing.assert_close(generator_loss(huge[1:], "minimax"), torch.tensor(0.0))
    torch.testing.assert_close(generator_loss(huge[:1], "minimax"), torch.tensor(-1000.0))


@pytest.mark.parametrize("kind", ["minimax", "non_saturating"])
def test_generator_loss_gradient_matches_finite_differences(kind):
    logits = (torch.randn(6, dtype=torch.float64) * 4).requires_grad_()
    assert torch.autograd.gradcheck(lambda a: generator_loss(a, kind), (logits,))
    assert torch.autograd.gradcheck(lambda a: discriminator_loss(a, a[:4] * 0.5 - 1.0), (logits,))


def test_minimax_gradient_vanishes_where_d_rejects_the_fakes_and_the_non_saturating_one_does_not():
    # dL/da for one logit a with D = sigmoid(a): minimax -D, non-saturating -(1 - D)
    logits = torch.tensor([-20.0, -10.0, -5.0, 0.0, 5.0], dtype=torch.float64)
    grads = {}
    for kind in ("minimax", "non_saturating"):
        a = logits.clone().requires_grad_()
        generator_loss(a, kind).backward()
        grads[kind] = a.grad * len(logits)  # per sample
    d = torch.sigmoid(logits)
    torch.testing.assert_close(grads["minimax"], -d)
    torch.testing.assert_close(grads["non_saturating"], -(1 - d))
    assert (grads["minimax"] < 0).all() and (grads["non_saturating"] < 0).all()  # both push D(G(z)) up
    assert abs(grads["minimax"][0]) < 1e-8 < 0.99 < abs(grads["non_saturating"][0])
    ratio = grads["non_saturating"] / grads["minimax"]
    assert (ratio[:-1] > ratio[1:]).all(), "the smaller D(G(z)), the larger the non-saturating advantage"


def test_a_confident_discriminator_starves_the_minimax_generator():
    generator, discriminator = networks(1)
    data = ring_of_gaussians(2000, generator=rng(1))
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=1e-2)
    for _ in range(150):  # train D alone against the untrained generator
        with torch.no_grad():
            fake = generator.sample(128)
        loss = discriminator_loss(discriminator(data[torch.randint(2000, (128,))]), discriminator(fake))
        d_opt.zero_grad()
        loss.backward()
        d_opt.step()
    norms = {}
    for kind in ("minimax", "non_saturating"):
        g, d = copy.deepcopy(generator), copy.deepcopy(discriminator)
        opts = [torch.optim.SGD(net.parameters(), lr=0.0) for net in (g, d)]  # measure only
        result = train_step(g, d, data[:128], torch.randn(128, g.latent, generator=rng(2)), *opts, kind=kind)
        norms[kind] = result["g_grad_norm"]
        assert result["d_fake"] < 0.01
    assert norms["non_saturating"] > 50 * norms["minimax"]


# ---- MMD and mode coverage -----------------------------------------------------------------------------------
def direct_mmd(x, y, bandwidths):
    def k(a, b):
        return sum(math.exp(-float(((a - b) ** 2).sum()) / (2 * s * s)) for s in bandwidths) / len(bandwidths)
    xx = sum(k(a, b) for a in x for b in x) / len(x) ** 2
    yy = sum(k(a, b) for a in y for b in y) / len(y) ** 2
    xy = sum(k(a, b) for a in x for b in y) / (len(x) * len(y))
    return math.sqrt(max(xx + yy - 2 * xy, 0.0))


def test_mmd_equals_the_double_sum_formula():
    generator = rng(7)
    x, y = torch.randn(7, 3, generator=generator, dtype=torch.float64), torch.randn(5, 3, generator=generator,
                                                                                      dtype=torch.float64) + 0.4
    for bandwidths in ((1.0,), (0.3, 2.0)):
        assert mmd(x, y, bandwidths).item() == pytest.approx(direct_mmd(x, y, bandwidths), rel=1e-12)
    kernel = gaussian_kernel(x, y, (0.5,))
    assert kernel.shape == (7, 5)
    assert kernel[2, 3].item() == pytest.approx(math.exp(-float(((x[2] - y[3]) ** 2).sum()) / 0.5))


def test_mmd_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    x, y = ring_of_gaussians(500, generator=rng(1)), ring_of_gaussians(500, generator=rng(2))
    assert mmd(x, x).item() < 1e-3
    same = mmd(x, y).item()
    assert same < 0.08
    shifted = [mmd(x, y + torch.tensor([shift, 0.0])).item() for shift in (0.05, 0.2, 0.5, 2.0)]
    assert same < shifted[0] and all(a < b for a, b in zip(shifted, shifted[1:]))
    collapsed = ring_centres()[torch.zeros(500, dtype=torch.long)] + 0.02 * torch.randn(500, 2, generator=rng(3))
    assert mmd(x, collapsed).item() > 10 * same


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 3), st.integers(0, 2**16))
def test_mmd_is_symmetric_and_non_negative(n, m, features, seed):
    generator = rng(seed)
    x = torch.randn(n, features, generator=generator, dtype=torch.float64)
    y = torch.randn(m, features, generator=generator, dtype=torch.float64)
    assert mmd(x, y).item() >= 0
    assert mmd(x, y).item() == pytest.approx(mmd(y, x).item(), abs=1e-12)
    assert mmd(x, x).item() < 1e-6


def test_mode_coverage_counts_modes_and_good_samples():
    centres = ring_centres()
    on_three = centres[torch.tensor([0, 0, 0, 3, 3, 5])] + 0.01
    far = torch.tensor([[0.5, 0.0]] * 4)  # inside the ring: no mode nearby, centre 0 the nearest
    result = mode_coverage(torch.cat([on_three, far]), centres, std=0.02)
    assert result == {"modes": 3, "high_quality": 0.6, "counts": [3, 0, 0, 2, 0, 1, 0, 0],
                      "nearest": [3 + 4, 0, 0, 2, 0, 1, 0, 0]}
    assert mode_coverage(torch.cat([on_three, far]), centres, std=0.02, min_fraction=0.2)["modes"] == 2
    assert mode_coverage(on_three, centres, std=0.002)["high_quality"] == 0.0  # 0.014 away > 3 x 0.002
    everything = mode_coverage(ring_of_gaussians(4000, generator=rng(0)), centres, std=0.02)
    assert everything["modes"] == 8 and everything["high_quality"] > 0.98  # 3 sigma in 2-D keeps 98.9 %


# ---- training ------------------------------------------------------------------------------------------------
def test_train_step_is_a_discriminator_step_then_a_generator_step_against_the_updated_discriminator():
    generator, discriminator = networks(2, latent=4, hidden=8)
    real, z = ring_of_gaussians(16, generator=rng(1)), torch.randn(12, 4, generator=rng(2))
    g_ref, d_ref = copy.deepcopy(generator), copy.deepcopy(discriminator)
    lr = 0.05
    result = train_step(generator, discriminator, real, z, torch.optim.SGD(generator.parameters(), lr=lr),
                        torch.optim.SGD(discriminator.parameters(), lr=lr), "minimax")
    # by hand: D's gradient on its loss with G fixed, then G's gradient through the updated D
    d_loss = -(torch.log(torch.sigmoid(d_ref(real))).mean() + torch.log(1 - torch.sigmoid(d_ref(g_ref(z)))).mean())
    d_grads = torch.autograd.grad(d_loss, list(d_ref.parameters()))
    with torch.no_grad():
        for param, grad in zip(d_ref.parameters(), d_grads):
            param -= lr * grad
    g_loss = torch.log(1 - torch.sigmoid(d_ref(g_ref(z)))).mean()
    g_grads = torch.autograd.grad(g_loss, list(g_ref.parameters()))
    for param, ref, grad in zip(generator.parameters(), g_ref.parameters(), g_grads):
        torch.testing.assert_close(param, ref - lr * grad)
    for param, ref in zip(discriminator.parameters(), d_ref.parameters()):
        torch.testing.assert_close(param, ref)
    assert result["d_loss"] == pytest.approx(d_loss.item(), rel=1e-6)
    assert result["g_loss"] == pytest.approx(g_loss.item(), rel=1e-6)
    assert result["g_grad_norm"] == pytest.approx(torch.cat([g.flatten() for g in g_grads]).norm().item(), rel=1e-5)


def test_a_short_run_brings_the_generated_distribution_closer_and_is_deterministic():
    data = ring_of_gaussians(4000, generator=rng(1))
    runs = []
    for _ in range(2):
        generator, discriminator = networks(0)
        runs.append(train_gan(generator, discriminator, data, steps=300, record_every=100, seed=5))
    history = runs[0]
    assert history["step"] == [0, 100, 200, 300]
    assert len(history["d_loss"]) == 300 and len(history["samples"]) == 4
    assert history["samples"][0].shape == (512, 2)
    assert history["mmd"][-1] < 0.5 * history["mmd"][0], history["mmd"]
    assert runs[0]["mmd"] == runs[1]["mmd"] and runs[0]["g_loss"] == runs[1]["g_loss"]
    torch.testing.assert_close(runs[0]["samples"][-1], runs[1]["samples"][-1], rtol=0, atol=0)
    generator, discriminator = networks(0)
    other = train_gan(generator, discriminator, data, steps=3, record_every=100, seed=6)
    assert other["step"] == [0, 3] and other["g_loss"] != history["g_loss"][:3]


def test_train_gan_takes_another_optimiser_and_zero_steps():
    generator, discriminator = networks(0)
    before = [p.clone() for p in generator.parameters()]
    history = train_gan(generator, discriminator, ring_of_gaussians(64, generator=rng(0)), steps=0, eval_size=64)
    assert history["step"] == [0] and history["d_loss"] == []
    assert all(torch.equal(a, b) for a, b in zip(before, generator.parameters()))
    history = train_gan(generator, discriminator, ring_of_gaussians(64, generator=rng(0)), steps=2, eval_size=8,
                        optimizer=lambda params: torch.optim.SGD(params, lr=0.0))
    assert all(torch.equal(a, b) for a, b in zip(before, generator.parameters()))
    assert history["samples"][0].shape == (8, 2)


# ---- errors --------------------------------------------------------------------------------------------------
POINTS = torch.zeros(4, 2)
LOGITS = torch.zeros(4)


@pytest.mark.parametrize("call, error, message", [
    (lambda: ring_of_gaussians(0), ValueError, "argument 'n' must be an int >= 1; got 0"),
    (lambda: ring_of_gaussians(5, modes=2.5), ValueError, "argument 'modes' must be an int >= 1"),
    (lambda: ring_of_gaussians(5, radius=-1), ValueError, "argument 'radius' must be a finite number > 0"),
    (lambda: ring_of_gaussians(5, std=-0.1), ValueError, "argument 'std' must be a finite number >= 0"),
    (lambda: ring_of_gaussians(5, std=math.nan), ValueError, "argument 'std' must be a finite number"),
    (lambda: ring_of_gaussians(5, generator=3), TypeError, "'generator' must be a CPU torch.Generator"),
    (lambda: ring_centres(0), ValueError, "ring_centres: argument 'modes' must be an int >= 1"),
    (lambda: Generator(latent=0), ValueError, "Generator: argument 'latent' must be an int >= 1; got 0"),
    (lambda: Discriminator(hidden=True), ValueError, "Discriminator: argument 'hidden' must be an int >= 1"),
    (lambda: Generator(latent=3)(torch.zeros(2, 4)), ValueError, "Generator: argument 'z' must have shape (N, Z)"),
    (lambda: Generator()(torch.zeros(2, 8, dtype=torch.int64)), TypeError, "argument 'z' must be a floating-point"),
    (lambda: Discriminator()(torch.zeros(3, 2, dtype=torch.float64)), TypeError, "but the weights are"),
    (lambda: Discriminator()(torch.zeros(0, 2)), ValueError, "argument 'x' must hold at least one point"),
    (lambda: Generator().sample(0), ValueError, "Generator.sample: argument 'n' must be an int >= 1"),
    (lambda: discriminator_loss(POINTS, LOGITS), ValueError, "argument 'real_logits' must have shape (N,)"),
    (lambda: discriminator_loss(LOGITS, LOGITS.double()), TypeError, "argument 'fake_logits' is a torch.float64"),
    (lambda: discriminator_loss(LOGITS, torch.zeros(0)), ValueError, "'fake_logits' must hold at least one logit"),
    (lambda: generator_loss(LOGITS, "wasserstein"), ValueError,
     "argument 'kind' must be one of ('non_saturating', 'minimax'); got 'wasserstein'"),
    (lambda: generator_loss([0.0]), TypeError, "argument 'fake_logits' must be a floating-point tensor"),
    (lambda: mmd(POINTS, torch.zeros(3, 3)), ValueError, "mmd: argument 'y' must have shape (M, D) = (?, 2)"),
    (lambda: mmd(POINTS, POINTS, bandwidths=()), TypeError, "'bandwidths' must be a non-empty tuple"),
    (lambda: mmd(POINTS, POINTS, bandwidths=(1.0, 0.0)), ValueError, "'bandwidths' must be a finite number > 0"),
    (lambda: gaussian_kernel(POINTS, POINTS.double()), TypeError, "argument 'y' is a torch.float64"),
    (lambda: mode_coverage(POINTS, ring_centres(), std=0), ValueError, "argument 'std' must be a finite number > 0"),
    (lambda: mode_coverage(POINTS, ring_centres(), 0.1, min_fraction=2), ValueError,
     "argument 'min_fraction' must be a finite number >= 0.0 and <= 1.0"),
    (lambda: mode_coverage(POINTS, torch.zeros(8, 3), 0.1), ValueError, "argument 'centres' must have shape"),
])
def test_bad_arguments_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        call()


def sgd(net):
    return torch.optim.SGD(net.parameters(), lr=0.1)


def test_training_errors():
    generator, discriminator = networks(0)
    data, z = ring_of_gaussians(32, generator=rng(0)), torch.zeros(4, 8)
    with pytest.raises(TypeError, match="train_step: argument 'generator' must be a Generator; got Discriminator"):
        train_step(discriminator, discriminator, data, z, sgd(generator), sgd(discriminator))
    with pytest.raises(ValueError, match="the generator makes 3-D samples but the discriminator reads 2-D points"):
        train_step(Generator(features=3), discriminator, data, z, sgd(generator), sgd(discriminator))
    with pytest.raises(ValueError, match=r"train_step: argument 'z' must have shape \(N, Z\) = \(\?, 8\)"):
        train_step(generator, discriminator, data, torch.zeros(4, 3), sgd(generator), sgd(discriminator))
    with pytest.raises(TypeError, match="argument 'd_optimizer' must be a torch.optim.Optimizer; got str"):
        train_step(generator, discriminator, data, z, sgd(generator), "adam")
    with pytest.raises(ValueError, match="train_step: argument 'kind' must be one of"):
        train_step(generator, discriminator, data, z, sgd(generator), sgd(discriminator), "saturating")
    with pytest.raises(ValueError, match="train_gan: argument 'eval_size' must be <= len\\(data\\) = 32; got 512"):
        train_gan(generator, discriminator, data)
    with pytest.raises(ValueError, match="train_gan: argument 'steps' must be an int >= 0; got -1"):
        train_gan(generator, discriminator, data, steps=-1, eval_size=8)
    with pytest.raises(ValueError, match="train_gan: argument 'batch_size' must be an int >= 1; got 0"):
        train_gan(generator, discriminator, data, batch_size=0, eval_size=8)
    with pytest.raises(ValueError, match=r"train_gan: argument 'data' must have shape \(M, D\) = \(\?, 2\)"):
        train_gan(generator, discriminator, torch.zeros(32, 3), eval_size=8)
    with pytest.raises(TypeError, match="train_gan: argument 'optimizer' must be None or a callable"):
        train_gan(generator, discriminator, data, eval_size=8, optimizer="adam")


# ---- CUDA ----------------------------------------------------------------------------------------------------
@pytest.mark.gpu
def test_a_training_run_on_cuda_matches_the_cpu():
    data = ring_of_gaussians(256, generator=rng(1))
    histories = []
    for device in ("cpu", "cuda"):
        generator, discriminator = networks(0, hidden=32)
        generator, discriminator = generator.to(device), discriminator.to(device)
        histories.append(train_gan(generator, discriminator, data.to(device), steps=3, batch_size=32,
                                   record_every=1, eval_size=64, seed=1))
        assert next(generator.parameters()).device.type == device
    cpu, cuda = histories
    assert cuda["samples"][-1].device.type == "cpu"
    torch.testing.assert_close(cuda["samples"][-1], cpu["samples"][-1], atol=1e-4, rtol=1e-4)
    assert cuda["mmd"] == pytest.approx(cpu["mmd"], abs=1e-4)
    assert cuda["d_loss"] == pytest.approx(cpu["d_loss"], abs=1e-4)
