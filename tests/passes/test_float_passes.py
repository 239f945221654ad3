"""fold_batchnorm, fuse_activation, canonicalize: before/expected pairs and does-not-fire cases,
each also checked numerically against the float interpreter."""
import copy

import numpy as np
import pytest

from tinyc.ir import interpret, verify
from tinyc.passes.canonicalize import canonicalize
from tinyc.passes.fold_batchnorm import fold_batchnorm
from tinyc.passes.fuse_activation import fuse_activation

from .graphs import CONV, assert_same_graph, new_graph, rand


def _bn_params(g, rng, c):
    return [g.const("gamma", np.abs(rand(rng, c)) + 0.5), g.const("beta", rand(rng, c)),
            g.const("mean", rand(rng, c)), g.const("var", np.abs(rand(rng, c)) + 0.1)]


def _same_numbers(before, after, shape=(1, 6, 6, 3)):
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    for a, b in zip(interpret(before, [x]), interpret(after, [x])):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("op,wshape", [("conv2d", (4, 3, 3, 3)),
                                       ("depthwise_conv2d", (1, 3, 3, 3))])
def test_fold_batchnorm_into_conv(op, wshape):
    rng = np.random.default_rng(0)
    g, x = new_graph()
    c = wshape[0] if op == "conv2d" else wshape[3]
    y = g.emit(op, [x, g.const("w", rand(rng, *wshape)), g.const("b", rand(rng, c))], CONV)
    g.outputs = [g.emit("batch_norm", [y, *_bn_params(g, rng, c)], {"epsilon": 1e-3})]
    before = copy.deepcopy(g)
    after = verify(fold_batchnorm(g))
    assert [n.op for n in after.nodes] == [op]
    _same_numbers(before, after)


def test_fold_batchnorm_does_not_fire_when_conv_output_is_shared():
    rng = np.random.default_rng(0)
    g, x = new_graph()
    y = g.emit("conv2d", [x, g.const("w", rand(rng, 4, 3, 3, 3)), None], CONV)
    bn = g.emit("batch_norm", [y, *_bn_params(g, rng, 4)], {})
    g.outputs = [g.emit("add", [bn, y])]
    before = copy.deepcopy(g)
    assert_same_graph(verify(fold_batchnorm(g)), before)


def test_standalone_batchnorm_becomes_depthwise():
    rng = np.random.default_rng(0)
    g, x = new_graph()
    g.outputs = [g.emit("batch_norm", [x, *_bn_params(g, rng, 3)], {})]
    before = copy.deepcopy(g)
    after = verify(canonicalize(fold_batchnorm(g)))
    assert [n.op for n in after.nodes] == ["depthwise_conv2d"]
    _same_numbers(before, after)


def test_fuse_relu6_into_conv_expected_graph():
    rng = np.random.default_rng(0)
    w = rand(rng, 4, 3, 3, 3)
    g, x = new_graph()
    y = g.emit("conv2d", [x, g.const("w", w), None], CONV)
    g.outputs = [g.emit("clip", [y], {"min": 0.0, "max": 6.0})]
    before = copy.deepcopy(g)
    e, ex = new_graph()
    e.outputs = [e.emit("conv2d", [ex, e.const("w", w), None], {**CONV, "act": (0.0, 6.0)})]
    after = verify(fuse_activation(g))
    assert_same_graph(after, e)
    _same_numbers(before, after)


def test_fuse_does_not_fire_when_preactivation_is_observable():
    rng = np.random.default_rng(0)
    g, x = new_graph()
    y = g.emit("conv2d", [x, g.const("w", rand(rng, 4, 3, 3, 3)), None], CONV)
    g.outputs = [g.emit("relu", [y]), y]
    before = copy.deepcopy(g)
    assert_same_graph(verify(fuse_activation(g)), before)


def test_fuse_does_not_fire_after_reshape():
    g, x = new_graph()
    y = g.emit("reshape", [x], {"shape": (1, 108)})
    g.outputs = [g.emit("relu", [y])]
    before = copy.deepcopy(g)
    assert_same_graph(verify(fuse_activation(g)), before)


def test_canonicalize_drops_noop_reshape_and_merges_reshapes():
    g, x = new_graph()
    a = g.emit("relu", [x])
    b = g.emit("reshape", [a], {"shape": (1, 6, 6, 3)})
    c = g.emit("reshape", [b], {"shape": (1, 36, 3)})
    g.outputs = [g.emit("reshape", [c], {"shape": (1, 108)})]
    e, ex = new_graph()
    e.outputs = [e.emit("reshape", [e.emit("relu", [ex])], {"shape": (1, 108)})]
    assert_same_graph(verify(canonicalize(g)), e)
