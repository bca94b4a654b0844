"""Code on the pages: every --8<-- reference resolves, every region runs pasted alone after its
``imports`` (plus the regions it needs), every page's sequence runs in order, and every region
computes exactly what the package computes. Every lab program runs as a script (smoke mode)."""

from __future__ import annotations

import ast
import builtins
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"--8<-- \[(start|end):([a-z][-0-9a-z]*)\]")
INCLUDE = re.compile(r'^\s*--8<-- "([^":]+):([a-z][-0-9a-z]*)"\s*$')


def parse_regions(path: Path) -> dict[str, str]:
    """region name → source text, for one file; checks the markers are balanced."""
    regions, open_regions = {}, {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        match = MARKER.search(line)
        if match:
            kind, name = match.groups()
            if kind == "start":
                assert name not in open_regions and name not in regions, f"{path}:{number + 1}: {name} twice"
                open_regions[name] = []
            else:
                assert name in open_regions, f"{path}:{number + 1}: end of {name} without start"
                regions[name] = "\n".join(open_regions.pop(name)) + "\n"
            continue
        for lines in open_regions.values():
            lines.append(line)
    assert not open_regions, f"{path}: unclosed regions {sorted(open_regions)}"
    return regions


SOURCES = sorted((ROOT / "src" / "n2t").rglob("*.py"))
REGIONS = {path: parse_regions(path) for path in SOURCES}
REGIONS = {path: regions for path, regions in REGIONS.items() if regions}
PAGES = sorted((ROOT / "docs").rglob("*.md"))


def module_of(path: Path):
    name = ".".join(path.relative_to(ROOT / "src").with_suffix("").parts)
    return importlib.import_module(name)


def defined_names(code: str) -> set[str]:
    tree = ast.parse(code)
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def free_names(code: str) -> set[str]:
    """Names a region reads at module level or inside its functions but does not define."""
    tree = ast.parse(code)
    loads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    local = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for node in ast.walk(tree):
        if isinstance(node, ast.arguments):
            every = (*node.posonlyargs, *node.args, *node.kwonlyargs, node.vararg, node.kwarg)
            local |= {a.arg for a in every if a is not None}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            local.add(node.name)  # nested definitions
    return loads - local - defined_names(code) - set(dir(builtins))


def prerequisites(path: Path, name: str) -> list[str]:
    """The other regions of the file that define names ``name`` reads (transitively, in file order)."""
    regions = REGIONS[path]
    providers = {n: r for r, code in regions.items() for n in defined_names(code)}
    needed, stack = set(), [name]
    while stack:
        for missing in free_names(regions[stack.pop()]) - defined_names(regions["imports"]):
            assert missing in providers, f"{path.name}:{name} uses {missing!r}, which no region defines"
            if providers[missing] not in needed and providers[missing] != name:
                needed.add(providers[missing])
                stack.append(providers[missing])
    return [r for r in regions if r in needed]


# ---- probes: call a region's function and the package's, compare -------------------------------
X = np.random.default_rng(0).standard_normal((3, 4, 5))
ALPHA = np.array([0.1, 0.2, 0.3, 0.4])
XT = torch.from_numpy(X)
X2 = np.random.default_rng(1).standard_normal((6, 5))
W2, B2 = np.random.default_rng(2).standard_normal((4, 5)), np.random.default_rng(3).standard_normal(4)
Y2 = np.array([1, -1, 1, 1, -1, -1])


def forward_backward(name, *args):
    return lambda get: get(f"{name}_backward")(np.ones_like(X) * 0.3, get(f"{name}_forward")(*args)[1])


def seeded(build):
    def probe(get):
        torch.manual_seed(0)
        return build(get)
    return probe


ELEMENTWISE = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish", "gelu")
NUMPY_ACT = {
    **{f"{n}_forward": (lambda get, n=n: get(f"{n}_forward")(X)) for n in ELEMENTWISE},
    **{f"{n}_backward": forward_backward(n, X) for n in ELEMENTWISE},
}
Z = np.random.default_rng(4).standard_normal((6, 4))
LABELS = np.array([0, 3, 1, 2, 3, 0])
T01 = np.random.default_rng(5).uniform(0, 1, (6, 4))
BN_X = np.random.default_rng(6).standard_normal((6, 4, 3))
GAMMA, BETA = np.array([1.0, 2.0, 0.5, -1.0]), np.array([0.0, 0.1, -0.2, 0.3])


def loss_pair(name, *args):
    return lambda get: get(f"{name}_backward")(1.0, get(f"{name}_forward")(*args)[1])


def optimizer_run(name, **kwargs):
    """Three steps of an optimizer on a tiny quadratic; returns the trajectory."""
    def probe(get):
        params, grads = {"w": np.array([1.0, -2.0, 3.0])}, {"w": np.zeros(3)}
        opt = get(name)([(params, grads)], **kwargs)
        trajectory = []
        for _ in range(3):
            grads["w"] = 2 * params["w"]
            opt.step()
            trajectory.append(params["w"].copy())
        return trajectory
    return probe


def clip_probe(get):
    grads = {"w": np.array([3.0, 4.0])}
    return get("clip_grad_norm")([({"w": np.zeros(2)}, grads)], 1.0), grads["w"]


PROBES = {
    "n2t.numpy.losses": {
        "logsumexp": lambda get: get("logsumexp")(Z * 300),
        "log_softmax": lambda get: get("log_softmax")(Z),
        "softmax": lambda get: get("softmax")(Z),
        "mse_forward": lambda get: get("mse_forward")(Z, T01),
        "mse_backward": loss_pair("mse", Z, T01),
        "bce_with_logits_forward": lambda get: get("bce_with_logits_forward")(Z, T01),
        "bce_with_logits_backward": loss_pair("bce_with_logits", Z, T01),
        "softmax_cross_entropy_forward": lambda get: get("softmax_cross_entropy_forward")(Z, LABELS),
        "softmax_cross_entropy_backward": loss_pair("softmax_cross_entropy", Z, LABELS),
    },
    "n2t.numpy.dropout": {
        "dropout_forward": lambda get: get("dropout_forward")(Z, 0.5, True, np.random.default_rng(0)),
        "dropout_backward": lambda get: get("dropout_backward")(
            Z, get("dropout_forward")(Z, 0.5, True, np.random.default_rng(0))[1]),
    },
    "n2t.numpy.batchnorm": {
        "_channel_view": lambda get: get("_channel_view")(GAMMA, 3),
        "batchnorm_forward": lambda get: get("batchnorm_forward")(BN_X, GAMMA, BETA)[0],
        "batchnorm_backward": lambda get: get("batchnorm_backward")(
            BN_X * 0.3, get("batchnorm_forward")(BN_X, GAMMA, BETA)[1]),
    },
    "n2t.numpy.init": {
        "calculate_gain": lambda get: [get("calculate_gain")(n) for n in ("tanh", "relu", "leaky_relu")],
        "fans": lambda get: get("fans")((8, 3, 5, 5)),
        **{name: (lambda get, name=name: get(name)((30, 20), np.random.default_rng(0)))
           for name in ("xavier_uniform", "xavier_normal", "he_normal", "he_uniform")},
    },
    "n2t.numpy.optim": {
        "Pairs": lambda get: str(get("Pairs")),
        "Optimizer": lambda get: (lambda pair, opt: (opt.zero_grad(), pair[1]["w"], opt.lr))(
            pair := ({"w": np.ones(3)}, {"w": np.ones(3)}), get("Optimizer")([pair], lr=0.5, weight_decay=0.1)),
        "SGD": optimizer_run("SGD", lr=0.1, momentum=0.9, weight_decay=0.01),
        "RMSProp": optimizer_run("RMSProp", lr=0.1),
        "Adam": optimizer_run("Adam", lr=0.1, weight_decay=0.01),
        "clip_grad_norm": clip_probe,
    },
    "n2t.torch.losses": {
        "mse": lambda get: get("mse")(torch.from_numpy(Z), torch.from_numpy(T01)),
        "bce_with_logits": lambda get: get("bce_with_logits")(torch.from_numpy(Z), torch.from_numpy(T01)),
        "cross_entropy": lambda get: get("cross_entropy")(torch.from_numpy(Z), torch.from_numpy(LABELS)),
    },
    "n2t.torch.layers": {
        "BatchNorm1d": lambda get: (lambda bn: (bn(torch.from_numpy(BN_X)), bn.running_var))(
            get("BatchNorm1d")(4).double()),
        "Dropout": seeded(lambda get: get("Dropout")(0.5)(torch.from_numpy(Z))),
    },
    "n2t.numpy.activations": {
        **NUMPY_ACT,
        "sigmoid": lambda get: get("sigmoid")(X),
        "erf": lambda get: get("erf")(X),
        "_ERFC_COEFFS": lambda get: get("_ERFC_COEFFS"),
        "_alpha_view": lambda get: get("_alpha_view")(ALPHA, X),
        "prelu_forward": lambda get: get("prelu_forward")(X, ALPHA),
        "prelu_backward": forward_backward("prelu", X, ALPHA),
    },
    "n2t.numpy.linear": {
        "linear_forward": lambda get: get("linear_forward")(X2, W2, B2),
        "linear_backward": lambda get: get("linear_backward")(np.ones((6, 4)), get("linear_forward")(X2, W2, B2)[1]),
    },
    "n2t.numpy.perceptron": {
        "perceptron_predict": lambda get: get("perceptron_predict")(X2, W2[0], 0.1),
        "perceptron_update": lambda get: get("perceptron_update")(X2, Y2, np.zeros(5), 0.0, 0.5),
    },
    "n2t.torch.activations": {
        **{n: (lambda get, n=n: get(n)(XT)) for n in ELEMENTWISE},
        "prelu": lambda get: get("prelu")(XT, torch.from_numpy(ALPHA)),
        "PReLU": seeded(lambda get: get("PReLU")(4).double()(XT)),
    },
    "n2t.torch.linear": {
        "linear": lambda get: get("linear")(torch.from_numpy(X2), torch.from_numpy(W2), torch.from_numpy(B2)),
        "Linear": seeded(lambda get: get("Linear")(5, 4).double()(torch.from_numpy(X2))),
    },
    "n2t.torch.perceptron": {
        "Perceptron": lambda get: (lambda p: (p.fit(torch.from_numpy(X2), torch.from_numpy(Y2), 5), p.w))(
            get("Perceptron")(5)),
    },
}


def _topic_probes() -> dict:
    """Probes kept next to each chapter's tests: every ``tests/probes_<topic>.py`` defines ``PROBES``."""
    found = {}
    for path in sorted(Path(__file__).parent.glob("probes_*.py")):
        module = importlib.import_module(path.stem)
        overlap = set(found) & set(module.PROBES)
        assert not overlap, f"{path.name}: probes for {sorted(overlap)} are defined twice"
        found.update(module.PROBES)
    return found


for _module_name, _probes in _topic_probes().items():
    assert _module_name not in PROBES, f"probes for {_module_name} are defined twice"
    PROBES[_module_name] = _probes


def assert_same(a, b, where):
    if isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), where
        for x, y in zip(a, b):
            assert_same(x, y, where)
    elif isinstance(a, torch.Tensor):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=where)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert a == b, where


