"""Generative adversarial networks on 2-D data: a ring of Gaussians, a small generator and discriminator (MLPs),
both generator losses, alternating training, and two measures of how close the generated samples are to the
data: the maximum mean discrepancy (MMD) with a Gaussian kernel, and mode coverage.

The losses take the discriminator's logits a (D = σ(a)) and use log-sigmoid forms, which stay finite where
log D or log(1 − D) would give −inf: log D = log σ(a), log(1 − D) = log σ(−a). Noise and minibatches are
drawn on the CPU from a seeded ``torch.Generator`` and then moved to the networks' device, so a run gives the
same samples on every device.
"""

from __future__ import annotations

# --8<-- [start:imports]
import math
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn
# --8<-- [end:imports]

from n2t._validate import checked_by
from n2t.torch._checks import check_like, check_size, check_tensor, guard

__all__ = ["ring_centres", "ring_of_gaussians", "mlp_stack", "Generator", "Discriminator", "discriminator_loss",
           "generator_loss", "train_step", "gaussian_kernel", "mmd", "mode_coverage", "train_gan", "GENERATOR_LOSSES"]

GENERATOR_LOSSES = ("non_saturating", "minimax")


# ---- input checks, kept out of the code the page shows; each takes the checked function's name first -------------


def _check_number(where: str, name: str, value: Any, minimum: float = 0.0, strict: bool = True,
                  maximum: float = math.inf) -> None:
    low_ok = value > minimum if strict else value >= minimum
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (low_ok and value <= maximum) \
            or not math.isfinite(value):
        bound = f"{'>' if strict else '>='} {minimum}" + (f" and <= {maximum}" if maximum < math.inf else "")
        raise ValueError(f"{where}: argument '{name}' must be a finite number {bound}; got {value!r}")


def _check_kind(where: str, kind: Any) -> None:
    if kind not in GENERATOR_LOSSES:
        raise ValueError(f"{where}: argument 'kind' must be one of {GENERATOR_LOSSES}; got {kind!r}")


def _check_rng(where: str, generator: Any) -> None:
    if generator is not None and (not isinstance(generator, torch.Generator) or generator.device.type != "cpu"):
        raise TypeError(f"{where}: argument 'generator' must be a CPU torch.Generator or None; got {generator!r}")


def _check_points(where: str, name: str, value: Any, features: int | None = None, letters: str = "(N, D)") -> None:
    check_tensor(where, name, value, (None, features), letters)
    if value.shape[0] == 0:
        raise ValueError(f"{where}: argument '{name}' must hold at least one point; got shape {tuple(value.shape)}")


def _check_logits(where: str, **logits: Any) -> None:
    for name, value in logits.items():
        check_tensor(where, name, value, (None,), "(N,)")
        if value.shape[0] == 0:
            raise ValueError(f"{where}: argument '{name}' must hold at least one logit; got shape {tuple(value.shape)}")
        check_like(where, name, value, next(iter(logits.values())), "the first logits are")


def _check_ring(where: str, n: Any = 1, modes: Any = 1, radius: Any = 1.0, std: Any = 0.0,
                generator: Any = None) -> None:
    check_size(where, "n", n)
    check_size(where, "modes", modes)
    _check_number(where, "radius", radius)
    _check_number(where, "std", std, strict=False)
    _check_rng(where, generator)


def _check_generator_loss(where: str, fake_logits: Any, kind: Any) -> None:
    _check_logits(where, fake_logits=fake_logits)
    _check_kind(where, kind)


def _check_pair(where: str, x: Any, y: Any, names: tuple[str, str] = ("x", "y")) -> None:
    _check_points(where, names[0], x)
    _check_points(where, names[1], y, x.shape[1], "(M, D)")
    check_like(where, names[1], y, x, f"{names[0]} is")


def _check_kernel(where: str, x: Any, y: Any, bandwidths: Any) -> None:
    _check_pair(where, x, y)
    if not isinstance(bandwidths, (tuple, list)) or not bandwidths:
        raise TypeError(f"{where}: argument 'bandwidths' must be a non-empty tuple of positive numbers; "
                        f"got {bandwidths!r}")
    for value in bandwidths:
        _check_number(where, "bandwidths", value)


