"""Unstructured pruning with OBS compensation on the calibration activations."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.errors import TinycError

from .util import accuracy, compile_digits, digits_data, host_matches_interpret

PRUNED = ("conv2d", "fully_connected")


def _zeros(m) -> dict[str, float]:
    return {n.name: float(np.mean(n.inputs[1].data == 0)) for n in m.graph.nodes
            if n.op in PRUNED}


def test_every_layer_loses_its_share(repo_root):
    m = compile_digits(repo_root, prune=0.6)
    assert all(z >= 0.59 for z in _zeros(m).values())
    dw = next(n for n in m.graph.nodes if n.op == "depthwise_conv2d")
    assert np.mean(dw.inputs[1].data == 0) < 0.5          # depthwise layers are not pruned
    assert host_matches_interpret(m, digits_data(str(repo_root))[0][:20])


def test_obs_compensation_keeps_accuracy(repo_root):
    """50% of the weights gone: OBS + re-fit stays within 3 points of float, zeroing does not."""
    m = compile_digits(repo_root, prune=0.5)
    raw = compile_digits(repo_root, prune=0.5, compensate=False, prune_method="magnitude")
    assert accuracy(m, repo_root) >= 0.95
    assert accuracy(m, repo_root) > accuracy(raw, repo_root) + 0.03


def test_obs_saliency_not_worse_than_magnitude(repo_root):
    obs = accuracy(compile_digits(repo_root, prune=0.7), repo_root)
    mag = accuracy(compile_digits(repo_root, prune=0.7, prune_method="magnitude"), repo_root)
    assert obs >= mag - 0.01


def test_global_scope_spreads_sparsity(repo_root):
    m = compile_digits(repo_root, prune=0.6, prune_scope="global")
    layers = [n for n in m.graph.nodes if n.op in PRUNED]
    total = sum(int(np.sum(n.inputs[1].data == 0)) for n in layers)
    size = sum(n.inputs[1].data.size for n in layers)
    assert total / size >= 0.58
    assert len({round(z, 2) for z in _zeros(m).values()}) > 1
    assert accuracy(m, repo_root) >= 0.93


def test_per_layer_dict(repo_root):
    m = compile_digits(repo_root, prune={"/9/Conv_output_0": 0.8})
    z = _zeros(m)
    assert z["/9/Conv_output_0"] >= 0.79 and z["logits"] < 0.3


@pytest.mark.parametrize("bad", [{"nope": 0.5}, 1.2, -0.1])
def test_bad_prune_options(repo_root, bad):
    with pytest.raises(TinycError):
        compile_digits(repo_root, prune=bad)


def test_compression_needs_calibration(repo_root):
    import tinyc
    with pytest.raises(TinycError, match="calibration"):
        tinyc.compile(f"{repo_root}/examples/digits/digits.onnx", prune=0.5, progress=None)
