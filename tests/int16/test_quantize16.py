"""quantize with int16 activations (TFLite's 16x8 scheme): which tensors become int16, where
the requantize conversions go, the int64 bias, errors; and, measured, that an int16 layer is
within about one quantization step of a float computation of the same layer and that int16
activations cut the error against the float model."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from tinyc.errors import TinycError
from tinyc.ir import DType, interpret
from tinyc.passes.fuse_activation import fuse_activation
from tinyc.passes.quantize import activation_report, quantize

from ..passes.test_quantize import _net

I8, I16 = DType.INT8, DType.INT16


@pytest.fixture(scope="module")
def net():
    rng = np.random.default_rng(1)
    samples = [{"x": rng.standard_normal((1, 8, 8, 3)).astype(np.float32)} for _ in range(16)]
    return fuse_activation(_net()), samples


def _q(net, activations):
    g, samples = net
    return quantize(copy.deepcopy(g), samples, activations=activations)


def _by_name(g):
    return {n.name: n for n in g.nodes}


def test_one_layer_int16_gets_conversions_around_it(net):
    g = _q(net, {"conv2d": "int16"})
    ops = [(n.op, n.outputs[0].dtype) for n in g.nodes]
    assert ops[:3] == [("requantize", I16), ("conv2d", I16), ("requantize", I8)]
    assert all(d is I8 for op, d in ops[3:])
    conv = _by_name(g)["conv2d"]
    assert conv.inputs[2].dtype is DType.INT64 and conv.inputs[1].dtype is I8
    assert conv.outputs[0].q.zp == 0 and conv.attrs["in_offset"] == conv.attrs["out_offset"] == 0
    assert conv.attrs["act_min"] == 0 and conv.attrs["act_max"] == 32767       # fused relu
    assert all(v.dtype is I8 for v in g.inputs + g.outputs)
    assert activation_report(g) == {"conv2d": "int16"}


def test_all_int16_converts_only_at_int8_only_ops(net):
    g = _q(net, "int16")
    conversions = [n for n in g.nodes if n.op == "requantize"]
    # input -> conv; fc -> hard_swish (lut, int8 only) -> add; add -> softmax (int8 only)
    assert [(n.inputs[0].dtype, n.outputs[0].dtype) for n in conversions] == \
        [(I8, I16), (I16, I8), (I8, I16), (I16, I8)]
    wide = {n.op for n in g.nodes if n.outputs[0].dtype is I16 and n.op != "requantize"}
    assert wide == {"conv2d", "depthwise_conv2d", "max_pool2d", "avg_pool2d", "reshape",
                    "fully_connected", "add"}
    pool = _by_name(g)["max_pool2d"]
    assert pool.outputs[0].q == pool.inputs[0].q            # pools keep their input's scale
    add = _by_name(g)["add"]
    assert add.attrs["left_shift"] == 15


def test_int8_default_unchanged(net):
    g8 = _q(net, None)
    assert not any(n.op == "requantize" for n in g8.nodes)
    assert all(n.outputs[0].dtype is I8 for n in g8.nodes)
    assert activation_report(g8) == {}


@pytest.mark.parametrize("bad,msg", [({"nope": "int16"}, "no layer"),
                                     ({"conv2d": "int4"}, "expected 'int8' or 'int16'"),
                                     ("int12", "expected 'int8' or 'int16'")])
def test_bad_activations(net, bad, msg):
    with pytest.raises(TinycError, match=msg):
        _q(net, bad)


def _dequant(a, v):
    return (a.astype(np.float64) - v.q.zp) * v.q.s


def test_int16_layer_within_one_step_of_float(net):
    """The int16 conv's output against float64 arithmetic on exactly its integer inputs
    (dequantized input, int8 weights, int64 bias): within 2 steps (rounding + the Q15
    multiplier), except where the float value lies outside the int16 range (clamped)."""
    g = _q(net, "int16")
    conv = _by_name(g)["conv2d"]
    x, w, b, y = conv.inputs[0], conv.inputs[1], conv.inputs[2], conv.outputs[0]
    rng = np.random.default_rng(5)
    s, zp = g.inputs[0].q.s, g.inputs[0].q.zp
    for _ in range(4):
        xf = rng.standard_normal((1, 8, 8, 3))
        acts = interpret(g, [np.clip(np.round(xf / s) + zp, -128, 127)], keep=True)
        xi = acts[x].astype(np.float64) * x.q.s
        wf = w.data.astype(np.float64) * np.asarray(w.q.scale).reshape(-1, 1, 1, 1)
        bf = b.data.astype(np.float64) * np.asarray(b.q.scale)
        pad = np.pad(xi, ((0, 0), (1, 1), (1, 1), (0, 0)))
        ref = np.zeros(y.shape)
        for i in range(8):
            for j in range(8):
                ref[0, i, j] = np.einsum("hwc,ohwc->o", pad[0, i:i + 3, j:j + 3], wf) + bf
        ref = np.maximum(ref, 0.0) / y.q.s                      # fused relu, in output steps
        got = acts[y].astype(np.float64)
        inside = ref < 32767
        assert inside.mean() > 0.9
        assert np.abs(got - ref)[inside].max() <= 2.0
        assert np.array_equal(got[~inside], np.full((~inside).sum(), 32767.0))


def test_int16_activations_reduce_the_error_against_float(net):
    """Measured: the depthwise layer's output error against the float model roughly halves
    with int16 activations (its input and output) instead of int8 (9.4e-5 vs 1.9e-4 here;
    what is left is the int8 graph input's and the int8 weights' error)."""
    g, samples = net
    errs = {}
    for acts in (None, {"conv2d": "int16", "depthwise_conv2d": "int16"}):
        q = quantize(copy.deepcopy(g), samples, activations=acts)
        d = _by_name(q)["depthwise_conv2d"].outputs[0]
        e = []
        for feed in samples[:8]:
            ref = [a for v, a in interpret(g, feed, keep=True).items()
                   if v.name == "depthwise_conv2d"][0]
            s, zp = q.inputs[0].q.s, q.inputs[0].q.zp
            xq = np.clip(np.round(feed["x"] / s) + zp, -128, 127)
            got = _dequant(interpret(q, [xq], keep=True)[d], d)
            e.append(np.mean((got - ref) ** 2))
        errs[acts is None] = float(np.mean(e))
    assert errs[False] < 0.6 * errs[True], errs
