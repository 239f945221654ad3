"""Multi-op integer graphs for the emit / compile tests (every kernel at least once)."""
from __future__ import annotations

import numpy as np

from tinyc.ir import Graph
from tinyc.ir.qmath import calculate_input_radius, preprocess_softmax_scaling

from .harness import dense_requant, int8_input, random_int8, set_q
from .test_eltwise import add_attrs, mul_attrs

FULL = {"act_min": -128, "act_max": 127}


def _conv(g, op, x, w_shape, rng, k, stride=(1, 1), pads=(1, 1, 1, 1), zp_out=0):
    w = g.const(f"{op}_w", random_int8(rng, w_shape))
    ch = w_shape[0] if op != "depthwise_conv2d" else w_shape[3]
    b = g.const(f"{op}_b", rng.integers(-1000, 1000, ch).astype(np.int32))
    m, s = dense_requant(rng, k, ch)
    attrs = {"stride": stride, "pads": pads, "dilation": (1, 1), "in_offset": -x.q.zp,
             "out_offset": zp_out, "multiplier": m, "shift": s, **FULL}
    return set_q(g.emit(op, [x, w, b], attrs), zp_out)


def mini_net(rng, name: str = "mini_net") -> Graph:
    """Two inputs, two outputs; conv, depthwise, pools, pad, add, mul, lut, concat,
    transpose, reshape, fully_connected, softmax."""
    g = Graph(name)
    x = int8_input(g, "image", (1, 8, 8, 3), -3)
    s = int8_input(g, "side", (1, 4, 4, 1), 2)
    p = set_q(g.emit("pad", [x], {"pads": (0, 1, 1, 0, 0, 0, 0, 0), "pad_value": -3}), -3)
    c = _conv(g, "conv2d", p, (8, 3, 3, 3), rng, 27, stride=(2, 2), pads=(0, 0, 1, 1))
    d = _conv(g, "depthwise_conv2d", c, (1, 3, 3, 8), rng, 9)
    a = set_q(g.emit("add", [c, d], add_attrs((0.05, 0), (0.05, 0), (0.08, 1), None)), 1, 0.08)
    m = set_q(g.emit("mul", [a, s], mul_attrs((0.08, 1), (0.05, 2), (0.1, -1), None)), -1, 0.1)
    t = set_q(g.emit("lut", [m], {"table": tuple(max(-128, v) for v in range(-128, 128))}), 0)
    mp = set_q(g.emit("max_pool2d", [t], {"kernel": (2, 2), "stride": (2, 2),
                                          "pads": (0, 0, 0, 0), **FULL}), 0)
    ap = set_q(g.emit("avg_pool2d", [a], {"kernel": (2, 2), "stride": (2, 2),
                                          "pads": (0, 0, 0, 0), **FULL}), 1, 0.08)
    cat = set_q(g.emit("concat", [mp, ap], {"axis": 3}), 0)
    tr = set_q(g.emit("transpose", [cat], {"perm": (0, 3, 1, 2)}), 0)
    flat = set_q(g.emit("reshape", [tr], {"shape": (1, 64)}), 0)
    w = g.const("fc_w", random_int8(rng, (10, 64)))
    fm, fs = dense_requant(rng, 64, 10)
    fc = set_q(g.emit("fully_connected", [flat, w, None],
                      {"in_offset": 0, "out_offset": 4, "multiplier": fm, "shift": fs, **FULL}), 4)
    mult, left = preprocess_softmax_scaling(1.0, 0.05)
    sm = g.emit("softmax", [fc], {"input_multiplier": mult, "input_left_shift": left,
                                  "diff_min": -calculate_input_radius(5, left)})
    g.outputs = [set_q(sm, -128, 1 / 256), cat]
    return g
