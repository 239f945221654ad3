"""Structured pruning: whole channels leave every layer that touches them, results kept."""
from __future__ import annotations


import numpy as np
import pytest

from tinyc.ir import Graph, interpret, verify
from tinyc.passes.prune_structured import (apply_group, propagate, prunable_groups,
                                           prune_structured)
from tinyc.pipeline import FLOAT_PASSES, load_model, run_passes

from .util import accuracy, compile_digits, digits_data, host_matches_interpret

MODELS = ["cnn", "cnn_gap", "resnet", "mlp"]


def _float_graph(test_models, name) -> Graph:
    return run_passes(load_model(test_models[name].path), FLOAT_PASSES)


def _samples(test_models, name, n=16):
    with np.load(test_models[name].calib) as z:
        return [{"input": a[None]} for a in z["input"][:n]]


def _silence(g, srcs, dropped):
    """Make the dropped channels exactly zero in the float model (weights and biases of the
    sources, biases of the depthwise convs they pass), so removing them changes nothing."""
    masks, _ = propagate(g, srcs, dropped)
    for n in g.nodes:
        m = masks.get(id(n.outputs[0]))
        if m is None or n.op not in ("conv2d", "fully_connected", "depthwise_conv2d"):
            continue
        ch = m.reshape(-1, m.shape[-1])[0]
        if n in srcs:
            w = n.inputs[1].data.copy()
            w[ch] = 0
            n.replace_input(1, g.const(n.inputs[1].name, w))
        if n.input(2) is not None:
            b = n.inputs[2].data.copy()
            b[ch] = 0
            n.replace_input(2, g.const(n.inputs[2].name, b))


@pytest.mark.parametrize("name", MODELS)
def test_removing_silent_channels_changes_nothing(test_models, name):
    """The rewrite is exact: channels that are zero anyway can go without a trace, in every
    prunable group (residual adds, gates, depthwise convs, concat, flatten)."""
    g = _float_graph(test_models, name)
    x = _samples(test_models, name, 3)
    rng = np.random.default_rng(0)
    for srcs in prunable_groups(g)[0]:
        c = srcs[0].outputs[0].shape[-1]
        dropped = np.zeros(c, bool)
        dropped[rng.choice(c, c // 2, replace=False)] = True
        _silence(g, [s for s in g.nodes if s.name in {n.name for n in srcs}], dropped)
        before = [interpret(g, f)[0] for f in x]
        apply_group(g, [n for n in g.nodes if n.name in {s.name for s in srcs}], dropped)
        verify(g)
        after = [interpret(g, f)[0] for f in x]
        np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-6)


def test_residual_groups_prune_together(test_models):
    g = _float_graph(test_models, "resnet")
    _, report = prune_structured(g, _samples(test_models, "resnet"), 0.5)
    layers = {tuple(sorted(r["layers"])) for r in report["groups"]}
    assert ("conv0", "gate", "res1b") in layers and ("down2", "proj") in layers
    shapes = {n.name: n.outputs[0].shape[-1] for n in g.nodes}
    assert shapes["res1.add"] == shapes["conv0"] == shapes["res1b"] == 4
    assert shapes["concat"] == 8 and shapes["res2.add"] == 8 and shapes["fc"] == 10
    assert report["frozen"] and "softmax" in report["frozen"][0]["reason"]


def test_small_ratio_does_not_fire(test_models):
    """1% of 8 channels is no channel: the graph is left exactly as it was."""
    g = _float_graph(test_models, "cnn")
    before = str(g)
    kept, report = prune_structured(g, _samples(test_models, "cnn"), 0.01)
    assert str(g) == before and not kept and not report["groups"]


def test_bad_ratio_is_an_error(test_models):
    g = _float_graph(test_models, "cnn")
    with pytest.raises(Exception, match="ratio"):
        prune_structured(g, _samples(test_models, "cnn"), 1.5)


@pytest.mark.parametrize("name", ["cnn", "resnet"])
def test_compiled_models_are_exact_in_c(test_models, name):
    import tinyc
    t = test_models[name]
    m = tinyc.compile(t.path, calib=t.calib, progress=None, prune_structured=0.5)
    base = tinyc.compile(t.path, calib=t.calib, progress=None)
    assert m.report["macs"] < 0.6 * base.report["macs"]
    assert m.report["weights_bytes"] < 0.6 * base.report["weights_bytes"]
    with np.load(t.test) as z:
        assert host_matches_interpret(m, z["input"][:8])


def test_digits_accuracy_kept_by_compensation(repo_root):
    base = compile_digits(repo_root)
    m = compile_digits(repo_root, prune_structured=0.25)
    raw = compile_digits(repo_root, prune_structured=0.25, compensate=False)
    assert m.report["macs"] < 0.65 * base.report["macs"]
    assert m.report["weights_bytes"] < 0.7 * base.report["weights_bytes"]
    assert accuracy(m, repo_root) >= 0.95
    assert accuracy(m, repo_root) > accuracy(raw, repo_root) + 0.05
    assert host_matches_interpret(m, digits_data(str(repo_root))[0][:30])


def test_kept_channel_counts_stay_multiples_of_4():
    """The fast depthwise/im2col kernels need channel counts that are multiples of 4: a group of
    >= 16 such channels keeps a multiple of 4, as close to the asked ratio as that allows."""
    from tinyc.passes.prune_structured import channels_to_remove
    for c in (16, 32, 64, 128, 256):
        for ratio in (0.1, 0.25, 0.3, 0.5, 0.9):
            n = channels_to_remove(c, ratio)
            assert (c - n) % 4 == 0 and c - n >= 4
            assert abs(n - ratio * c) <= 2.5, (c, ratio, n)
    assert channels_to_remove(8, 0.3) == 2 and channels_to_remove(12, 0.5) == 6  # small: as asked
