"""The fast kernels (im2col + GEMM conv, depthwise, fully connected, add by tables): their
compile-time preconditions and constants, which layers take them, and C == interpret on the
shapes that exercise their corners (K not a multiple of 4, pixel tails, padding, channel tails,
constant channels, a narrow activation). The DSP path of the same cases runs in test_qemu.py."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.backend_c import fast
from tinyc.ir import Graph, qmath

from .harness import check_graph, dense_requant, int8_input, random_int8, sequential_plan, set_q
from .test_conv import Conv, _conv_graph


def _smmlar(a: int, b: int, c: int) -> int:
    return c + ((a * b + (1 << 31)) >> 32)


def dsp_requant(acc: np.ndarray, rq) -> np.ndarray:
    """What the DSP path computes: SSAT(SMMLAR(2 acc, m, h + sign(acc)) >> e, 8)."""
    m, h, e = (int(v) for v in rq)
    out = [_smmlar(((2 * a + (1 << 31)) & 0xFFFFFFFF) - (1 << 31), m, h + (-1 if a < 0 else 0))
           >> e for a in acc.tolist()]
    return np.clip(np.array(out, np.int64), -128, 127)


def portable_requant(acc: np.ndarray, rq) -> np.ndarray:
    """What the portable path computes: requantize(acc, m, -e) + the offset folded in h."""
    m, h, e = (int(v) for v in rq)
    offset = (h - (1 << (e - 1))) >> e
    return np.clip(qmath.requantize(acc, m, -e) + offset, -128, 127)


@pytest.mark.parametrize("seed", range(8))
def test_rq_table_is_exact(seed):
    """Both paths' requantization == TFLite's, on every accumulator the bound allows: random
    channels (shifts -1..-31, zero multipliers, big biases that make constant channels)."""
    rng = np.random.default_rng(seed)
    c = 48
    mult = rng.integers(1 << 30, 1 << 31, c)
    mult[rng.random(c) < 0.1] = 0
    shift = rng.integers(-31, 0, c)
    s_max = rng.integers(1, 1 << 24, c)
    bias = rng.integers(-(1 << 20), 1 << 20, c)
    big = rng.random(c) < 0.2                   # dead channels of a real model: constant
    bias[big] = rng.choice([-1, 1], big.sum()) * (1 << 30)
    shift[big] = rng.integers(-31, -27, big.sum())
    s_max[big] = rng.integers(1, 1 << 20, big.sum())
    zp = int(rng.integers(-128, 128))
    table = fast.rq_table(mult, shift, bias, s_max, zp)
    assert table is not None
    for ch in range(c):
        acc = bias[ch] + np.concatenate([rng.integers(-s_max[ch], s_max[ch] + 1, 300),
                                         [-s_max[ch], s_max[ch], 0]])
        want = np.clip(qmath.requantize(acc, mult[ch], shift[ch]) + zp, -128, 127)
        assert np.array_equal(dsp_requant(acc, table[ch]), want), ch
        assert np.array_equal(portable_requant(acc, table[ch]), want), ch


def test_rq_table_refuses():
    """A left shift, or an accumulator that may not fit 2^29, is not the fast form."""
    assert fast.rq_table([1 << 30], [1], [0], [100], 0) is None
    assert fast.rq_table([1 << 30], [-3], [0], [1 << 29], 0) is None
    assert fast.rq_table([1 << 30], [-3], [1 << 28], [1 << 28], 0) is None
    assert fast.rq_table([1 << 30], [-3], [0], [1 << 20], 0) is not None


# name: (case, fast?) — conv cases for the im2col + GEMM kernel and its tails
FAST_CONV = {
    "k27_tail": (Conv((1, 9, 11, 3), 5, (3, 3), pads=(1, 1, 1, 1), zp_in=7, zp_out=-3), True),
    "pix_tail_1": (Conv((1, 1, 7, 8), 3, (1, 1), zp_in=-128, zp_out=5), True),
    "pix_exact_6": (Conv((1, 2, 3, 8), 9, (1, 1), zp_in=3, zp_out=0), True),
    "pointwise_c64": (Conv((1, 5, 5, 64), 16, (1, 1), zp_in=128 - 256, zp_out=-128), True),
    "c1_10x4_s2": (Conv((1, 13, 10, 1), 6, (10, 4), (2, 2), (4, 1, 5, 1), zp_in=-83,
                        zp_out=-128), True),
    "dilated_c4": (Conv((1, 9, 9, 4), 5, (3, 3), pads=(2, 2, 2, 2), dil=(2, 2), zp_in=9), True),
    "relu_narrow": (Conv((1, 6, 6, 8), 4, (3, 3), pads=(1, 1, 1, 1), zp_in=-3, zp_out=-30,
                         act="relu", spread=80), True),
    "left_shift": (Conv((1, 4, 4, 4), 3, (1, 1), spread=20000), False),
    # 9 pixels: a last block of 3 (one pass per pair), short rows (k4 16), odd channel count
    "tail3_k16": (Conv((1, 3, 3, 16), 5, (1, 1), zp_in=-20, zp_out=7), True),
    "tail3_k64": (Conv((1, 3, 3, 64), 7, (1, 1), zp_in=11, zp_out=-9), True),
}
FAST_DW = {
    "3x3_c8_interior": (Conv((1, 7, 6, 8), 1, (3, 3), pads=(1, 1, 1, 1), zp_in=-128,
                             zp_out=-128), True),
    "3x3_s2_c16": (Conv((1, 9, 8, 16), 1, (3, 3), (2, 2), (0, 0, 1, 1), zp_in=5, zp_out=3), True),
    "5x5_c4": (Conv((1, 7, 9, 4), 1, (5, 5), (2, 1), (2, 1, 2, 3), zp_in=-50, zp_out=50), True),
    "kernel_gt_input": (Conv((1, 2, 3, 4), 1, (5, 3), pads=(2, 1, 2, 1), zp_in=127,
                             zp_out=-128), True),
    "relu_narrow": (Conv((1, 5, 5, 8), 1, (3, 3), pads=(1, 1, 1, 1), act=(-20, 60)), True),
    "c6_generic": (Conv((1, 5, 5, 6), 1, (3, 3), pads=(1, 1, 1, 1)), False),
    # the 3x3 path: rows of 4k + 1 (the 5-wide last pass), 4k + 2 / 4k + 3 (partial 4-pass),
    # fewer than 4 pixels, stride 2 with a single last pixel, batches (the ring restarts)
    "3x3_w5_kws": (Conv((1, 9, 5, 8), 1, (3, 3), pads=(1, 1, 1, 1), zp_in=-128, zp_out=-20),
                   True),
    "3x3_w7": (Conv((2, 6, 7, 12), 1, (3, 3), pads=(2, 1, 0, 1), zp_in=17, zp_out=3), True),
    "3x3_w3": (Conv((1, 4, 3, 8), 1, (3, 3), pads=(1, 1, 1, 1), zp_in=-1, zp_out=0), True),
    "3x3_w1": (Conv((2, 5, 3, 4), 1, (3, 3), zp_in=127, zp_out=-128), True),
    "3x3_s2_w9": (Conv((2, 9, 18, 4), 1, (3, 3), (2, 2), (1, 1, 1, 1), zp_in=-7, zp_out=9), True),
    "3x3_s2_w6_valid": (Conv((1, 7, 14, 16), 1, (3, 3), (2, 2), (0, 0, 0, 0), zp_in=90,
                             zp_out=-90), True),
    "m2_generic": (Conv((1, 5, 5, 4), 2, (3, 3), pads=(1, 1, 1, 1)), False),
}


def _kernel_of(g: Graph, tmp_path) -> str:
    from tinyc.backend_c import emit_c
    emit_c(g, sequential_plan(g), tmp_path / "probe")
    text = (tmp_path / "probe" / "model.c").read_text()
    if "add_sum_s8(" in text:
        return "sum"
    return "fast" if ("_fast_s8(" in text or "add_lut_s8(" in text) else "generic"


@pytest.mark.parametrize("name", FAST_CONV)
def test_fast_conv2d(name, rng, tmp_path, host_cache):
    case, want_fast = FAST_CONV[name]
    g = _conv_graph("conv2d", rng, case)
    assert _kernel_of(g, tmp_path) == ("fast" if want_fast else "generic")
    check_graph(g, tmp_path / "c", host_cache, rng)


@pytest.mark.parametrize("name", FAST_DW)
def test_fast_depthwise(name, rng, tmp_path, host_cache):
    case, want_fast = FAST_DW[name]
    g = _conv_graph("depthwise_conv2d", rng, case)
    assert _kernel_of(g, tmp_path) == ("fast" if want_fast else "generic")
    check_graph(g, tmp_path / "c", host_cache, rng)


@pytest.mark.parametrize("name", [n for n, (_, fast_) in FAST_DW.items() if fast_])
def test_depthwise_3x3_path(name, rng, tmp_path):
    """3x3, stride 1 or 2, dilation 1 takes the 3x3 path (filter3 weights, a planned ring of
    widened rows: 3 * C * pw int16); other windows keep the per-tap filter."""
    from tinyc.backend_c.emit import emit_c
    from tinyc.backend_c.select import select_kernels
    case, _ = FAST_DW[name]
    g = _conv_graph("depthwise_conv2d", rng, case)
    emit_c(g, sequential_plan(g), tmp_path / "m")
    text = (tmp_path / "m" / "model.c").read_text()
    node = g.nodes[0]
    want = case.kernel == (3, 3) and max(case.stride) <= 2 and case.dil == (1, 1)
    assert ("_filter3" in text) == want
    assert ("_bias_full" in text) == (not want)
    ow = node.outputs[0].shape[2]
    pw = case.stride[1] * 4 * (ow // 4) + 4 if ow % 4 == 1 and ow > 4 else \
        case.stride[1] * 4 * ((ow + 3) // 4) + 2
    assert select_kernels(g)[node.name].scratch == (6 * case.shape[3] * pw if want else 0)


def constant_channels_graph(rng) -> Graph:
    """A 1x1 conv whose biases are so large that some channels' outputs are constant (as in
    the MLPerf vww model): the fast kernel stores those channels as constants."""
    g = Graph("big_bias")
    x = int8_input(g, "x", (1, 3, 4, 16), 3)
    w = g.const("w", random_int8(rng, (8, 1, 1, 16)))
    b = rng.integers(-4000, 4000, 8).astype("int64")
    b[::3] = (1 << 30) * np.array([1, -1, 1])[: len(b[::3])]
    bias = g.const("b", b.astype("int32"))
    m, s = dense_requant(rng, 16, 8, 50)
    s = tuple(min(v, -1) if i % 3 else -26 for i, v in enumerate(s))
    y = g.emit("conv2d", [x, w, bias], {"stride": (1, 1), "pads": (0, 0, 0, 0),
                                        "dilation": (1, 1), "in_offset": -3, "out_offset": -5,
                                        "multiplier": m, "shift": s, "act_min": -128,
                                        "act_max": 127})
    g.outputs = [set_q(y, -5)]
    return g


def test_constant_channels(rng, tmp_path, host_cache):
    g = constant_channels_graph(rng)
    assert _kernel_of(g, tmp_path) == "fast"
    check_graph(g, tmp_path / "c", host_cache, rng)


def fc_graph(rng, batch: int, k: int, o: int, zp_in: int = 5, zp_out: int = -7,
             act=(-128, 127)) -> Graph:
    g = Graph("fc")
    x = int8_input(g, "x", (batch, k), zp_in)
    w = g.const("w", random_int8(rng, (o, k)))
    b = g.const("b", rng.integers(-4000, 4000, o).astype("int32"))
    m, s = dense_requant(rng, k, o, 50)
    y = g.emit("fully_connected", [x, w, b], {"in_offset": -zp_in, "out_offset": zp_out,
                                              "multiplier": m, "shift": s,
                                              "act_min": act[0], "act_max": act[1]})
    g.outputs = [set_q(y, zp_out)]
    return g


@pytest.mark.parametrize("shape", [(1, 640, 128), (1, 7, 3), (3, 33, 10), (2, 64, 5),
                                   (1, 17, 4)], ids=str)
def test_fast_fully_connected(shape, rng, tmp_path, host_cache):
    g = fc_graph(rng, *shape, act=(-128, 127) if shape[2] % 2 else (-5, 127))
    assert _kernel_of(g, tmp_path) == "fast"
    check_graph(g, tmp_path / "c", host_cache, rng)


# (in1, in2, out) (scale, zero point) of an add whose two-table sum form misses TFLite's
# arithmetic on some input pair (found by a scan): it keeps the rescale-table kernel.
NO_SUM_Q = ((0.1, 74), (0.5, -106), (0.2, 26))


def add_graph(rng, shape_a=(1, 4, 5, 16), shape_b=(1, 4, 5, 16),
              q=((0.05, 3), (0.04, -4), (0.07, -128)), act=None) -> Graph:
    from .test_eltwise import add_attrs
    g = Graph("add")
    a = int8_input(g, "a", shape_a, q[0][1], q[0][0])
    b = int8_input(g, "b", shape_b, q[1][1], q[1][0])
    y = g.emit("add", [a, b], add_attrs(*q, act))
    g.outputs = [set_q(y, q[2][1], q[2][0])]
    return g


@pytest.mark.parametrize("shapes", [((1, 4, 5, 16), (1, 4, 5, 16)),
                                    ((1, 3, 3, 8), (1, 1, 1, 8))], ids=["same", "broadcast"])
def test_add_lut(shapes, rng, tmp_path, host_cache):
    g = add_graph(rng, *shapes, q=NO_SUM_Q)
    assert _kernel_of(g, tmp_path) == "fast"
    check_graph(g, tmp_path / "c", host_cache, rng)


# the two-table sum kernel: contiguous runs of 4 with 0-3 left over, one element, broadcast
# forms (per-channel vector, scalar, rows) on its strided path, a fused ReLU clamp
@pytest.mark.parametrize("shapes,act", [
    (((1, 4, 5, 16), (1, 4, 5, 16)), None),
    (((1, 3, 5, 7), (1, 3, 5, 7)), None),
    (((2, 1, 1, 6), (2, 1, 1, 6)), "relu"),
    (((1, 1, 1, 1), (1, 1, 1, 1)), None),
    (((1, 1, 1, 3), (1, 1, 1, 3)), None),
    (((1, 3, 3, 8), (1, 1, 1, 8)), None),
    (((1, 1, 1, 1), (1, 3, 2, 5)), "relu"),
    (((1, 2, 3, 5), (1, 2, 1, 5)), None)],
    ids=["same", "tail3", "relu_tail2", "one", "three", "broadcast_c", "scalar", "rows"])
def test_add_sum(shapes, act, rng, tmp_path, host_cache):
    g = add_graph(rng, *shapes, act=act)
    assert _kernel_of(g, tmp_path) == "sum"
    check_graph(g, tmp_path / "c", host_cache, rng)


def test_add_sum_tables_checked():
    """The sum tables are kept only when every input pair gives the IR add's output: for the
    default quantization they do (and the bits follow), for NO_SUM_Q some pair does not."""
    from tinyc.backend_c.fast import SUM_K, add_sum_tables
    from tinyc.ir.ops.eltwise import add_int
    rng = np.random.default_rng(0)
    for q, kept in (((0.05, 3), (0.04, -4), (0.07, -128)), True), (NO_SUM_Q, False):
        node = add_graph(rng, (1, 1, 1, 256), (1, 1, 1, 256), q=q).nodes[0]
        sums = add_sum_tables(node)
        assert (sums is not None) == kept
        if kept:
            x = np.arange(-128, 128, dtype=np.int64)
            a, b = np.meshgrid(x, x, indexing="ij")
            want = add_int(node, a.astype(np.int8), b.astype(np.int8))
            got = np.clip((sums[0][a + 128] + sums[1][b + 128]) >> SUM_K, -128, 127)
            assert np.array_equal(got, want)


def test_scratch_is_planned():
    """select_kernels records the fast conv kernel and its scratch; plan_memory reserves it
    in the arena (board-independent sizes)."""
    from tinyc.backend_c.select import scratch_sizes, select_kernels
    from tinyc.passes.plan_memory import plan_memory
    rng = np.random.default_rng(0)
    g = _conv_graph("conv2d", rng, FAST_CONV["k27_tail"][0])
    node = g.nodes[0]
    choice = select_kernels(g)[node.name]
    assert choice.fast and choice.kernel == "conv2d" and choice.weight_format == "dense"
    assert choice.scratch == 12 * 3 * 12 + 32                # rows of 3 x 3 channels -> 12
    plan = plan_memory(g, scratch=scratch_sizes(select_kernels(g)))
    assert node.name in plan.scratch
    assert plan.arena_bytes >= choice.scratch + node.outputs[0].type.nbytes


@pytest.mark.parametrize("op", ["conv2d", "depthwise_conv2d"])
@pytest.mark.parametrize("seed", range(8))
def test_random_fast_layers(op, seed, tmp_path, host_cache):
    """Random layers the fast kernels take (windows partly or wholly in the padding, strides,
    dilations, batches), portable path on the host; test_qemu.py runs the DSP path."""
    from .test_qemu import _random_fast_case
    rng = np.random.default_rng(7000 + seed + 100 * (op == "conv2d"))
    g = _conv_graph(op, rng, _random_fast_case(rng, op == "depthwise_conv2d"))
    assert _kernel_of(g, tmp_path) == "fast"
    check_graph(g, tmp_path / "c", host_cache, rng)
