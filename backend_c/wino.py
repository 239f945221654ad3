"""The "wino" weight format (storage="speed"): int8 3x3 stride-1 convolutions as exact integer
Winograd F(2x2, 3x3) (runtime/tinyc_conv2d_wino_s8.c).

The weights are transformed at compile time, U = (2G) g (2G)^T = 4 G g G^T (exact integers,
|U| <= 9 * 128: int16), 16 values per 3x3 filter instead of 9 (3.6x the int8 bytes); the kernel
transforms the input patches in the offset domain (d = x + input_offset, 0 in the padding),
V = B^T d B, multiplies per position (16 GEMMs over the input channels) and transforms back,
Y = A^T M A = 4 x the direct convolution's int32 sums: the same accumulators, hence the same
bits as the fast kernel and TFLite Micro. It applies where the fast kernel's requantization
applies (fast._conv_spec) and every partial sum is bounded below 2^31 at compile time.
"""
from __future__ import annotations

import numpy as np

from ..ir import Node
from . import fast

T = 3                                    # tiles per block (TINYC_WINO_T)
G2 = np.array([[2, 0, 0], [1, 1, 1], [1, -1, 1], [0, 0, 2]], np.int64)   # 2 G
INT32 = 1 << 31
MIN_CIN = 8                              # wins(): fewer input channels stay on the fast kernel


def _cin4(node: Node) -> int:
    return (node.inputs[1].shape[3] + 3) // 4 * 4


def transform(w: np.ndarray) -> np.ndarray:
    """U[co][p][ci] = ((2G) g (2G)^T)[p // 4][p % 4] of the OHWI int8 filter (exact int64)."""
    w = np.asarray(w, np.int64)
    u = np.einsum("rh,ohwi,cw->orci", G2, w, G2)
    return u.reshape(w.shape[0], 16, w.shape[3])


def pack(w: np.ndarray) -> np.ndarray:
    """U as int16 [out_c / 2][16][cin4 / 2][2 channels][2 lanes]: word k of a channel holds the
    input channels (4 (k // 2) + k % 2, + 2), the lanes SXTAB16 widens a group of four into."""
    u = transform(w)
    co, _, ci = u.shape
    co2, cin4 = (co + 1) // 2 * 2, (ci + 3) // 4 * 4
    pad = np.zeros((co2, 16, cin4), np.int64)
    pad[:co, :, :ci] = u
    k = np.arange(cin4 // 2)
    idx = (4 * (k // 2) + k % 2)[:, None] + 2 * np.arange(2)[None, :]     # [k][lane]
    pairs = pad[:, :, idx]                                     # [co2][16][k][lane]
    pairs = pairs.reshape(co2 // 2, 2, 16, cin4 // 2, 2).transpose(0, 2, 3, 1, 4)
    return pairs.reshape(-1)


def _fits(w: np.ndarray) -> str | None:
    if w.ndim != 4 or tuple(w.shape[1:3]) != (3, 3):
        return "not a 3x3 filter"
    u = transform(w)
    if np.abs(u).max(initial=0) >= (1 << 15):
        return "transformed weights exceed int16"
    return None


def why_not(node: Node) -> str | None:
    """None where the Winograd kernel applies to the layer, else why not."""
    reason = fast.int8_conv_why_not(node, _fits)
    if reason:
        return reason
    a = node.attrs
    if tuple(a["stride"]) != (1, 1) or tuple(a.get("dilation", (1, 1))) != (1, 1):
        return "stride or dilation is not 1"
    pads = tuple(a["pads"])
    x, y = node.inputs[0].shape, node.outputs[0].shape
    if min(pads) < 0 or len(pads) != 4 or y[1] != x[1] + pads[0] + pads[2] - 2 \
            or y[2] != x[2] + pads[1] + pads[3] - 2:
        return "padding"
    spec = fast._conv_spec(node)
    if spec is None:
        return "the fast kernels' requantization does not apply"
    if not -128 <= -int(np.asarray(a["in_offset"]).reshape(-1)[0]) <= 127:
        return "input zero point outside int8"
    x_max = fast._x_max(node)
    if 4 * x_max >= (1 << 15):
        return "input transform exceeds int16"
    u = transform(node.inputs[1].data)
    bound = np.abs(u).sum(axis=(1, 2)).max(initial=0) * 4 * x_max
    if bound >= INT32:
        return f"partial sums up to {int(bound):,} exceed int32"
    return None


def applies(node: Node) -> bool:
    return why_not(node) is None


def scratch(node: Node) -> int:
    """V of a block of T tiles (16 x cin4 x T int16), M of half the positions (8 x 2 x T
    int32) and the 2 x T output tiles' sums (4 int32 each)."""
    return 32 * _cin4(node) * T + 64 * T + 32 * T


def args(node: Node, ctx) -> dict:
    from .kernels import _act, _int_attr, dims4
    w2d, bias, rq = fast._conv_spec(node)
    co = w2d.shape[0]
    b = np.zeros(co, np.int64) if bias is None else bias
    off = ctx.scratch_offset(node)
    return {"input_dims": dims4(node.inputs[0].shape),
            "output_dims": dims4(node.outputs[0].shape),
            "padding": (int(node.attrs["pads"][0]), int(node.attrs["pads"][1])),
            "cin4": _cin4(node), "input_offset": _int_attr(node, "in_offset", -255, 255),
            "act": _act(node), "zeros": ctx.array(
                f"{node.name}_wino_zp", "int8_t",
                np.full(_cin4(node), -int(np.asarray(node.attrs["in_offset"]).reshape(-1)[0])),
                comment=f"{node.name}: the input zero point per channel (padding pixels)"),
            "input": ctx.ptr(node.inputs[0]), "output": ctx.ptr(node.outputs[0]),
            "rq": fast._rq_ptr(node, ctx, rq),
            "filter": fast._words(ctx, f"{node.name}_wino", pack(node.inputs[1].data), "int16_t",
                                  f"{node.name}: Winograd U = 4 G g G^T, int16 [{(co + 1) // 2}]"
                                  f"[16][{_cin4(node) // 2}][2][2]").replace(
                                      "(const int16_t *)", "(const int32_t *)"),
            "bias": ctx.array(f"{node.name}_wino_bias", "int32_t", b),
            "scratch": f"(int16_t *)(void *)(TINYC_ARENA + {int(off)})"}


def wins(node: Node) -> bool:
    """Whether storage="speed" takes the Winograd kernel for the layer: where it applies and
    is estimated faster than the fast im2col kernel (measured in Cortex-M4 est. cycles): at
    least 8 input channels, a multiple of 4 (ic's first conv, 3 input channels, takes 1.59x the
    fast kernel's cycles: the transforms of few channels cost more than the products saved)."""
    cin = node.inputs[1].shape[3]
    return cin >= MIN_CIN and cin % 4 == 0 and applies(node)
