"""The compile-time half of the 16x8 fast kernels (runtime/tinyc_conv2d_fast_s16.c,
tinyc_depthwise_conv2d_fast_s16.c): int16 activations, int8 weights, the bits of the generic
16x8 kernels (TFLite Micro's reference: int64 bias + sum, the 64-bit requantization).

They take the sum in int32 (SMLAD / SMLABB on the DSP path): exact when every channel has
sum |w| * 2^15 < 2^31 (|x| <= 2^15), checked here; the int64 bias is added afterwards, as the
generic kernels do. Layouts made here once: conv2d filter rows padded to row4 / k4 as the int8
fast kernel's (fast._conv_k4), each group of four k stored {w0, w2, w1, w3} (SXTB16 then gives
the int16 pairs {w0, w1}, {w2, w3} of the input's memory order); depthwise weights widened to
int16 [tap][channel]. Layers that fail a check keep the generic 16x8 kernel.
"""
from __future__ import annotations

import numpy as np

from ..ir import Node
from ..ir.ops.conv import CONV2D, DEPTHWISE_CONV2D
from . import fast

SUM_LIMIT = 1 << 31
OPS = (CONV2D, DEPTHWISE_CONV2D)
RQ16_BYTES = 20              # a channel's tinyc_rq16 row (runtime/tinyc_fast_s16.h)


def _w2d(node: Node) -> np.ndarray | None:
    w, b = node.inputs[1], node.input(2)
    if not w.is_const or (b is not None and not b.is_const):
        return None
    data = np.asarray(w.data).astype(np.int64)
    if node.op == CONV2D:
        return data.reshape(data.shape[0], -1)
    x = node.inputs[0]
    if data.shape[3] != x.shape[3] or x.shape[3] % 4:
        return None
    return data.reshape(-1, data.shape[3]).T


def applies(node: Node) -> bool:
    """Whether the 16x8 fast kernel can run this (int16-activation) layer."""
    if node.op not in OPS:
        return False
    w2d = _w2d(node)
    return w2d is not None and int(np.abs(w2d).sum(axis=1).max(initial=0)) * (1 << 15) < SUM_LIMIT


def acc32(node: Node) -> bool:
    """Whether bias + sum fits int32 in every channel (the kernel's cheaper requantization)."""
    w2d, b = _w2d(node), node.input(2)
    bias = 0 if b is None else np.abs(np.asarray(b.data, np.int64).reshape(-1))
    return bool(np.all(bias + np.abs(w2d).sum(axis=1) * (1 << 15) < SUM_LIMIT))


def scratch(node: Node) -> int:
    """Arena bytes: four im2col columns of k4 int16 (conv2d) or the tap list (depthwise),
    and a tinyc_rq16 row per channel."""
    if node.op == CONV2D:
        return 8 * fast._conv_k4(node)[0] + RQ16_BYTES * node.inputs[1].shape[0]
    _, kh, kw, c = node.inputs[1].shape
    return 8 * kh * kw + RQ16_BYTES * c


def _conv_filter(node: Node) -> np.ndarray:
    w = np.asarray(node.inputs[1].data).astype(np.int64)
    oc, kh, kw, cin = w.shape
    k4, row4 = fast._conv_k4(node)
    rows = np.zeros((oc, kh, row4), np.int64)
    rows[:, :, :kw * cin] = w.reshape(oc, kh, kw * cin)
    return rows.reshape(oc, k4 // 4, 4)[:, :, [0, 2, 1, 3]].reshape(-1)


def args(node: Node, ctx, base: dict) -> dict:
    """The fast branch's template variables on top of the generic 16x8 ones (base)."""
    off = ctx.scratch_offset(node)
    out = {**base, "fast": True, "kernel": tuple(node.inputs[1].shape[1:3]),
           "acc32": int(acc32(node))}
    if node.op == CONV2D:
        k4, row4 = fast._conv_k4(node)
        out.update(k4=k4, row4=row4, scratch=f"(int16_t *)(void *)(TINYC_ARENA + {int(off)})",
                   filter=fast._words(ctx, f"{node.name}_filter16x8", _conv_filter(node),
                                      "int8_t", f"{node.name}: filter [out][k4], groups of "
                                      "four k as {w0, w2, w1, w3} (16x8 fast)"))
    else:
        out.update(scratch=f"(int32_t *)(void *)(TINYC_ARENA + {int(off)})",
                   filter=fast._words(ctx, f"{node.name}_filter16", _w2d(node).T.reshape(-1),
                                      "int16_t", f"{node.name}: filter int16 [tap][channel] "
                                      "(16x8 fast)"))
    return out
