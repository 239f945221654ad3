"""conv2d, depthwise_conv2d, fully_connected: C == interpret, bit for bit (CMSIS-NN test_plan
style: one row per shape / stride / padding / dilation / zero point / activation case)."""
from __future__ import annotations

import pytest

from tinyc.ir import Graph

from .harness import check_graph, dense_requant, int8_input, random_int8, set_q

# name: (input NHWC, out_c or ch_mult, kernel, stride, pads t,l,b,r, dilation, zp_in, zp_out,
#        act, bias, spread)   act: None = full range, "relu" = [zp_out, 127], (lo, hi)
CONV_CASES = {
    "3x3_same":        ((1, 8, 8, 3), 4, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 3, -2, None, True, 50),
    "stride2_asym":    ((1, 9, 7, 5), 6, (3, 3), (2, 2), (0, 0, 1, 1), (1, 1), -7, 10, None, True, 50),
    "dilation2":       ((1, 10, 9, 4), 3, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 0, 0, None, True, 50),
    "dilation_hw":     ((1, 11, 12, 2), 5, (2, 3), (2, 1), (1, 3, 2, 0), (3, 2), 20, -20, None, True, 50),
    "pointwise":       ((1, 5, 5, 16), 8, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), -128, 5, None, True, 50),
    "batch2":          ((2, 6, 5, 3), 4, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, 1, None, True, 50),
    "kernel_gt_input": ((1, 3, 2, 2), 3, (5, 5), (1, 1), (2, 2, 2, 2), (1, 1), 127, -128, None, True, 50),
    "row_1x5":         ((1, 4, 12, 3), 2, (1, 5), (1, 2), (0, 2, 0, 2), (1, 1), -1, 0, None, True, 50),
    "col_5x1":         ((1, 12, 4, 3), 2, (5, 1), (3, 1), (2, 0, 2, 0), (1, 1), 9, 3, None, True, 50),
    "relu":            ((1, 6, 6, 4), 4, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), -3, -30, "relu", True, 80),
    "relu6_like":      ((1, 6, 6, 4), 4, (3, 3), (2, 2), (0, 0, 1, 1), (1, 1), 4, -100, (-100, 0), True, 80),
    "one_channel":     ((1, 7, 7, 1), 1, (3, 3), (1, 1), (0, 0, 0, 0), (1, 1), 0, 0, None, True, 50),
    "no_bias":         ((1, 5, 6, 3), 4, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), -9, 2, None, False, 50),
    "deep_k":          ((1, 4, 4, 64), 8, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 12, -5, None, True, 50),
    "gain_gt_1":       ((1, 4, 4, 1), 3, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 0, 0, None, True, 20000),
    "tiny_gain":       ((1, 4, 4, 8), 3, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 0, 0, None, True, 0.01),
    "big_stride":      ((1, 13, 13, 2), 3, (3, 3), (4, 5), (1, 2, 1, 2), (1, 1), 5, 5, None, True, 50),
}

DW_CASES = {
    "3x3_m1":          ((1, 8, 8, 4), 1, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 3, -2, None, True, 40),
    "m2_stride2":      ((1, 9, 8, 3), 2, (3, 3), (2, 2), (0, 0, 1, 1), (1, 1), -128, 7, None, True, 40),
    "m3_dilation":     ((1, 10, 10, 2), 3, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 6, 0, None, True, 40),
    "m8_one_channel":  ((1, 6, 6, 1), 8, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 0, 0, "relu", True, 40),
    "5x5_asym":        ((1, 7, 9, 5), 1, (5, 5), (2, 1), (2, 1, 2, 3), (1, 1), -50, 50, None, True, 40),
    "batch2_no_bias":  ((2, 5, 5, 6), 1, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, 1, None, False, 40),
    "kernel_gt_input": ((1, 2, 3, 4), 2, (5, 3), (1, 1), (2, 1, 2, 1), (1, 1), 127, -128, None, True, 40),
    "dilation_hw":     ((1, 12, 11, 3), 1, (2, 3), (2, 3), (1, 2, 0, 2), (3, 2), 9, -9, (-20, 60), True, 40),
    "gain_gt_1":       ((1, 3, 3, 2), 1, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 0, 0, None, True, 20000),
}

