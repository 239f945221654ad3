"""The independent check of the 16x8 arithmetic: hand-built int16 .tflite models (int8 input
-> QUANTIZE to int16 -> one 16x8 op -> int16 output) run in the TFLite Micro Python
interpreter (reference kernels); tinyc's golden model of the same graph, with kernel constants
from tinyc's quantization rules, must give the same int16 outputs bit for bit."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.ir import Graph, QParams, TensorType, interpret

from .util import I8, I16, convert, emit16, q

RELU, RELU6 = 1, 3
SAME, VALID = 0, 1


@pytest.fixture(scope="module")
def tfl_env():
    from tests.tflite.conftest import need
    need("tflite", "tflite==2.18.0", attr="Model")
    tflm = need("tflite_micro.python.tflite_micro.runtime", "tflite-micro")
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tflite"))
    import tflbuild
    return tflbuild, tflm


class Pair:
    """The same int8 -> int16 -> op -> int16 model as a .tflite (b) and as a tinyc Graph (g)."""

    def __init__(self, tflbuild, rng, shape):
        self.b, self.g, self.rng = tflbuild.TflBuilder(), Graph("pair"), rng
        s8, zp = float(np.float32(rng.uniform(0.01, 0.1))), int(rng.integers(-40, 40))
        s16 = float(np.float32(s8 * 128 / 32767 * rng.uniform(1.0, 1.3)))
        self.tx = self.b.tensor("x", shape, scale=s8, zp=zp)
        self.tx16 = self.b.tensor("x16", shape, "INT16", scale=s16, zp=0)
        self.b.op("QUANTIZE", [self.tx], [self.tx16])
        self.x = self.g.add_input("x", TensorType(I8, tuple(shape), q(s8, zp)))
        self.x16 = convert(self.g, self.x, I16, q(s16))

    def weights(self, shape, axis: int, per_channel: bool = True):
        n = shape[axis] if per_channel else 1
        w = self.rng.integers(-127, 128, shape).astype(np.int8)
        sw = self.rng.uniform(0.002, 0.02, n).astype(np.float32)
        t = self.b.const("w", w, scale=sw, zp=np.zeros(n), qdim=axis)
        qp = QParams(tuple(map(float, sw)), (0,) * n, axis if per_channel else None)
        return t, self.g.const("w", w, qp), sw

    def bias(self, n: int, sw, magnitude: int):
        data = self.rng.integers(-magnitude, magnitude + 1, n).astype(np.int64)
        bs = np.float32(self.x16.q.s) * np.broadcast_to(sw, (n,)).astype(np.float32)
        t = self.b.const("b", data, scale=bs, zp=np.zeros(n), qdim=0)
        return t, self.g.const("b", data, QParams(tuple(map(float, bs)), (0,) * n, 0))

    def op(self, name, t_inputs, g_op, g_inputs, attrs, out_shape, s_out, options=None,
           **fields):
        s_out = float(np.float32(s_out))
        ty = self.b.tensor("y", out_shape, "INT16", scale=s_out, zp=0)
        self.b.op(name, t_inputs, [ty], options, **fields)
        y = emit16(self.g, g_op, g_inputs, attrs, s_out)
        self.g.outputs = [y]
        return self.b.build([self.tx], [ty])


def _check(tflm, data: bytes, g: Graph, rng, n: int = 4) -> None:
    it = tflm.Interpreter.from_bytes(data)
    for k in range(n + 2):
        x = (rng.integers(-128, 128, g.inputs[0].shape) if k < n else
             np.full(g.inputs[0].shape, (-128, 127)[k - n])).astype(np.int8)
        it.set_input(x, 0)
        it.invoke()
        want = it.get_output(0)
        got = interpret(g, [x])[0]
        assert want.dtype == np.int16 and got.dtype == np.int16
        diff = np.abs(got.astype(np.int64) - want.astype(np.int64).reshape(got.shape))
        assert diff.max() == 0, f"{int((diff > 0).sum())} of {diff.size} differ, max " \
            f"{diff.max()}"
        if k < n:
            assert len(np.unique(got)) > 4, "degenerate case: few distinct outputs"


def _act(code):
    return {0: (-np.inf, np.inf), RELU: (0.0, np.inf), RELU6: (0.0, 6.0)}[code]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("padding,stride,act", [(SAME, 1, 0), (VALID, 2, RELU),
                                                (SAME, 2, RELU6)])
def test_conv2d_16x8_equals_tflm(tfl_env, seed, padding, stride, act):
    tflbuild, tflm = tfl_env
    rng = np.random.default_rng(seed * 7 + stride + padding)
    p = Pair(tflbuild, rng, (1, 9, 7, 3))
    tw, w, sw = p.weights((5, 3, 3, 3), 0)
    tb, b = p.bias(5, sw, 1 << 22)
    oh, ow = ((9 + stride - 1) // stride, (7 + stride - 1) // stride) if padding == SAME else \
        ((9 - 3) // stride + 1, (7 - 3) // stride + 1)
    pads = (1, 1, 1, 1) if padding == SAME else (0, 0, 0, 0)
    if padding == SAME and stride == 2:
        pads = (1, 1, 1, 1)
    s_out = p.x16.q.s * float(sw.mean()) * 600 * rng.uniform(0.5, 2)
    data = p.op("CONV_2D", [p.tx16, tw, tb], "conv2d", [p.x16, w, b],
                {"stride": (stride, stride), "pads": pads, "dilation": (1, 1),
                 "act": _act(act)}, (1, oh, ow, 5), s_out, "Conv2DOptions", Padding=padding,
                StrideW=stride, StrideH=stride, DilationWFactor=1, DilationHFactor=1,
                FusedActivationFunction=act)
    _check(tflm, data, p.g, rng)


@pytest.mark.parametrize("seed", range(3))
def test_depthwise_16x8_equals_tflm(tfl_env, seed):
    tflbuild, tflm = tfl_env
    rng = np.random.default_rng(seed)
    p = Pair(tflbuild, rng, (1, 6, 6, 4))
    tw, w, sw = p.weights((1, 3, 3, 8), 3)
    tb, b = p.bias(8, sw, 1 << 20)
    s_out = p.x16.q.s * float(sw.mean()) * 250 * rng.uniform(0.5, 2)
    data = p.op("DEPTHWISE_CONV_2D", [p.tx16, tw, tb], "depthwise_conv2d", [p.x16, w, b],
                {"stride": (1, 1), "pads": (1, 1, 1, 1), "dilation": (1, 1)}, (1, 6, 6, 8),
                s_out, "DepthwiseConv2DOptions", Padding=SAME, StrideW=1, StrideH=1,
                DepthMultiplier=2, DilationWFactor=1, DilationHFactor=1)
    _check(tflm, data, p.g, rng)


@pytest.mark.parametrize("seed", range(3))
def test_fully_connected_16x8_equals_tflm(tfl_env, seed):
    tflbuild, tflm = tfl_env
    rng = np.random.default_rng(seed)
    p = Pair(tflbuild, rng, (2, 40))
    tw, w, sw = p.weights((12, 40), 0, per_channel=False)
    tb, b = p.bias(12, sw, 1 << 22)
    s_out = p.x16.q.s * float(sw.mean()) * 1000 * rng.uniform(0.5, 2)
    data = p.op("FULLY_CONNECTED", [p.tx16, tw, tb], "fully_connected", [p.x16, w, b], {},
                (2, 12), s_out, "FullyConnectedOptions", FusedActivationFunction=0)
    _check(tflm, data, p.g, rng)


@pytest.mark.parametrize("seed", range(3))
def test_add_16x8_equals_tflm(tfl_env, seed):
    tflbuild, tflm = tfl_env
    rng = np.random.default_rng(seed)
    p = Pair(tflbuild, rng, (1, 4, 4, 6))
    c = rng.integers(-30000, 30000, (1, 4, 4, 6)).astype(np.int16)
    sc = float(np.float32(rng.uniform(1e-5, 1e-4)))
    tc = p.b.const("c", c, scale=sc, zp=0)
    gc = p.g.const("c", c, q(sc))
    s_out = max(p.x16.q.s, sc) * rng.uniform(1.2, 2.5)
    data = p.op("ADD", [p.tx16, tc], "add", [p.x16, gc], {"act": _act(RELU)}, (1, 4, 4, 6),
                s_out, "AddOptions", FusedActivationFunction=RELU)
    _check(tflm, data, p.g, rng)


@pytest.mark.parametrize("name,op", [("AVERAGE_POOL_2D", "avg_pool2d"),
                                     ("MAX_POOL_2D", "max_pool2d")])
def test_pool_16x8_equals_tflm(tfl_env, name, op):
    tflbuild, tflm = tfl_env
    rng = np.random.default_rng(len(name))
    p = Pair(tflbuild, rng, (1, 7, 7, 3))
    data = p.op(name, [p.tx16], op, [p.x16], {"kernel": (3, 3), "stride": (2, 2),
                                            "pads": (1, 1, 1, 1)}, (1, 4, 4, 3),
                p.x16.q.s, "Pool2DOptions", Padding=SAME, StrideW=2, StrideH=2,
                FilterWidth=3, FilterHeight=3)
    _check(tflm, data, p.g, rng)


@pytest.mark.parametrize("seed", range(4))
def test_quantize_int16_to_int8_equals_tflm(tfl_env, seed):
    """Both conversions (TFLM QUANTIZE int8 -> int16 -> int8) at random scales."""
    tflbuild, tflm = tfl_env
    rng = np.random.default_rng(seed)
    p = Pair(tflbuild, rng, (1, 300))
    s8, zp = float(np.float32(p.x.q.s * rng.uniform(0.3, 3))), int(rng.integers(-100, 100))
    ty = p.b.tensor("y", (1, 300), scale=s8, zp=zp)
    p.b.op("QUANTIZE", [p.tx16], [ty])
    p.g.outputs = [convert(p.g, p.x16, I8, q(s8, zp))]
    it = tflm.Interpreter.from_bytes(p.b.build([p.tx], [ty]))
    x = np.resize(np.arange(-128, 128), (1, 300)).astype(np.int8)
    it.set_input(x, 0)
    it.invoke()
    assert np.array_equal(interpret(p.g, [x])[0], it.get_output(0).reshape(1, 300))
