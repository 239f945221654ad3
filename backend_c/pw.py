"""The "pw" weight format (storage="speed"): int8 1x1 convolutions (no padding, any stride) with
the weights stored pre-widened to int16 in the order the kernel's passes read them
(runtime/tinyc_conv2d_pw_s8.c; the stream's layout in runtime/tinyc_conv2d_pw.h).

Per output channel pair one record of int32 words: the two doubled biases, then per k-pair the
two channels' doubled weights as int16 pairs (input channels 4 (j // 2) + j % 2 and + 2: the
lanes SXTAB16 widens a group of four input values into), then the two channels' tinyc_rq
constants {m, h, e}.  The sums are 2 acc (|2 acc| < 2^30: fast._conv_spec's bound), which
tinyc_rq_x2 requantizes as the fast kernels do: the same bits as the fast kernel and TFLite
Micro.  Twice the dense weight bytes, plus 32 bytes per channel pair; no im2col (the pixels'
channels are widened once per block of three pixels and read by every pass).
"""
from __future__ import annotations

import numpy as np

from ..ir import Node
from . import fast

PIX = 3                 # pixels per block (TINYC_PW_PIX)
MIN_CIN = 8             # wins(): measured faster from 8 input channels (vww 8 -> 16 at 48x48)


def _fits(w: np.ndarray) -> str | None:
    if w.ndim != 4 or tuple(w.shape[1:3]) != (1, 1):
        return "not a 1x1 filter"
    if w.shape[3] % 4:
        return "input channels not a multiple of 4"
    return None


def pairs16(w: np.ndarray) -> np.ndarray:
    """The doubled weights as int16 [out_c / 2][in_c / 2][2 channels][2 lanes] (an odd last
    channel's partner zero)."""
    w2d = np.asarray(w, np.int64).reshape(w.shape[0], -1)
    co, ci = w2d.shape
    pad = np.zeros(((co + 1) // 2 * 2, ci), np.int64)
    pad[:co] = 2 * w2d
    j = np.arange(ci // 2)
    idx = (4 * (j // 2) + j % 2)[:, None] + 2 * np.arange(2)[None, :]      # [j][lane]
    return pad[:, idx].reshape(-1, 2, ci // 2, 2).transpose(0, 2, 1, 3)


def pack(w: np.ndarray) -> np.ndarray:
    """The weights' part of the stream (formats.py sizes the format by it)."""
    return pairs16(w).reshape(-1)


def stream(node: Node) -> np.ndarray:
    """The kernel's int32 words: per channel pair {2 ba, 2 bb}, the weight words, {m, h, e}
    of a and of b (constant channels: zero weights and bias; rq gives their value)."""
    w2d, bias, rq = fast._conv_spec(node)
    co = w2d.shape[0]
    w = np.asarray(node.inputs[1].data, np.int64)
    const = rq[:, 0] == 0
    w = np.where(const[:, None, None, None], 0, w)
    b = np.zeros((co + 1) // 2 * 2, np.int64)
    b[:co] = np.where(const, 0, 0 if bias is None else bias)
    rows = np.tile(np.array([[0, 1, 1]], np.int64), ((co + 1) // 2 * 2, 1))
    rows[:co] = rq
    p16 = pairs16(w)                                            # [pairs][k2][2][2]
    words = np.frombuffer(p16.astype("<i2").tobytes(), "<i4").astype(np.int64)
    words = words.reshape(p16.shape[0], -1)
    rec = np.concatenate([2 * b.reshape(-1, 2), words, rows.reshape(-1, 6)], axis=1)
    return rec.reshape(-1)


def why_not(node: Node) -> str | None:
    """None where the pw kernel applies to the layer, else why not."""
    reason = fast.int8_conv_why_not(node, _fits)
    if reason:
        return reason
    a = node.attrs
    if tuple(a.get("dilation", (1, 1))) != (1, 1):
        return "dilation is not 1"
    x, y = node.inputs[0].shape, node.outputs[0].shape
    sh, sw = (int(s) for s in a["stride"])
    if any(int(p) != 0 for p in a["pads"]) or y[0] != x[0] \
            or y[1] != (x[1] - 1) // sh + 1 or y[2] != (x[2] - 1) // sw + 1:
        return "padding"
    if fast._conv_spec(node) is None:
        return "the fast kernels' requantization does not apply"
    return None


def applies(node: Node) -> bool:
    return why_not(node) is None


def scratch(node: Node) -> int:
    """Three pixels' channels widened (6 in_c bytes) and three pixels' outputs (the tail of a
    partial block, or of every block when out_c is odd: out_c rounded up to even)."""
    ci, co = node.inputs[1].shape[3], node.outputs[0].shape[3]
    return 2 * PIX * ci + (PIX * (co + co % 2) + 3) // 4 * 4


def args(node: Node, ctx) -> dict:
    from .kernels import _act, _int_attr
    x, y = node.inputs[0].shape, node.outputs[0].shape
    co, ci = y[3], x[3]
    sym = ctx.array(f"{node.name}_pw", "int32_t", stream(node),
                    comment=f"{node.name}: per channel pair {{2 bias}} x 2, doubled weights "
                    f"int16 [{ci // 2}][2][2], {{m, h, e}} x 2 ({(co + 1) // 2} pairs)")
    return {"npix": int(np.prod(y[:3])), "in_c": ci, "out_c": co, "in_hw": tuple(x[1:3]),
            "out_hw": tuple(y[1:3]), "stride": tuple(int(s) for s in node.attrs["stride"]),
            "input_offset": _int_attr(node, "in_offset", -255, 255), "act": _act(node),
            "stream": sym, "input": ctx.ptr(node.inputs[0]), "output": ctx.ptr(node.outputs[0]),
            "scratch": f"(int16_t *)(void *)(TINYC_ARENA + {int(ctx.scratch_offset(node))})"}


def wins(node: Node) -> bool:
    """Whether storage="speed" takes the pw kernel for the layer: where it applies and is
    estimated faster than the fast kernels (Cortex-M4 est. cycles, vww's 1x1 convs with 8..256
    input channels: 0.39..0.91 MACs/cycle against 0.28..0.79): at least MIN_CIN input channels
    (4 is not measured)."""
    return node.inputs[1].shape[3] >= MIN_CIN and applies(node)
