"""Probes for the regions of ``n2t.torch.gan`` (see test_snippets.PROBES): each calls a region's function the
same way for the pasted code and for the package, and returns what must be identical."""

from __future__ import annotations

import torch

LOGITS = torch.linspace(-30.0, 30.0, 13, dtype=torch.float64)
POINTS = torch.tensor([[2.0, 0.01], [0.0, 1.97], [1.0, 1.0], [-2.05, 0.0], [1.42, 1.40]])


def seeded_networks(get, latent=3, hidden=5):
    torch.manual_seed(0)
    return get("Generator")(latent=latent, hidden=hidden), get("Discriminator")(hidden=hidden)


def networks_probe(get):
    generator, discriminator = seeded_networks(get)
    z = torch.linspace(-1, 1, 12).view(4, 3)
    samples = generator.sample(6, torch.Generator().manual_seed(1))
    return generator(z), discriminator(generator(z)), samples, discriminator(samples)


def mlp_stack_probe(get):
    torch.manual_seed(0)
    stack = get("mlp_stack")([3, 4, 4, 2], torch.nn.Tanh)
    return stack(torch.linspace(-1, 1, 6).view(2, 3)), str(stack)


def train_step_probe(get):
    generator, discriminator = seeded_networks(get)
    g_opt = torch.optim.SGD(generator.parameters(), lr=0.1)
    d_opt = torch.optim.SGD(discriminator.parameters(), lr=0.1)
    rng = torch.Generator().manual_seed(2)
    results = [sorted(get("train_step")(generator, discriminator, POINTS, torch.randn(7, 3, generator=rng),
                                        g_opt, d_opt, kind).items())
               for kind in ("non_saturating", "minimax")]
    return results, [p.detach().clone() for p in (*generator.parameters(), *discriminator.parameters())]


def train_gan_probe(get):
    generator, discriminator = seeded_networks(get)
    data = get("ring_of_gaussians")(40, generator=torch.Generator().manual_seed(3))
    history = get("train_gan")(generator, discriminator, data, steps=5, batch_size=8, record_every=2, eval_size=16)
    return [history[key] for key in sorted(history)]


PROBES = {
    "n2t.torch.gan": {
        "ring_centres": lambda get: [get("ring_centres")(), get("ring_centres")(5, 0.5)],
        "ring_of_gaussians": lambda get: get("ring_of_gaussians")(
            9, modes=3, radius=1.5, std=0.1, generator=torch.Generator().manual_seed(4)),
        "mlp_stack": mlp_stack_probe,
        "Generator": networks_probe,
        "Discriminator": networks_probe,
        "discriminator_loss": lambda get: get("discriminator_loss")(LOGITS, -LOGITS[:7]),
        "generator_loss": lambda get: [get("generator_loss")(LOGITS, kind) for kind in ("non_saturating", "minimax")],
        "train_step": train_step_probe,
        "gaussian_kernel": lambda get: get("gaussian_kernel")(POINTS, POINTS[:3] * 0.9, (0.1, 1.0)),
        "mmd": lambda get: [get("mmd")(POINTS, POINTS), get("mmd")(POINTS, POINTS[:4] + 0.3)],
        "mode_coverage": lambda get: get("mode_coverage")(POINTS, get("ring_centres")(), 0.02, min_fraction=0.2),
        "train_gan": train_gan_probe,
    },
}
