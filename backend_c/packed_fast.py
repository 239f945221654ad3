"""The fast (DSP) path of the packed weight formats s4, cb and mask on conv2d and depthwise
conv2d (runtime/tinyc_packed_fast.c): the kernel decodes the stored weights into arena scratch
in exactly the layout of the dense fast kernel and runs that kernel's loops on them, so a
compressed layer costs the dense cycles plus one decode of each weight per inference.

* conv2d: blocks of output channels (`block`: the whole layer when its decoded filter takes
  at most BLOCK_BYTES or when the plan has room for it under the arena's peak
  (pipeline._free_speedups), else the largest even count that fits), each decoded once and run over
  every pixel before the next (tinyc_conv2d_fast_s8_chans); the im2col of a windowed conv is
  redone per block, which is why the blocks are not smaller;
* depthwise: the whole filter, widened to the dense kernel's int16 lanes, and its two biases.

It applies where the dense fast kernel's preconditions hold on the layer's values
(fast.applies: the values, hence the bits, are the same in every format). The stored arrays
are the format's own (formats.FORMATS pack, dense order), plus the rq table of the fast
requantization; the bias stays as the packed kernels store it (int16 where it fits).
"""
from __future__ import annotations

import numpy as np

from ..ir import Node
from ..ir.ops.conv import CONV2D, DEPTHWISE_CONV2D
from . import fast

FORMATS = ("s4", "cb", "mask")
OPS = (CONV2D, DEPTHWISE_CONV2D)
BLOCK_BYTES = 2048           # decoded conv2d filter bytes per channel block (at least 2 ch)
MIN_WINDOWED = 16            # channels per block at least, windowed convs (im2col per block)
MIN_MACS = 50_000            # smaller layers keep the compact kernels (flash, see applies)
_CODE = {"s4": "TINYC_PK_S4", "cb": "TINYC_PK_CB", "mask": "TINYC_PK_MASK"}


def macs(node: Node) -> int:
    w = node.inputs[1]
    per_out = w.type.size // w.shape[0] if node.op == CONV2D else w.shape[1] * w.shape[2]
    return node.outputs[0].type.size * per_out


def applies(node: Node, fmt: str) -> bool:
    """Whether the layer, stored in `fmt`, takes the fast packed kernel: its preconditions hold
    and the layer has at least MIN_MACS (the fast path links ~4 KiB of code: in a small model
    it would eat the flash the format saves)."""
    return (fmt in FORMATS and node.op in OPS and macs(node) >= MIN_MACS
            and fast.applies(node))


def block(node: Node, room: int | None = None) -> int:
    """Output channels decoded at a time (conv2d): BLOCK_BYTES of decoded filter, but at
    least MIN_WINDOWED channels where a block repeats a windowed im2col (not a 1x1 copy);
    the whole layer where `room` (the arena scratch a plan gives the layer,
    pipeline._free_speedups: where it does not raise the arena) holds it."""
    k4, oc = fast._conv_k4(node)[0], node.inputs[1].shape[0]
    if room is not None and _conv_scratch(node, oc) <= room:
        return oc
    least = 2 if tuple(node.inputs[1].shape[1:3]) == (1, 1) else MIN_WINDOWED
    n = max(least, BLOCK_BYTES // k4 & ~1)
    return oc if n >= oc else n


def _ceil4(n: int) -> int:
    return (n + 3) // 4 * 4


def scratch(node: Node, room: int | None = None) -> int:
    """Arena bytes of the fast packed kernel (runtime/tinyc_packed.h) with block(node, room)."""
    if node.op == DEPTHWISE_CONV2D:
        _, kh, kw, c = node.inputs[1].shape
        return 2 * kh * kw * c + 8 * c + _ceil4(c)
    return _conv_scratch(node, block(node, room))


def whole_scratch(node: Node) -> int:
    """Arena bytes of the fast packed conv2d with the whole filter as one block (the
    speed-up pipeline._free_speedups gives where it fits under the arena's peak)."""
    return _conv_scratch(node, node.inputs[1].shape[0])


def _conv_scratch(node: Node, n: int) -> int:
    k4, oc = fast._conv_k4(node)[0], node.inputs[1].shape[0]
    return 12 * k4 + _ceil4(6 * n) + (n + 1) // 2 * 2 * k4 + k4 + 4 * oc + 4


def args(node: Node, ctx, fmt: str, packed: dict) -> dict:
    """Template variables of call_<op>_packed.c.j2's fast branch; packed: the format's arrays
    (as _variant_args emitted them) and the bias / bias16 pointers."""
    from .kernels import _act, _int_attr, _window
    from .cgen import dims4
    x, w, y = node.inputs[0], node.inputs[1], node.outputs[0]
    spec = fast._conv_spec(node) if node.op == CONV2D else fast._dw_spec(node)
    bits, values, nbits = {"s4": ("filter", "NULL", 0),
                           "cb": ("indices", "codebook", packed.get("bits", 0)),
                           "mask": ("mask", "value", 0)}[fmt]
    bias, bias16 = packed["bias"], packed["bias16"]
    if bias == "NULL" and bias16 == "NULL":
        bias = ctx.array(f"{node.name}_bias0", "int32_t", np.zeros(spec[0].shape[0], np.int64))
    off = ctx.scratch_offset(node)
    out = {"fast": True, "fmt": fmt, "pk_format": _CODE[fmt], "pk_bits": packed[bits],
           "pk_values": packed[values] if values != "NULL" else "NULL", "pk_nbits": nbits,
           "rq": fast._rq_ptr(node, ctx, spec[2]), "bias": bias, "bias16": bias16,
           "scratch": f"(int16_t *)(void *)(TINYC_ARENA + {int(off)})",
           "act": _act(node), "input_offset": _int_attr(node, "in_offset", -255, 255),
           "output_offset": _int_attr(node, "out_offset", -255, 255),
           "input_dims": dims4(x.shape), "input": ctx.ptr(x), "output_dims": dims4(y.shape),
           "output": ctx.ptr(y), "kernel": tuple(w.shape[1:3]), **_window(node)}
    if node.op == CONV2D:
        out["k4"], out["row4"] = fast._conv_k4(node)
        out["block"] = block(node, ctx.choice(node).scratch)
    return out
