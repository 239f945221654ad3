"""Each 16x8 op (int16 activations, int8 weights, int64 bias) and the int8 <-> int16
conversions: the generated C on the host == interpret(), bit for bit, on every activation
(int16 ones read from the arena), over random shapes, scales, biases and inputs; plus the
64-bit requantization against an independent big-integer transcription of TFLite's."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tinyc.ir import Graph, TensorType
from tinyc.ir.qmath import requantize_s64

from .util import (I8, I16, ArenaRun, assert_bit_exact, bias64, convert, emit16, finish,
                   int8_in, q, weights)

SAMPLES = 4


def _feeds(g: Graph, rng) -> list[list[np.ndarray]]:
    feeds = [[rng.integers(-128, 128, v.shape).astype(np.int8) for v in g.inputs]
             for _ in range(SAMPLES)]
    return feeds + [[np.full(v.shape, val, np.int8) for v in g.inputs] for val in (-128, 127)]


def _out_scale(x16, w, k: int, spread: float) -> float:
    """An output scale that puts ~spread * std of the sums at full int16 scale."""
    std = math.sqrt(k) * 32767 * 0.5 * 73 * x16.q.s * float(np.mean(w.q.scale))
    return spread * std / 32767


def conv_graph(rng, op: str, hw, cin: int, cout: int, k, stride, pads, dilation, act,
               big_bias: bool, spread: float | None = None) -> Graph:
    g = Graph(op)
    _, x16 = int8_in(g, "x", (1, *hw, cin), rng)
    if op == "conv2d":
        w, kk = weights(g, rng, (cout, *k, cin), 0), k[0] * k[1] * cin
    else:
        w, kk = weights(g, rng, (1, *k, cout), 3), k[0] * k[1]
    b = bias64(g, rng, cout, 1 << 36 if big_bias else 1 << 18)
    s_out = _out_scale(x16, w, kk, float(rng.uniform(1.0, 4.0)) if spread is None else spread)
    y = emit16(g, op, [x16, w, b], {"stride": stride, "pads": pads, "dilation": dilation,
                                    "act": act}, s_out)
    return finish(g, y, rng)


CONV_CASES = [  # hw, cin, cout, kernel, stride, pads, dilation, act, big bias
    ((6, 7), 3, 5, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), (-np.inf, np.inf), False),
    ((9, 8), 4, 8, (3, 2), (2, 1), (1, 0, 1, 1), (1, 1), (0.0, np.inf), False),
    ((7, 7), 2, 3, (2, 2), (1, 2), (0, 0, 0, 0), (2, 2), (0.0, 6.0), True),
    ((4, 4), 16, 4, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), (-np.inf, np.inf), False),
]


@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_conv2d_s16(case, tmp_path, host_cache):
    rng = np.random.default_rng(100 + case)
    g = conv_graph(rng, "conv2d", *CONV_CASES[case])
    run = ArenaRun(g, tmp_path / "c", host_cache)
    for feed in _feeds(g, rng):
        assert_bit_exact(run, feed)


DW_CASES = [  # hw, cin, ch_mult, kernel, stride, pads, dilation, act, big bias
    ((6, 6), 4, 1, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), (-np.inf, np.inf), False),
    ((7, 5), 3, 2, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), (0.0, np.inf), True),
    ((8, 8), 5, 1, (2, 3), (1, 1), (0, 1, 0, 1), (2, 1), (-np.inf, np.inf), False),
]


@pytest.mark.parametrize("case", range(len(DW_CASES)))
def test_depthwise_conv2d_s16(case, tmp_path, host_cache):
    rng = np.random.default_rng(200 + case)
    hw, cin, mult, *rest = DW_CASES[case]
    g = conv_graph(rng, "depthwise_conv2d", hw, cin, cin * mult, *rest)
    run = ArenaRun(g, tmp_path / "c", host_cache)
    for feed in _feeds(g, rng):
        assert_bit_exact(run, feed)


@pytest.mark.parametrize("batch,k,n,bias", [(1, 16, 10, True), (3, 37, 5, False),
                                            (2, 200, 12, True)])
def test_fully_connected_s16(batch, k, n, bias, tmp_path, host_cache):
    rng = np.random.default_rng(k)
    g = Graph("fc")
    _, x16 = int8_in(g, "x", (batch, k), rng)
    w = weights(g, rng, (n, k), 0)
    b = bias64(g, rng, n, 1 << 20) if bias else None
    y = emit16(g, "fully_connected", [x16, w, b], {}, _out_scale(x16, w, k, 2.0))
    g = finish(g, y, rng)
    run = ArenaRun(g, tmp_path / "c", host_cache)
    for feed in _feeds(g, rng):
        assert_bit_exact(run, feed)


@pytest.mark.parametrize("shape_b,act", [((1, 4, 5, 6), (-np.inf, np.inf)),
                                         ((1, 1, 1, 6), (0.0, np.inf)),
                                         ((1, 4, 1, 6), (-1.0, 1.0))])
def test_add_s16(shape_b, act, tmp_path, host_cache):
    rng = np.random.default_rng(len(shape_b) + shape_b[2])
    g = Graph("add")
    _, a16 = int8_in(g, "a", (1, 4, 5, 6), rng)
    _, b16 = int8_in(g, "b", shape_b, rng, s16=float(rng.uniform(1e-5, 2e-4)))
    s_out = max(a16.q.s, b16.q.s) * rng.uniform(1.2, 2.0)
    g = finish(g, emit16(g, "add", [a16, b16], {"act": act}, s_out), rng)
    assert g.nodes[2].attrs["left_shift"] == 15
    run = ArenaRun(g, tmp_path / "c", host_cache)
    for feed in _feeds(g, rng):
        assert_bit_exact(run, feed)


@pytest.mark.parametrize("op", ["avg_pool2d", "max_pool2d"])
@pytest.mark.parametrize("kernel,stride,pads", [((2, 2), (2, 2), (0, 0, 0, 0)),
                                                ((3, 3), (2, 1), (1, 1, 1, 1))])
def test_pool_s16(op, kernel, stride, pads, tmp_path, host_cache):
    rng = np.random.default_rng(kernel[0] * 10 + stride[1])
    g = Graph(op)
    _, x16 = int8_in(g, "x", (2, 7, 6, 5), rng)
    y = emit16(g, op, [x16], {"kernel": kernel, "stride": stride, "pads": pads,
                              "act": (0.0, np.inf)}, x16.q.s)
    g = finish(g, y, rng)
    run = ArenaRun(g, tmp_path / "c", host_cache)
    for feed in _feeds(g, rng):
        assert_bit_exact(run, feed)


@pytest.mark.parametrize("zp", [0, 17])
def test_conversions_exact_and_saturating(zp, tmp_path, host_cache):
    """int8 -> int16 at a scale 1/256 of the int8 one is (x - zp) * 256, saturated to int16;
    back to int8 it is the identity where nothing saturated."""
    g = Graph("rt")
    x = g.add_input("x", TensorType(I8, (1, 256), q(0.05, zp)))
    x16 = convert(g, x, I16, q(0.05 / 256))
    g.outputs = [convert(g, x16, I8, x.q)]
    run = ArenaRun(g, tmp_path / "c", host_cache)
    feed = [np.arange(-128, 128, dtype=np.int8).reshape(1, 256)]
    got = assert_bit_exact(run, feed)
    wide = np.clip((feed[0].astype(np.int64) - zp) * 256, -32768, 32767)
    assert np.array_equal(got[x16.name], wide)
    ok = (feed[0].astype(np.int64) - zp) >= -128          # not saturated
    assert np.array_equal(got[g.outputs[0].name][ok], feed[0][ok])
    assert ok.sum() == 256 - zp


# -- the 64-bit requantization, independently -------------------------------------------------

def _tflite_mbqm64(x: int, m: int, shift: int) -> int:
    """TFLite MultiplyByQuantizedMultiplier(int64_t, int32_t, int), transcribed with Python
    integers (common.cc): reduced multiplier, round, arithmetic shift, int32 narrowing."""
    reduced = (m + (1 << 15)) >> 16 if m < 0x7FFF0000 else 0x7FFF
    total = 15 - shift
    r = (x * reduced + (1 << (total - 1))) >> total
    return (r + (1 << 31)) % (1 << 32) - (1 << 31)


def test_requantize_s64_matches_tflite_formula():
    rng = np.random.default_rng(3)
    xs = np.concatenate([rng.integers(-(1 << 47), 1 << 47, 3000),
                         rng.integers(-(1 << 24), 1 << 24, 3000), [0, 1, -1, (1 << 47) - 1]])
    ms = np.concatenate([rng.integers(0, 1 << 31, xs.size - 4), [0x7FFF0000, 0x7FFEFFFF,
                                                                 (1 << 31) - 1, 1 << 30]])
    shifts = rng.integers(-31, 8, xs.size)
    got = requantize_s64(xs, ms, shifts)
    want = [_tflite_mbqm64(int(x), int(m), int(s)) for x, m, s in zip(xs, ms, shifts)]
    assert np.array_equal(got, np.array(want, np.int64))