# name: (batch, in, out, zp_in, zp_out, act, bias, spread, per_tensor)
FC_CASES = {
    "basic":      (1, 10, 5, 3, -2, None, True, 50, False),
    "batch3":     (3, 64, 16, -128, 0, None, True, 50, False),
    "scalar":     (1, 1, 1, 0, 0, None, True, 50, False),
    "no_bias":    (2, 33, 7, 10, 10, "relu", False, 50, False),
    "per_tensor": (1, 20, 12, 0, 5, None, True, 50, True),
    "wide":       (1, 300, 10, -1, 100, (0, 127), True, 50, False),
}


def _act(act, zp_out):
    if act is None:
        return -128, 127
    if act == "relu":
        return max(zp_out, -128), 127
    return act


def _conv_graph(op, rng, case, per_tensor=False):
    shape, oc, (kh, kw), stride, pads, dil, zp_in, zp_out, act, bias, spread = case
    g = Graph(op)
    x = int8_input(g, "x", shape, zp_in)
    if op == "conv2d":
        w_shape, k, channels = (oc, kh, kw, shape[3]), kh * kw * shape[3], oc
    else:
        channels = shape[3] * oc
        w_shape, k = (1, kh, kw, channels), kh * kw
    w = g.const("w", random_int8(rng, w_shape))
    b = g.const("b", rng.integers(-4000, 4000, channels).astype("int32")) if bias else None
    m, s = dense_requant(rng, k, 1 if per_tensor else channels, spread)
    lo, hi = _act(act, zp_out)
    y = g.emit(op, [x, w, b], {"stride": stride, "pads": pads, "dilation": dil,
                               "in_offset": -zp_in, "out_offset": zp_out, "multiplier": m,
                               "shift": s, "act_min": lo, "act_max": hi})
    g.outputs = [set_q(y, zp_out)]
    return g


@pytest.mark.parametrize("case", CONV_CASES.values(), ids=CONV_CASES.keys())
def test_conv2d(case, rng, tmp_path, host_cache):
    check_graph(_conv_graph("conv2d", rng, case), tmp_path, host_cache, rng)


@pytest.mark.parametrize("case", DW_CASES.values(), ids=DW_CASES.keys())
def test_depthwise_conv2d(case, rng, tmp_path, host_cache):
    check_graph(_conv_graph("depthwise_conv2d", rng, case), tmp_path, host_cache, rng)


def test_conv2d_per_tensor_multiplier(rng, tmp_path, host_cache):
    g = _conv_graph("conv2d", rng, CONV_CASES["3x3_same"], per_tensor=True)
    check_graph(g, tmp_path, host_cache, rng)


@pytest.mark.parametrize("case", FC_CASES.values(), ids=FC_CASES.keys())
def test_fully_connected(case, rng, tmp_path, host_cache):
    batch, k, o, zp_in, zp_out, act, bias, spread, per_tensor = case
    g = Graph("fc")
    x = int8_input(g, "x", (batch, k), zp_in)
    w = g.const("w", random_int8(rng, (o, k)))
    b = g.const("b", rng.integers(-4000, 4000, o).astype("int32")) if bias else None
    m, s = dense_requant(rng, k, 1 if per_tensor else o, spread)
    if per_tensor:
        m, s = m[0], s[0]
    lo, hi = _act(act, zp_out)
    y = g.emit("fully_connected", [x, w, b], {"in_offset": -zp_in, "out_offset": zp_out,
                                              "multiplier": m, "shift": s,
                                              "act_min": lo, "act_max": hi})
    g.outputs = [set_q(y, zp_out)]
    check_graph(g, tmp_path, host_cache, rng)
