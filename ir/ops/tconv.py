"""transpose_conv2d (NHWC input, OHWI filter): TFLite TRANSPOSE_CONV, ONNX ConvTranspose.

Every input pixel (n, iy, ix) scatters x[n, iy, ix, :] · w[o, fy, fx, :] onto the canvas
position (iy * sh + fy, ix * sw + fx); the output is the canvas window starting at
(pad_top, pad_left) of size out_size (positions outside the canvas receive nothing).

Integer form (TFLite Micro reference_integer_ops::TransposeConv, int8 per channel):
  acc[o] = Σ (x + in_offset) * w  (int32 scratch, scattered) ;  acc += bias[o]
  y = clamp(MultiplyByQuantizedMultiplier(acc, mult[o], shift[o]) + out_offset, act)
The sum is exact, so gathering per output (the C kernel) gives the same bits.
16x8 (int16 activations, offsets 0, int64 bias): the same sum in int64, requantized by the
64-bit MultiplyByQuantizedMultiplier, as TFLM's 16x8 TransposeConv (conv._finish_int).
"""
from __future__ import annotations

import numpy as np

from .conv import INT_ATTRS, _finish_int
from .registry import Layer, clamp_float, op, require
from ..types import TensorType

TRANSPOSE_CONV2D = "transpose_conv2d"


def _acc(node, x, w, dtype):
    """Σ x·w scattered and cropped: [N, OH, OW, O] in dtype."""
    a = node.attrs
    (sh, sw), (pt, pl), (oh, ow) = a["stride"], a["padding"], a["out_size"]
    n, h, wd, _ = x.shape
    o, kh, kw, _ = w.shape
    ch, cw = (h - 1) * sh + kh, (wd - 1) * sw + kw
    canvas = np.zeros((n, max(ch, pt + oh), max(cw, pl + ow), o), dtype)
    xd, wdt = x.astype(dtype), w.astype(dtype)
    for fy in range(kh):
        for fx in range(kw):
            part = np.einsum("nhwc,oc->nhwo", xd, wdt[:, fy, fx, :])
            canvas[:, fy:fy + (h - 1) * sh + 1:sh, fx:fx + (wd - 1) * sw + 1:sw] += part
    return canvas[:, pt:pt + oh, pl:pl + ow]


def tconv_windows(node, x: np.ndarray) -> np.ndarray:
    """The input windows [N, OH, OW, KH, KW, C] of each output pixel: tap (fy, fx) reads
    x[(oy + pad_top - fy) / sh, ...] where that is a whole index inside the input, else 0 —
    Σ windows · w[o] is the output (the layer as a matrix, for compensation)."""
    a, (kh, kw) = node.attrs, node.inputs[1].shape[1:3]

    def source(out: int, k: int, stride: int, pad: int, size: int) -> np.ndarray:
        t = np.arange(out)[:, None] + pad - np.arange(k)[None, :]
        ok = (t >= 0) & (t % stride == 0) & (t // stride < size)
        return np.where(ok, t // stride, size)              # index `size`: the zero row
    iy = source(a["out_size"][0], kh, a["stride"][0], a["padding"][0], x.shape[1])
    ix = source(a["out_size"][1], kw, a["stride"][1], a["padding"][1], x.shape[2])
    xp = np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)))
    return xp[:, iy[:, None, :, None], ix[None, :, None, :], :]


def _bias(node, b, dtype):
    o = node.inputs[1].shape[0]
    return np.zeros(o, dtype) if b is None else b.astype(dtype)


def _run_float(node, x, w, b=None):
    acc = _acc(node, x, w, np.float64) + _bias(node, b, np.float64)
    return clamp_float(acc, node.attrs)


def _run_int(node, x, w, b=None):
    xi = x.astype(np.int64) + node.attrs["in_offset"]
    return _finish_int(_acc(node, xi, w, np.int64) + _bias(node, b, np.int64), node)


def _macs(node) -> int:
    return int(np.prod(node.inputs[0].shape)) * int(np.prod(node.inputs[1].shape[:3]))


@op(TRANSPOSE_CONV2D, run_float=_run_float, run_int=_run_int, macs=_macs,
    layer=Layer(weight_axis=0, window=True, prunable=False, windows=tconv_windows),
    int_attrs=INT_ATTRS, clamps=True, implied_relu=True, int16=True, int16_layer=True)
def transpose_conv2d(inputs, attrs):
    """transpose_conv2d(x[N,H,W,C], w[O,KH,KW,C], b[O]?) {stride=(sh, sw),
    padding=(top, left), out_size=(OH, OW), act}: TFLite TRANSPOSE_CONV / ONNX ConvTranspose"""
    x, w, b = inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else None
    op_ = TRANSPOSE_CONV2D
    require(len(x.shape) == 4 and len(w.shape) == 4, op_, "ranks of input and weights",
            "4 and 4", (len(x.shape), len(w.shape)))
    require(w.shape[3] == x.shape[3], op_, "weight input channels", x.shape[3], w.shape[3])
    require(b is None or b.shape == (w.shape[0],), op_, "bias shape", (w.shape[0],),
            b and b.shape)
    stride, padding, size = (tuple(int(v) for v in attrs[k])
                             for k in ("stride", "padding", "out_size"))
    require(len(stride) == 2 and min(stride) >= 1, op_, "stride", "2 values >= 1", stride)
    require(len(padding) == 2 and min(padding) >= 0, op_, "padding", "(top, left) >= 0",
            padding)
    require(len(size) == 2 and min(size) >= 1, op_, "out_size", "2 sizes >= 1", size)
    return [TensorType(x.dtype, (x.shape[0], *size, w.shape[0]))]