def _check_coverage(where: str, samples: Any, centres: Any, std: Any, within: Any, min_fraction: Any) -> None:
    _check_pair(where, samples, centres, ("samples", "centres"))
    _check_number(where, "std", std)
    _check_number(where, "within", within)
    _check_number(where, "min_fraction", min_fraction, strict=False, maximum=1.0)


def _check_networks(where: str, generator: Any, discriminator: Any) -> None:
    for name, value, kind in (("generator", generator, Generator), ("discriminator", discriminator, Discriminator)):
        if not isinstance(value, kind):
            raise TypeError(f"{where}: argument '{name}' must be a {kind.__name__}; got {type(value).__name__}")
    if generator.features != discriminator.features:
        raise ValueError(f"{where}: the generator makes {generator.features}-D samples but the discriminator "
                         f"reads {discriminator.features}-D points")


def _check_train_step(where: str, generator: Any, discriminator: Any, real: Any, z: Any, g_optimizer: Any,
                      d_optimizer: Any, kind: Any) -> None:
    _check_networks(where, generator, discriminator)
    weight = next(generator.parameters())
    for name, value, size, letters in (("real", real, discriminator.features, "(N, D)"),
                                       ("z", z, generator.latent, "(N, Z)")):
        _check_points(where, name, value, size, letters)
        check_like(where, name, value, weight, "the generator's weights are")
    for name, value in (("g_optimizer", g_optimizer), ("d_optimizer", d_optimizer)):
        if not isinstance(value, torch.optim.Optimizer):
            raise TypeError(f"{where}: argument '{name}' must be a torch.optim.Optimizer; got {type(value).__name__}")
    _check_kind(where, kind)


def _check_train_gan(where: str, generator: Any, discriminator: Any, data: Any, steps: Any, batch_size: Any,
                     kind: Any, optimizer: Any, seed: Any, record_every: Any, eval_size: Any) -> None:
    _check_networks(where, generator, discriminator)
    _check_points(where, "data", data, discriminator.features, "(M, D)")
    check_size(where, "steps", steps, minimum=0)
    check_size(where, "seed", seed, minimum=0)
    for name, value in (("batch_size", batch_size), ("record_every", record_every), ("eval_size", eval_size)):
        check_size(where, name, value)
    if eval_size > len(data):
        raise ValueError(f"{where}: argument 'eval_size' must be <= len(data) = {len(data)}; got {eval_size}")
    _check_kind(where, kind)
    if optimizer is not None and not callable(optimizer):
        raise TypeError(f"{where}: argument 'optimizer' must be None or a callable params -> Optimizer; "
                        f"got {type(optimizer).__name__}")