def run_code(code: str, namespace: dict) -> dict:
    exec(compile(code, "<region>", "exec"), namespace)
    return namespace


REGION_CASES = [(p, r) for p, regions in REGIONS.items() for r in regions if r != "imports"]


@pytest.mark.parametrize("path,region", REGION_CASES, ids=[f"{p.stem}:{r}" for p, r in REGION_CASES])
def test_region_runs_alone_and_matches_the_package(path, region):
    regions = REGIONS[path]
    assert "imports" in regions, f"{path} has regions but no 'imports' region"
    namespace = run_code(regions["imports"], {"__name__": "pasted"})
    for needed in prerequisites(path, region):
        run_code(regions[needed], namespace)
    run_code(regions[region], namespace)
    module = module_of(path)
    probes = PROBES[module.__name__]
    for name in defined_names(regions[region]):
        assert name in probes, f"add a probe for {module.__name__}.{name}"
        pasted = probes[name](lambda n: namespace[n] if n in namespace else getattr(module, n))
        packaged = probes[name](lambda n: getattr(module, n))
        assert_same(pasted, packaged, f"{module.__name__}.{name}")


def page_includes(page: Path) -> list[tuple[Path, str]]:
    found = []
    for line in page.read_text(encoding="utf-8").splitlines():
        match = INCLUDE.match(line)
        if match:
            found.append((ROOT / match.group(1), match.group(2)))
    return found


