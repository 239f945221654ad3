"""conv2d, depthwise_conv2d, fully_connected: C == interpret, bit for bit (CMSIS-NN test_plan
style: one row per shape / stride / padding / dilation / zero point / activation case)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from tinyc.ir import Graph

from .harness import check_graph, dense_requant, int8_input, random_int8, set_q


@dataclass(frozen=True)
class Conv:
    """One conv / depthwise case; ch = out channels (conv2d) or channel multiplier (depthwise).
    act: None = full range, "relu" = [zp_out, 127], or (lo, hi). spread: output std target."""
    shape: tuple
    ch: int
    kernel: tuple
    stride: tuple = (1, 1)
    pads: tuple = (0, 0, 0, 0)
    dil: tuple = (1, 1)
    zp_in: int = 0
    zp_out: int = 0
    act: object = None
    bias: bool = True
    spread: float = 50.0


SAME = (1, 1, 1, 1)
CONV_CASES = {
    "3x3_same": Conv((1, 8, 8, 3), 4, (3, 3), pads=SAME, zp_in=3, zp_out=-2),
    "stride2_asym": Conv((1, 9, 7, 5), 6, (3, 3), (2, 2), (0, 0, 1, 1), zp_in=-7, zp_out=10),
    "dilation2": Conv((1, 10, 9, 4), 3, (3, 3), pads=(2, 2, 2, 2), dil=(2, 2)),
    "dilation_hw": Conv((1, 11, 12, 2), 5, (2, 3), (2, 1), (1, 3, 2, 0), (3, 2), 20, -20),
    "pointwise": Conv((1, 5, 5, 16), 8, (1, 1), zp_in=-128, zp_out=5),
    "batch2": Conv((2, 6, 5, 3), 4, (3, 3), pads=SAME, zp_in=1, zp_out=1),
    "kernel_gt_input": Conv((1, 3, 2, 2), 3, (5, 5), pads=(2, 2, 2, 2), zp_in=127, zp_out=-128),
    "row_1x5": Conv((1, 4, 12, 3), 2, (1, 5), (1, 2), (0, 2, 0, 2), zp_in=-1),
    "col_5x1": Conv((1, 12, 4, 3), 2, (5, 1), (3, 1), (2, 0, 2, 0), zp_in=9, zp_out=3),
    "relu": Conv((1, 6, 6, 4), 4, (3, 3), pads=SAME, zp_in=-3, zp_out=-30, act="relu", spread=80),
    "relu6_like": Conv((1, 6, 6, 4), 4, (3, 3), (2, 2), (0, 0, 1, 1), zp_in=4, zp_out=-100,
                       act=(-100, 0), spread=80),
    "one_channel": Conv((1, 7, 7, 1), 1, (3, 3)),
    "no_bias": Conv((1, 5, 6, 3), 4, (3, 3), pads=SAME, zp_in=-9, zp_out=2, bias=False),
    "deep_k": Conv((1, 4, 4, 64), 8, (3, 3), pads=SAME, zp_in=12, zp_out=-5),
    "gain_gt_1": Conv((1, 4, 4, 1), 3, (1, 1), spread=20000),
    "tiny_gain": Conv((1, 4, 4, 8), 3, (3, 3), pads=SAME, spread=0.01),
    "big_stride": Conv((1, 13, 13, 2), 3, (3, 3), (4, 5), (1, 2, 1, 2), zp_in=5, zp_out=5),
}

DW_CASES = {
    "3x3_m1": Conv((1, 8, 8, 4), 1, (3, 3), pads=SAME, zp_in=3, zp_out=-2, spread=40),
    "m2_stride2": Conv((1, 9, 8, 3), 2, (3, 3), (2, 2), (0, 0, 1, 1), zp_in=-128, zp_out=7),
    "m3_dilation": Conv((1, 10, 10, 2), 3, (3, 3), pads=(2, 2, 2, 2), dil=(2, 2), zp_in=6),
    "m8_one_channel": Conv((1, 6, 6, 1), 8, (3, 3), pads=SAME, act="relu"),
    "5x5_asym": Conv((1, 7, 9, 5), 1, (5, 5), (2, 1), (2, 1, 2, 3), zp_in=-50, zp_out=50),
    "batch2_no_bias": Conv((2, 5, 5, 6), 1, (3, 3), pads=SAME, zp_in=1, zp_out=1, bias=False),
    "kernel_gt_input": Conv((1, 2, 3, 4), 2, (5, 3), pads=(2, 1, 2, 1), zp_in=127, zp_out=-128),
    "dilation_hw": Conv((1, 12, 11, 3), 1, (2, 3), (2, 3), (1, 2, 0, 2), (3, 2), 9, -9,
                        act=(-20, 60)),
    "gain_gt_1": Conv((1, 3, 3, 2), 1, (1, 1), spread=20000),
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


def _conv_graph(op, rng, case: Conv, per_tensor=False):
    c = case
    g = Graph(op)
    x = int8_input(g, "x", c.shape, c.zp_in)
    if op == "conv2d":
        channels, w_shape, k = c.ch, (c.ch, *c.kernel, c.shape[3]), np.prod(c.kernel) * c.shape[3]
    else:
        channels = c.shape[3] * c.ch
        w_shape, k = (1, *c.kernel, channels), np.prod(c.kernel)
    w = g.const("w", random_int8(rng, w_shape))
    b = g.const("b", rng.integers(-4000, 4000, channels).astype("int32")) if c.bias else None
    m, s = dense_requant(rng, int(k), 1 if per_tensor else channels, c.spread)
    lo, hi = _act(c.act, c.zp_out)
    y = g.emit(op, [x, w, b], {"stride": c.stride, "pads": c.pads, "dilation": c.dil,
                               "in_offset": -c.zp_in, "out_offset": c.zp_out, "multiplier": m,
                               "shift": s, "act_min": lo, "act_max": hi})
    g.outputs = [set_q(y, c.zp_out)]
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


def _random_case(rng, depthwise: bool) -> Conv:
    kh, kw = (int(k) for k in rng.integers(1, 6, 2))
    dil = tuple(int(d) for d in rng.integers(1, 4, 2))
    pads = tuple(int(p) for p in rng.integers(0, 4, 4))
    h = int(rng.integers(max(1, dil[0] * (kh - 1) + 1 - pads[0] - pads[2]), 14))
    w = int(rng.integers(max(1, dil[1] * (kw - 1) + 1 - pads[1] - pads[3]), 14))
    zp_in, zp_out = (int(z) for z in rng.integers(-128, 128, 2))
    return Conv((int(rng.integers(1, 3)), h, w, int(rng.integers(1, 9))),
                int(rng.integers(1, 4 if depthwise else 9)), (kh, kw),
                tuple(int(s) for s in rng.integers(1, 4, 2)), pads, dil, zp_in, zp_out,
                bias=bool(rng.integers(2)))


@pytest.mark.parametrize("op", ["conv2d", "depthwise_conv2d"])
@pytest.mark.parametrize("seed", range(6))
def test_random_sweep(op, seed, tmp_path, host_cache):
    """Random shapes, kernels, strides, paddings, dilations, zero points (seeded)."""
    rng = np.random.default_rng(1000 + seed + (op == "conv2d") * 100)
    g = _conv_graph(op, rng, _random_case(rng, op == "depthwise_conv2d"))
    check_graph(g, tmp_path, host_cache, rng)
