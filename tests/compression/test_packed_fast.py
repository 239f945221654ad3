"""The fast path of the packed formats s4, cb and mask (backend_c/packed_fast.py,
runtime/tinyc_*_packed_fast.c): the weights decoded into the dense fast layout in arena
scratch, the dense fast loops on them. The C gives interpret()'s bits on the host (portable
path) and in QEMU on the Cortex-M4 (DSP path) and M3 (portable), over the corners of the
decoder and of the channel blocks: several blocks with an odd last one (the mask cursor runs
across blocks), rows padded to 4 k (in_c 3: odd nibble starts), codebooks of 3 to 40 entries
(2..6-bit indices), strides, padding, dilation, batches, no bias, a narrower activation; every
case asserts that the fast packed kernel is the one selected."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.backend_c import packed_fast
from tinyc.backend_c.formats import choose_formats
from tinyc.backend_c.select import select_kernels
from tinyc.ir import Graph

from ..backend.test_conv import Conv, _conv_graph
from .test_formats import _plan
from .test_packed_dsp import _build, _check, _run

SAME = (1, 1, 1, 1)


@pytest.fixture(autouse=True)
def _small_layers_too(monkeypatch):
    """These layers are small (packed_fast.MIN_MACS keeps small layers on the compact
    kernels for flash): take the fast path at any size here."""
    monkeypatch.setattr(packed_fast, "MIN_MACS", 0)

CONV = {
    "pw_2_blocks_odd": Conv((1, 5, 7, 64), 67, (1, 1), zp_in=-128, zp_out=5, spread=30),
    "3x3_c3_rows_padded": Conv((1, 9, 8, 3), 9, (3, 3), pads=SAME, zp_in=3, zp_out=-2),
    "3x3_c16_blocks": Conv((1, 6, 7, 16), 33, (3, 3), (2, 1), (1, 0, 1, 2), zp_in=-7,
                           zp_out=10, spread=30),
    "dilated_batch2_no_bias": Conv((2, 9, 9, 8), 6, (3, 3), pads=(2, 2, 2, 2), dil=(2, 2),
                                   zp_in=20, bias=False),
    "relu_5x5": Conv((1, 8, 6, 4), 5, (5, 5), pads=(2, 2, 2, 2), zp_in=-3, zp_out=-30,
                     act="relu", spread=80),
}
DW = {
    "3x3_c8": Conv((1, 8, 8, 8), 1, (3, 3), pads=SAME, zp_in=3, zp_out=-2, spread=40),
    "3x3_c12_stride2": Conv((1, 9, 8, 12), 1, (3, 3), (2, 2), (0, 0, 1, 1), zp_in=-128,
                            zp_out=7, spread=40),
    "5x5_dilated": Conv((1, 10, 10, 4), 1, (5, 5), pads=(4, 4, 4, 4), dil=(2, 2), zp_in=6,
                        spread=40),
    "batch2_no_bias_relu": Conv((2, 5, 6, 16), 1, (3, 3), pads=SAME, zp_in=1, zp_out=-20,
                                act="relu", bias=False, spread=40),
}
FORMATS = {"s4": None, "cb3": 3, "cb16": 16, "cb40": 40, "mask": None}


def _weights(rng, shape, fmt: str) -> np.ndarray:
    k = FORMATS[fmt]
    if fmt == "s4":
        return rng.integers(-8, 8, shape).astype(np.int8)
    if k is not None:
        book = rng.choice(np.arange(-128, 128), k, replace=False)
        return book[rng.integers(0, k, shape)].astype(np.int8)
    w = rng.integers(-128, 128, shape)
    return np.where(rng.random(shape) < 0.5, w, 0).astype(np.int8)


def _graph(op: str, case: Conv, fmt: str, rng) -> Graph:
    g = _conv_graph(op, rng, case)
    node = g.nodes[-1]
    w = node.inputs[1]
    node.replace_input(1, g.const(w.name, _weights(rng, w.shape, fmt), w.q))
    storage = fmt[:2] if fmt.startswith("cb") else fmt
    assert [r["format"] for r in choose_formats(g, storage)] == [storage]
    choice = select_kernels(g, storage)[node.name]
    assert choice.fast and choice.kernel == f"{op}.{storage}", choice
    assert choice.scratch == packed_fast.scratch(node)
    g.storage = storage
    return g


CASES = [pytest.param("conv2d", c, f, id=f"conv-{n}-{f}") for n, c in CONV.items()
         for f in FORMATS] + \
        [pytest.param("depthwise_conv2d", c, f, id=f"dw-{n}-{f}") for n, c in DW.items()
         for f in FORMATS if f != "mask"]


@pytest.mark.parametrize("op, case, fmt", CASES)
def test_host(op, case, fmt, rng, tmp_path, host_cache):
    from ..backend.harness import check_graph
    g = _graph(op, case, fmt, rng)
    check_graph(g, tmp_path, host_cache, rng, plan=_plan(g, g.storage))


def test_blocks():
    """The channel blocks: the whole layer up to BLOCK_BYTES, else an even count (at least
    MIN_WINDOWED for a windowed conv)."""
    rng = np.random.default_rng(1)
    pw = _graph("conv2d", CONV["pw_2_blocks_odd"], "s4", rng).nodes[-1]
    assert packed_fast.block(pw) == packed_fast.BLOCK_BYTES // 64
    c3 = _graph("conv2d", CONV["3x3_c3_rows_padded"], "s4", rng).nodes[-1]
    assert packed_fast.block(c3) == 9                      # k4 = 36: the whole layer
    b = packed_fast.block(_graph("conv2d", CONV["3x3_c16_blocks"], "s4", rng).nodes[-1])
    assert b == max(packed_fast.MIN_WINDOWED, packed_fast.BLOCK_BYTES // 144 & ~1) < 33
    assert b % 2 == 0 and 33 % b % 2 == 1              # an odd last block


@pytest.mark.parametrize("machine", ["netduinoplus2", "lm3s6965evb"])
@pytest.mark.parametrize("fmt", ["s4", "cb16", "mask"])
def test_qemu(fmt, machine, tmp_path):
    """Every case of the format in one firmware: DSP path (M4) and portable (M3)."""
    from ..backend.test_qemu import _need_toolchain
    from ..backend.harness import int8_input, set_q
    _need_toolchain()
    rng = np.random.default_rng(9100 + list(FORMATS).index(fmt))
    g = Graph(f"fast_{fmt}")
    outs = []
    layers = [("conv2d", n, c) for n, c in CONV.items()]
    layers += [("depthwise_conv2d", n, c) for n, c in DW.items()] if fmt != "mask" else []
    for op, name, case in layers:
        one = _graph(op, case, fmt, rng)
        node = one.nodes[-1]
        x = int8_input(g, f"{name}_x", node.inputs[0].shape, case.zp_in)
        consts = [g.const(f"{name}_{v.name}", v.data, v.q) if v is not None else None
                  for v in node.inputs[1:]]
        y = g.emit(op, [x, *consts], dict(node.attrs))
        outs.append(set_q(y, case.zp_out))
    g.outputs = outs
    g.storage = fmt[:2] if fmt.startswith("cb") else fmt
    sel = select_kernels(g, g.storage)
    assert all(c.fast for c in sel.values()), sel
    feed = [rng.integers(-128, 128, v.shape).astype(np.int8) for v in g.inputs]
    _check(g, feed, _run(_build(g, feed, tmp_path, machine), machine))


def test_whole_block_where_the_plan_gives_room():
    """With room for the whole filter (pipeline._free_speedups gives it where the arena's
    peak does not rise) a packed conv2d decodes every channel as one block; with less, the
    BLOCK_BYTES blocks; select_kernels follows the planned room."""
    rng = np.random.default_rng(2)
    g = _graph("conv2d", CONV["3x3_c16_blocks"], "s4", rng)
    node = g.nodes[-1]
    oc, lean, whole = node.inputs[1].shape[0], packed_fast.block(node), \
        packed_fast.whole_scratch(node)
    assert lean < oc and whole > packed_fast.scratch(node)
    assert packed_fast.block(node, whole) == oc and packed_fast.scratch(node, whole) == whole
    assert packed_fast.block(node, whole - 1) == lean
    for room, blocks in ((whole, oc), (whole - 1, lean)):
        choice = select_kernels(g, "s4", planned={node.name: room})[node.name]
        assert choice.fast and packed_fast.block(node, choice.scratch) == blocks


def test_free_speedups_widen_only_under_the_peak():
    """pipeline._free_speedups: a packed conv2d whose whole block fits under the arena's peak
    takes it, the one at the peak keeps BLOCK_BYTES blocks, and the arena does not grow."""
    from tinyc.backend_c.select import scratch_sizes
    from tinyc.ir import Graph
    from tinyc.passes.plan_memory import plan_memory
    from tinyc.passes.schedule import schedule
    from tinyc.pipeline import _free_speedups

    from ..backend.harness import dense_requant, int8_input, set_q
    rng = np.random.default_rng(3)
    g = Graph("packed_pair")
    x = int8_input(g, "x", (1, 5, 7, 64), -128)
    for i, (cin, cout) in enumerate(((64, 67), (67, 512))):    # the second is the peak
        w = g.const(f"w{i}", _weights(rng, (cout, 1, 1, cin), "s4"))
        b = g.const(f"b{i}", rng.integers(-4000, 4000, cout).astype("int32"))
        m, sh = dense_requant(rng, cin, cout)
        x = g.emit("conv2d", [x, w, b], {"stride": (1, 1), "pads": (0, 0, 0, 0),
                                         "dilation": (1, 1), "in_offset": 128 if i == 0 else -3,
                                         "out_offset": 3, "multiplier": m, "shift": sh,
                                         "act_min": -128, "act_max": 127})
        set_q(x, 3)
    g.outputs = [x]
    a, b = g.nodes
    lean = select_kernels(g, "s4")
    assert all(lean[n.name].fast and lean[n.name].weight_format == "s4" for n in (a, b))
    assert packed_fast.block(a) < 67 and packed_fast.block(b) < 512
    kept = _free_speedups(g, "s4", lean)
    assert kept[a.name].scratch == packed_fast.whole_scratch(a) > lean[a.name].scratch
    assert packed_fast.block(a, kept[a.name].scratch) == 67
    assert kept[b.name].scratch == lean[b.name].scratch            # whole would raise the peak
    arena = [plan_memory(schedule(g), scratch=scratch_sizes(k)).arena_bytes
             for k in (lean, kept)]
    assert arena[0] == arena[1]
