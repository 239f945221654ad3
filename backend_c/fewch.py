"""The compile-time half of runtime/tinyc_conv2d_fewch_s8.c: int8 conv2d with 1-3 input
channels (a network's first layer), where the GEMM kernel's im2col per pixel and its filter
rows padded to four taps cost more than the MACs.

The kernel widens the input columns of up to `chunk` output pixels of an output row once into
the scratch as [column][kh][in_c] int16, so each window is one contiguous run of
k = kw * kh * in_c taps; the filter is reordered to that tap order and widened to int16 here,
[out_c / 4][k4 / 4][4 channels][4 taps] (zero taps up to k4 = k rounded up to 4),
doubled, and the bias doubled: the sums are the 2 acc of the requantization.  The input is
widened as it is (the padding: its zero point) and the bias takes the input offset times the
filter's sum per channel (exact in int32: |offset| <= 255, the same bound).

It runs where the GEMM fast kernel would (fast.applies: the same requantization table and
accumulator bound) with dense weights, in_c <= 3, out_c % 4 == 0, dilation 1, kw * in_c not a
multiple of 4 unless an unrolled pass runs it (else the GEMM kernel's filter rows have no zero
taps and it is as fast: kws's 10x4 first conv measured 697,514 GEMM vs 715,814 here with the
loop passes, 480,187 with its unrolled pass, est. M4 cycles), and it takes no
more arena than that kernel's scratch (fast.conv2d_scratch, which the plan reserves): the chunk
is the most pixels whose columns fit in it. select.py names it in the choice's `why`.
"""
from __future__ import annotations

import numpy as np

from ..ir import Node
from ..ir.ops.conv import CONV2D
from . import fast

# On (tests/backend/test_fewch.py turns it off to check the GEMM fallback). Est. M4 cycles of
# the MLPerf first convs (tinyc bench --no-ptq --no-cores), GEMM -> this kernel: vww 1,880,860
# -> 1,541,436, ic 1,389,079 -> 1,167,858 (kws: rows of 4 taps, the GEMM kernel keeps it).
ENABLED = True
MAX_IN_CHANNELS = 3
MIN_CHUNK = 2           # two pixels per pass: a chunk of one would waste half of each pass


def _k(node: Node) -> tuple[int, int]:
    """(k, k4): taps per window, and rounded up to 4."""
    _, kh, kw, cin = node.inputs[1].shape
    k = kh * kw * cin
    return k, (k + 3) // 4 * 4


# The unrolled passes of the DSP path by (k4, step): step = the int16 between two pixels'
# windows in the scratch (stride w * kh * in_c) -> (macro, pixels per pass). A model's copy of
# the kernel defines the macro of each pass its layers run (CallContext.define) and compiles
# only those (tinyc_fewch_mode in runtime/tinyc_conv2d_fewch_dsp.h).
PASSES = {(28, 9): ("TINYC_FEWCH_K28_S9", 3),       # 3x3x3, stride 1 (ic): 3 pixels x 2 ch
          (28, 18): ("TINYC_FEWCH_K28_S18", 3),     # 3x3x3, stride 2 (vww)
          (40, 20): ("TINYC_FEWCH_K40_S20", 5)}     # 10x4x1, stride 2 (kws): 5 pixels x 1


def pass_macro(node: Node, room: int | None = None) -> str | None:
    """The macro of the unrolled pass that runs this layer, given the scratch (default:
    fast.conv2d_scratch); None where its chunks are shorter than a pass or there is none."""
    _, kh, _, cin = node.inputs[1].shape
    macro, pixels = PASSES.get((_k(node)[1], node.attrs["stride"][1] * kh * cin), (None, 0))
    room = fast.conv2d_scratch(node) if room is None else room
    return macro if macro is not None and chunk(node, room) >= pixels else None


def scratch_bytes(node: Node, chunk: int) -> int:
    """The widened columns of `chunk` pixels plus the zero taps after the last window."""
    _, kh, kw, cin = node.inputs[1].shape
    k, k4 = _k(node)
    cols = (chunk - 1) * node.attrs["stride"][1] + kw
    return (2 * (cols * kh * cin + k4 - k) + 3) // 4 * 4


def chunk(node: Node, room: int) -> int:
    """The most output pixels (<= the output width) whose columns fit in `room` bytes."""
    ow = node.outputs[0].shape[2]
    n = 0
    while n < ow and scratch_bytes(node, n + 1) <= room:
        n += 1
    return n


def applies(node: Node, room: int | None = None) -> bool:
    """Whether the few-channel kernel runs this conv2d, given the scratch the plan reserves for
    the fast kernel (default: fast.conv2d_scratch)."""
    if not ENABLED or node.op != CONV2D or node.inputs[0].dtype.name != "INT8":
        return False
    x, w = node.inputs[0], node.inputs[1]
    if len(w.shape) != 4 or w.shape[3] != x.shape[3] or not 1 <= x.shape[3] <= MAX_IN_CHANNELS:
        return False
    if w.shape[0] % 4 or tuple(node.attrs["dilation"]) != (1, 1) or not fast.applies(node):
        return False
    room = fast.conv2d_scratch(node) if room is None else room
    if (w.shape[2] * w.shape[3]) % 4 == 0 and pass_macro(node, room) is None:
        return False        # the GEMM kernel's rows need no zero taps: as fast, unless unrolled
    return chunk(node, room) >= min(MIN_CHUNK, node.outputs[0].shape[2])


def conv2d(node: Node, ctx) -> dict | None:
    """The template variables of the few-channel kernel, None where it does not run."""
    c = ctx.choice(node)
    if not c.fast or c.kernel != node.op or c.weight_format not in ("", "dense") \
            or not applies(node, c.scratch):
        return None
    w2d, bias, rq = fast._conv_spec(node)
    out, kh, kw, cin = node.inputs[1].shape
    k, k4 = _k(node)
    taps = w2d.reshape(out, kh, kw, cin).transpose(0, 2, 1, 3).reshape(out, k)
    padded = np.zeros((out, k4), np.int64)
    padded[:, :k] = taps
    order = padded.reshape(out // 4, 4, k4 // 4, 4).transpose(0, 2, 1, 3).reshape(-1)
    # Filter and bias doubled: the sums come out as the 2 acc that the requantization
    # (tinyc_rq_x2) takes, with no shift per output (|2 w| <= 256 fits int16).
    filt = fast._words(ctx, f"{node.name}_filter16", 2 * order, "int16_t",
                       f"{node.name}: 2 * filter int16 [{out // 4}][{k4 // 4}][4 channels]"
                       f"[4 taps], taps [kw {kw}][kh {kh}][in_c {cin}] + {k4 - k} zero")
    # The kernel widens the input without its offset (padding: the zero point), so the bias
    # takes the offset times each channel's filter sum: the same sums, no add per value.
    off = int(np.asarray(node.attrs["in_offset"]).reshape(-1)[0])
    b2 = 2 * ((np.zeros(out, np.int64) if bias is None else np.asarray(bias, np.int64))
              + off * taps.astype(np.int64).sum(axis=1))
    b = ctx.array(f"{node.name}_bias2", "int32_t", b2,
                  comment=f"{node.name}: 2 * (bias + input offset * filter sum)")
    macro = pass_macro(node, c.scratch)
    if macro is not None:
        ctx.define("tinyc_conv2d_fewch_s8.c", macro)
    return {"fast": True, "fewch": True, "k4": k4, "chunk": chunk(node, c.scratch),
            "rq": fast._rq_ptr(node, ctx, rq), "filter": filt, "bias": b,
            "scratch": fast._scratch_ptr(node, ctx), "kernel": (kh, kw)}
