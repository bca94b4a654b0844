"""Probes for the regions of ``n2t.torch.depth`` (see test_snippets.PROBES): each returns outputs that must match
exactly between the pasted region and the package."""

from __future__ import annotations

import torch

X = torch.linspace(0, 1, 257, dtype=torch.float64)[:, None]  # (N, 1), includes the dyadic points
X_WIDE = torch.linspace(-1, 1, 41, dtype=torch.float64)[:, None]
Y = torch.sin(3 * X_WIDE)


def seeded(build):
    def probe(get):
        torch.manual_seed(0)
        return build(get)
    return probe


def on_x(model, x=X):
    with torch.no_grad():
        return model.double()(x)


def fit_probe(get):
    torch.manual_seed(0)
    model = get("deep_narrow")(2, 3).double()
    losses = get("fit_regression")(model, X_WIDE, Y, steps=20, lr=0.05)
    return losses, list(model.parameters())


def ensemble_probe(get):
    torch.manual_seed(0)
    models = [get("deep_narrow")(2, 3).double() for _ in range(2)]
    losses = get("fit_ensemble")(models, X_WIDE, Y, steps=20, lr=0.05)
    return losses, [p.detach() for model in models for p in model.parameters()]


PROBES = {
    "n2t.torch.depth": {
        "tent": lambda get: get("tent")(X),
        "sawtooth": lambda get: [get("sawtooth")(X, k) for k in (1, 3, 5)],
        "fixed_linear": lambda get: on_x(get("fixed_linear")([[1.0], [-2.0]], [0.5, 0.25])),
        "sawtooth_net": seeded(lambda get: [on_x(get("sawtooth_net")(k)) for k in (1, 4)]),
        "sawtooth_shallow": seeded(lambda get: [on_x(get("sawtooth_shallow")(k)) for k in (1, 4)]),
        "deep_narrow": seeded(lambda get: on_x(get("deep_narrow")(3, 4), X_WIDE)),
        "shallow_wide": seeded(lambda get: on_x(get("shallow_wide")(5), X_WIDE)),
        "equal_parameter_width": lambda get: [get("equal_parameter_width")(d, w) for d, w in ((1, 4), (3, 2), (4, 8))],
        "count_linear_pieces": seeded(lambda get: [
            get("count_linear_pieces")(get("sawtooth_net")(3).double(), X),
            get("count_linear_pieces")(get("deep_narrow")(3, 5).double(), X_WIDE)]),
        "fit_regression": fit_probe,
        "fit_ensemble": ensemble_probe,
    },
}