# --8<-- [start:ring-of-gaussians]
def ring_centres(modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """Centres of ``modes`` Gaussians evenly spaced on a circle of ``radius``: ``(modes, 2)`` float32."""
    angles = 2 * math.pi * torch.arange(modes, dtype=torch.float64) / modes
    return (radius * torch.stack([angles.cos(), angles.sin()], dim=1)).float()  # (modes, 2)


def ring_of_gaussians(n: int, modes: int = 8, radius: float = 2.0, std: float = 0.02,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` points from an equal mixture of isotropic Gaussians centred on a circle (Metz et al. 2017).

    Args:
        n: number of points N.
        modes: number of Gaussians on the circle.
        radius: radius of the circle.
        std: standard deviation of each Gaussian, per coordinate.
        generator: a CPU ``torch.Generator`` for reproducible draws (None: the global one).

    Returns:
        ``(N, 2)`` float32 points on the CPU.
    """
    which = torch.randint(modes, (n,), generator=generator)  # the mode of each point, (N,)
    return ring_centres(modes, radius)[which] + std * torch.randn(n, 2, generator=generator)  # (N, 2)
# --8<-- [end:ring-of-gaussians]


# --8<-- [start:networks]
def mlp_stack(sizes: list[int], activation: Callable[[], nn.Module]) -> nn.Sequential:
    """Linear layers of the given widths with ``activation`` between them (none after the last)."""
    layers: list[nn.Module] = [nn.Linear(sizes[0], sizes[1])]
    for n_in, n_out in zip(sizes[1:], sizes[2:]):
        layers += [activation(), nn.Linear(n_in, n_out)]
    return nn.Sequential(*layers)


class Generator(nn.Module):
    """G: noise z ``(N, Z)`` drawn from N(0, I) → a sample x ``(N, D)``; ReLU hidden layers, linear output.

    Args:
        latent: noise dimension Z.
        hidden: width of each hidden layer.
        features: sample dimension D.
        layers: number of hidden layers.
    """

    def __init__(self, latent: int = 8, hidden: int = 64, features: int = 2, layers: int = 2) -> None:
        super().__init__()
        self.latent, self.features = latent, features
        self.net = mlp_stack([latent, *[hidden] * layers, features], nn.ReLU)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)  # (N, D)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` samples G(z); the noise is drawn on the CPU (same on every device), then moved."""
        z = torch.randn(n, self.latent, generator=generator)  # (N, Z)
        return self(z.to(next(self.parameters())))  # (N, D), on the weights' device and dtype


class Discriminator(nn.Module):
    """D: a point x ``(N, D)`` → a logit a ``(N,)``, with D(x) = σ(a) the probability that x is real.

    Leaky ReLU hidden layers (slope 0.2, as in DCGAN) pass some gradient for every input.

    Args:
        features: point dimension D.
        hidden: width of each hidden layer.
        layers: number of hidden layers.
    """

    def __init__(self, features: int = 2, hidden: int = 64, layers: int = 2) -> None:
        super().__init__()
        self.features = features
        self.net = mlp_stack([features, *[hidden] * layers, 1], lambda: nn.LeakyReLU(0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)  # (N,)
# --8<-- [end:networks]


# --8<-- [start:losses]
def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """−E[log D(x)] − E[log(1 − D(G(z)))]: binary cross-entropy, label 1 for real points, 0 for generated.

    Args:
        real_logits: the discriminator's logits on real points, ``(N,)``.
        fake_logits: its logits on generated points, ``(M,)``.
    """
    log_d_real = F.logsigmoid(real_logits)  # log D(x)
    log_one_minus_d_fake = F.logsigmoid(-fake_logits)  # log(1 − D(G(z))), as 1 − σ(a) = σ(−a)
    return -(log_d_real.mean() + log_one_minus_d_fake.mean())


def generator_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """What the generator minimises, from the discriminator's logits on generated points ``(N,)``.

    ``"minimax"``: E[log(1 − D(G(z)))], the term of the game's value that depends on G; its gradient vanishes
    when D confidently rejects the fakes. ``"non_saturating"``: −E[log D(G(z))] (Goodfellow et al. 2014's
    practical choice), the same fixed point but a strong gradient exactly then.
    """
    if kind == "minimax":
        return F.logsigmoid(-fake_logits).mean()
    return -F.logsigmoid(fake_logits).mean()
# --8<-- [end:losses]


# --8<-- [start:train-step]
def train_step(generator: nn.Module, discriminator: nn.Module, real: torch.Tensor, z: torch.Tensor,
               g_optimizer: torch.optim.Optimizer, d_optimizer: torch.optim.Optimizer,
               kind: str = "non_saturating") -> dict[str, float]:
    """One round of the game: a discriminator step, then a generator step against the updated discriminator.

    Args:
        generator, discriminator: the two networks.
        real: a minibatch of data, ``(N, D)``.
        z: a minibatch of noise, ``(M, Z)``.
        g_optimizer, d_optimizer: optimisers over each network's parameters.
        kind: the generator loss, ``"non_saturating"`` or ``"minimax"``.

    Returns:
        ``d_loss``, ``g_loss``, the mean D(x) on the real batch and D(G(z)) on the fakes (before each step),
        and the norm of the gradient of ``g_loss`` with respect to the generator's parameters.
    """
    fake = generator(z)  # (M, D)
    # discriminator: real -> 1, fake -> 0; detach() keeps this step from touching G
    real_logits = discriminator(real)
    d_loss = discriminator_loss(real_logits, discriminator(fake.detach()))
    d_optimizer.zero_grad()
    d_loss.backward()
    d_optimizer.step()
    # generator: make the (updated) discriminator call the fakes real
    fake_logits = discriminator(fake)
    g_loss = generator_loss(fake_logits, kind)
    g_optimizer.zero_grad()
    g_loss.backward()
    g_grad_norm = torch.cat([p.grad.flatten() for p in generator.parameters() if p.grad is not None]).norm()
    g_optimizer.step()
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item(), "d_real": torch.sigmoid(real_logits).mean().item(),
            "d_fake": torch.sigmoid(fake_logits).mean().item(), "g_grad_norm": g_grad_norm.item()}
# --8<-- [end:train-step]


# --8<-- [start:mmd]
def gaussian_kernel(x: torch.Tensor, y: torch.Tensor, bandwidths: tuple[float, ...] = (0.05, 0.2, 1.0)) -> torch.Tensor:
    """k(x, y) = mean over σ of exp(−‖x − y‖² / 2σ²), for every pair: x ``(N, D)``, y ``(M, D)`` → ``(N, M)``."""
    squared = (x[:, None, :] - y[None, :, :]).pow(2).sum(dim=-1)  # (N, M)
    return torch.stack([torch.exp(-squared / (2 * s * s)) for s in bandwidths]).mean(dim=0)  # (N, M)


def mmd(x: torch.Tensor, y: torch.Tensor, bandwidths: tuple[float, ...] = (0.05, 0.2, 1.0)) -> torch.Tensor:
    """Maximum mean discrepancy between the samples x ``(N, D)`` and y ``(M, D)`` (Gretton et al. 2012).

    MMD² = mean k(x, x′) + mean k(y, y′) − 2 mean k(x, y), every mean over all pairs (the biased,
    "V-statistic" estimate: the exact MMD between the two empirical distributions, so it is >= 0 and 0 only
    for identical samples). Several bandwidths σ see differences at several scales. Returns MMD, a scalar.
    """
    squared = (gaussian_kernel(x, x, bandwidths).mean() + gaussian_kernel(y, y, bandwidths).mean()
               - 2 * gaussian_kernel(x, y, bandwidths).mean())
    return squared.clamp_min(0).sqrt()  # rounding can leave -1e-8
# --8<-- [end:mmd]


# --8<-- [start:mode-coverage]
def mode_coverage(samples: torch.Tensor, centres: torch.Tensor, std: float, within: float = 3.0,
                  min_fraction: float = 0.01) -> dict[str, Any]:
    """How many modes the samples reach, and how many samples are good (as Srivastava et al. 2017 count them).

    A sample is *high quality* if it lies within ``within`` standard deviations of its nearest centre; a mode is
    *covered* if at least ``min_fraction`` of all samples are high-quality samples of that mode.

    Args:
        samples: generated points, ``(N, D)``.
        centres: the modes' centres, ``(K, D)``.
        std: the modes' standard deviation.
        within: the distance, in standard deviations, that counts as "at a mode".
        min_fraction: the share of all samples a mode needs to count as covered.

    Returns:
        ``modes`` (covered, out of K), ``high_quality`` (fraction of samples), ``counts`` (high-quality samples
        per mode) and ``nearest`` (all samples per nearest mode; one large entry means collapse), lists of K ints.
    """
    distances = (samples[:, None, :] - centres[None, :, :]).pow(2).sum(dim=-1).sqrt()  # (N, K)
    nearest, which = distances.min(dim=1)  # (N,), (N,)
    good = nearest < within * std
    counts = torch.bincount(which[good], minlength=len(centres))  # (K,)
    return {"modes": int((counts >= min_fraction * len(samples)).sum()), "high_quality": good.double().mean().item(),
            "counts": counts.tolist(), "nearest": torch.bincount(which, minlength=len(centres)).tolist()}
# --8<-- [end:mode-coverage]


# --8<-- [start:train-gan]
def train_gan(generator: Generator, discriminator: Discriminator, data: torch.Tensor, steps: int = 2000,
              batch_size: int = 128, kind: str = "non_saturating",
              optimizer: Callable[..., torch.optim.Optimizer] | None = None, seed: int = 0,
              record_every: int = 100, eval_size: int = 512) -> dict[str, list[Any]]:
    """Alternate ``steps`` discriminator and generator steps on minibatches of ``data``; keep a history.

    Args:
        generator, discriminator: the networks, trained in place (on their own device).
        data: the training points, ``(M, D)``; its first ``eval_size`` points are the reference for MMD.
        steps: rounds of :func:`train_step`.
        batch_size: real points (and noise vectors) per step.
        kind: the generator loss, ``"non_saturating"`` or ``"minimax"``.
        optimizer: builds an optimiser from a network's parameters; default Adam(lr 1e-3, betas (0.5, 0.999)).
        seed: seeds the minibatches and the noise (the networks' initial weights are the caller's).
        record_every: every so many steps (and after the last) record the MMD and a snapshot of samples.
        eval_size: samples, from one fixed noise batch, in each snapshot and MMD.

    Returns:
        per step: ``d_loss``, ``g_loss``, ``d_real``, ``d_fake``, ``g_grad_norm``; per record: ``step``,
        ``mmd`` and ``samples`` (``(eval_size, D)`` CPU tensors).
    """
    if optimizer is None:
        optimizer = lambda params: torch.optim.Adam(params, lr=1e-3, betas=(0.5, 0.999), foreach=True)  # noqa: E731
    g_optimizer, d_optimizer = optimizer(generator.parameters()), optimizer(discriminator.parameters())
    weight = next(generator.parameters())
    rng = torch.Generator().manual_seed(seed)
    z_eval = torch.randn(eval_size, generator.latent, generator=rng).to(weight)  # fixed noise for snapshots
    reference = data[:eval_size].to(weight)
    history: dict[str, list[Any]] = {key: [] for key in ("d_loss", "g_loss", "d_real", "d_fake", "g_grad_norm",
                                                         "step", "mmd", "samples")}
    for step in range(steps + 1):
        if step % record_every == 0 or step == steps:
            with torch.no_grad():
                fake = generator(z_eval)  # (eval_size, D)
            history["step"].append(step)
            history["mmd"].append(mmd(fake, reference).item())
            history["samples"].append(fake.cpu())
        if step == steps:
            break
        real = data[torch.randint(len(data), (batch_size,), generator=rng)]  # (batch_size, D)
        z = torch.randn(batch_size, generator.latent, generator=rng)  # (batch_size, Z)
        result = train_step(generator, discriminator, real.to(weight), z.to(weight), g_optimizer, d_optimizer, kind)
        for key, value in result.items():
            history[key].append(value)
    return history
# --8<-- [end:train-gan]


def _check_sizes(module: Any, **sizes: Any) -> None:
    for name, value in sizes.items():
        check_size(type(module).__name__, name, value)


def _check_forward(size_name: str, letters: str) -> Callable[..., None]:
    def check(module: Any, **arguments: Any) -> None:
        [(name, value)] = arguments.items()
        where = type(module).__name__
        _check_points(where, name, value, getattr(module, size_name), letters)
        check_like(where, name, value, module.net[0].weight, "the weights are")
    return check


# input checks, installed here so that the code above reads as the page shows it
guard(Generator, "__init__", _check_sizes)
guard(Generator, "forward", _check_forward("latent", "(N, Z)"))
guard(Generator, "sample", lambda module, n, generator: _check_ring("Generator.sample", n=n, generator=generator))
guard(Discriminator, "__init__", _check_sizes)
guard(Discriminator, "forward", _check_forward("features", "(N, D)"))
ring_centres = checked_by(_check_ring)(ring_centres)
ring_of_gaussians = checked_by(_check_ring)(ring_of_gaussians)
discriminator_loss = checked_by(_check_logits)(discriminator_loss)
generator_loss = checked_by(_check_generator_loss)(generator_loss)
train_step = checked_by(_check_train_step)(train_step)
gaussian_kernel = checked_by(_check_kernel)(gaussian_kernel)
mmd = checked_by(_check_kernel)(mmd)
mode_coverage = checked_by(_check_coverage)(mode_coverage)
train_gan = checked_by(_check_train_gan)(train_gan)