def test_pages_include_code():
    assert sum(len(page_includes(p)) for p in PAGES) >= 20


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT / "docs").as_posix() for p in PAGES])
def test_page_references_resolve_and_run_in_page_order(page):
    shown: dict[Path, dict] = {}
    for path, region in page_includes(page):
        assert path.is_file(), f"{page.name}: no file {path}"
        regions = parse_regions(path)
        assert region in regions, f"{page.name}: {path.name} has no region {region!r}"
        if region == "imports":
            assert path not in shown, f"{page.name}: imports of {path.name} shown twice"
            shown[path] = run_code(regions["imports"], {"__name__": "pasted"})
            continue
        assert path in shown, f"{page.name}: {path.name}:{region} shown before its imports region"
        missing = free_names(regions[region]) - set(shown[path])
        assert not missing, f"{page.name}: {path.name}:{region} needs {sorted(missing)}, not shown earlier"
        run_code(regions[region], shown[path])


@pytest.mark.parametrize("page", [p for p in PAGES if not p.name.endswith(".en.md")],
                         ids=lambda p: p.relative_to(ROOT / "docs").as_posix())
def test_twin_pages_show_the_same_code(page):
    twin = page.with_name(page.name[:-3] + ".en.md")
    assert page_includes(page) == page_includes(twin)


LABS = sorted(p for p in (ROOT / "snippets").glob("*/*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("lab", LABS, ids=[p.relative_to(ROOT).as_posix() for p in LABS])
def test_lab_runs_as_a_script_in_smoke_mode(lab):
    env = {**os.environ, "N2T_SMOKE": "1", "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(lab)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
