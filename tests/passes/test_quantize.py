"""quantize: integer graph approximates the float graph; kernel constants follow TFLite."""
import copy

import numpy as np
import pytest

from tinyc.errors import QuantizationError
from tinyc.ir import QParams, interpret, verify
from tinyc.ir.qmath import quantize_multiplier, requantize
from tinyc.passes.fuse_activation import fuse_activation
from tinyc.passes.quant_rules import add_rule
from tinyc.passes.quantize import quantize
from tinyc.ir.qmath import requant_table

from .graphs import CONV, new_graph, rand


def _net():
    rng = np.random.default_rng(0)
    g, x = new_graph((1, 8, 8, 3))
    y = g.emit("conv2d", [x, g.const("w", rand(rng, 8, 3, 3, 3)), g.const("b", rand(rng, 8))],
               CONV)
    y = g.emit("relu", [y])
    d = g.emit("depthwise_conv2d", [y, g.const("dw", rand(rng, 1, 3, 3, 8)),
                                    g.const("db", rand(rng, 8))], {**CONV, "stride": (2, 2)})
    p = g.emit("max_pool2d", [d], {"kernel": (2, 2), "stride": (2, 2), "pads": (0, 0, 0, 0)})
    a = g.emit("avg_pool2d", [p], {"kernel": (2, 2), "stride": (1, 1), "pads": (0, 0, 0, 0)})
    f = g.emit("reshape", [a], {"shape": (1, 8)})
    f = g.emit("fully_connected", [f, g.const("fw", rand(rng, 10, 8)), g.const("fb", rand(rng, 10))])
    h = g.emit("hard_swish", [f])
    s = g.emit("add", [h, f])
    g.outputs = [g.emit("softmax", [s])]
    return fuse_activation(verify(g))


def _feeds(n, seed=1):
    rng = np.random.default_rng(seed)
    return [{"x": rng.standard_normal((1, 8, 8, 3)).astype(np.float32)} for _ in range(n)]


def test_int8_graph_tracks_float_graph():
    g = _net()
    fg = copy.deepcopy(g)
    q = quantize(g, _feeds(32))
    qi, qo = q.inputs[0].q, q.outputs[0].q
    errs = []
    for feed in _feeds(16, seed=7):
        xq = np.clip(np.round(feed["x"] / qi.s) + qi.zp, -128, 127).astype(np.int8)
        yq = interpret(q, [xq])[0]
        yf = interpret(fg, feed)[0]
        errs.append(np.abs((yq.astype(np.float64) - qo.zp) * qo.s - yf).max())
    assert max(errs) < 8 * qo.s, errs          # a few output LSBs
    assert all(v.dtype.name == "INT8" for v in q.activations())


def test_float_model_without_calibration_is_an_error():
    with pytest.raises(QuantizationError, match="--calib"):
        quantize(_net(), None)


def test_nan_in_calibration_is_an_error():
    feeds = _feeds(2)
    feeds[1]["x"][0, 0, 0, 0] = np.nan
    with pytest.raises(QuantizationError, match="not finite"):
        quantize(_net(), feeds)


def test_softmax_output_has_tflite_fixed_quantization():
    q = quantize(_net(), _feeds(4))
    assert q.outputs[0].q == QParams((1 / 256,), (-128,))


def test_pools_and_reshape_keep_input_quantization():
    q = quantize(_net(), _feeds(4))
    for n in q.nodes:
        if n.op in ("max_pool2d", "avg_pool2d", "reshape"):
            assert n.outputs[0].q == n.inputs[0].q


def test_requant_table_is_tflite_requantize():
    qi, qo = QParams((0.05,), (3,)), QParams((0.02,), (-10,))
    t = requant_table(qi, qo)
    m, s = quantize_multiplier(float(np.float32(0.05)) / float(np.float32(0.02)))  # TFLite: f32 scales
    for x in (-128, -1, 0, 5, 127):
        assert t[x + 128] == int(np.clip(requantize(x - 3, m, s) - 10, -128, 127))
    # independent check: real-valued requantization within one LSB
    xs = np.arange(-128, 128)
    ref = np.clip(np.round((xs - 3) * 0.05 / 0.02) - 10, -128, 127)
    assert np.abs(np.array(t) - ref).max() <= 1


def test_add_rule_matches_tflite_prepare():
    g, x = new_graph((1, 4))
    y = g.emit("add", [x, x])
    g.outputs = [y]
    x.type = x.type.with_(q=QParams((0.5,), (0,)))
    y.type = y.type.with_(q=QParams((0.25,), (1,)))
    r = add_rule(g.nodes[0])
    # twice_max = 1.0: inputs at 0.5 each → multiplier 0.5 = 2^30 * 2^-30, shift 0
    assert (r["in1_mult"], r["in1_shift"]) == (1 << 30, 0)
    # output: 1.0 / (2^20 * 0.25) = 2^-18 → Q31 0.5, shift -17
    assert (r["out_mult"], r["out_shift"]) == (1 << 30, -17)
    assert r["left_shift"] == 20 and r["out_offset"] == 1 and r["in1_offset"] == 0
