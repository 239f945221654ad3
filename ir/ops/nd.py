"""conv3d, max_pool3d, avg_pool3d (NDHWC activations, ODHWI filters): ONNX's 3-D Conv,
MaxPool and AveragePool, and the 2-D pooling variants TFLite has no form of (dilation,
count_include_pad) as 3-D pooling with D = 1.

Attributes: stride, dilation (d, h, w); pads (front, top, left, back, bottom, right).
Integer forms (no TFLite Micro kernel exists; these follow its 2-D ones tap for tap):
- conv3d: conv2d's (TFLM reference Conv, = CMSIS-NN) over a 3-D window:
  acc = bias[c] + sum (x + in_offset) * w over the taps inside the input (padding contributes
  nothing), y = clamp(MultiplyByQuantizedMultiplier(acc, mult[c], shift[c]) + out_offset).
- max_pool3d: the maximum of the taps inside the input, clamped (a window wholly in the
  padding gives act_min, as max_pool2d).
- avg_pool3d: sum / count rounded half away from zero (TFLM AveragePool's rounding), where
  count is the number of *counted* taps: those inside the input, and with ONNX
  count_include_pad=1 also those in the explicit padding (attr count_pads, zeros otherwise;
  not the extra end padding of ceil_mode), which add the input zero point `pad_value` (a
  real 0) to the sum. The output keeps the input's quantization.
"""
from __future__ import annotations

import numpy as np

from ..types import TensorType
from .conv import INT_ATTRS, float_semantics, int_semantics
from .registry import Layer, clamp_float, clamp_int, op, require

CONV3D, MAX_POOL3D, AVG_POOL3D = "conv3d", "max_pool3d", "avg_pool3d"
NOT_TRAINABLE = dict(trainable=False, trainable_note="no 3-D convolution or pooling in "
                     "fine-tuning")


def out_dhw(in_dhw, kernel, stride, pads, dilation) -> tuple[int, int, int]:
    return tuple((n + pads[i] + pads[i + 3] - dilation[i] * (kernel[i] - 1) - 1) // stride[i]
                 + 1 for i, n in enumerate(in_dhw))


def check_window3d(op_: str, in_dhw, kernel, stride, pads, dilation) -> tuple[int, int, int]:
    for what, vals, n in (("kernel", kernel, 3), ("stride", stride, 3),
                          ("dilation", dilation, 3), ("pads", pads, 6)):
        require(len(vals) == n, op_, what, f"{n} values", tuple(vals))
    for what, vals in (("kernel", kernel), ("stride", stride), ("dilation", dilation)):
        require(min(vals) >= 1, op_, what, "values >= 1", tuple(vals))
    require(min(pads) >= 0, op_, "pads", "values >= 0", tuple(pads))
    out = out_dhw(in_dhw, kernel, stride, pads, dilation)
    require(min(out) >= 1, op_, f"a {tuple(kernel)} window on a {tuple(in_dhw)} input (pads "
            f"{tuple(pads)}) leaves no output", "output size >= 1", out)
    return out


def patches3d(x: np.ndarray, kernel, stride, pads, dilation, pad_value) -> np.ndarray:
    """[N,D,H,W,C] -> [N,OD,OH,OW,KD,KH,KW,C] windows, padding with pad_value."""
    xp = np.pad(x, ((0, 0),) + tuple((pads[i], pads[i + 3]) for i in range(3)) + ((0, 0),),
                constant_values=pad_value)
    od, oh, ow = out_dhw(x.shape[1:4], kernel, stride, pads, dilation)
    s = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp, (x.shape[0], od, oh, ow, *kernel, x.shape[4]),
        (s[0], s[1] * stride[0], s[2] * stride[1], s[3] * stride[2],
         s[1] * dilation[0], s[2] * dilation[1], s[3] * dilation[2], s[4]), writeable=False)


# -- conv3d ------------------------------------------------------------------------------------

def conv3d_acc(node, x, w, pad_value, dtype):
    a = node.attrs
    p = patches3d(x.astype(dtype), w.shape[1:4], a["stride"], a["pads"], a["dilation"],
                  pad_value)
    cols = p.reshape(int(np.prod(p.shape[:4])), -1)
    return (cols @ w.reshape(w.shape[0], -1).astype(dtype).T).reshape(p.shape[:4] +
                                                                       (w.shape[0],))


def conv3d_windows(node, x: np.ndarray) -> np.ndarray:
    """The input windows as rows [N, OD, OH*OW, KD, KH, KW, C] (compensation's input rows;
    the taps in the weights' own order)."""
    a = node.attrs
    p = patches3d(x, node.inputs[1].shape[1:4], a["stride"], a["pads"], a["dilation"], 0.0)
    return p.reshape(p.shape[:2] + (p.shape[2] * p.shape[3],) + p.shape[4:])


@op(CONV3D, run_float=float_semantics(conv3d_acc), run_int=int_semantics(conv3d_acc),
    macs=lambda node: int(np.prod(node.outputs[0].shape)) *
    int(np.prod(node.inputs[1].shape[1:])),
    layer=Layer(weight_axis=0, window=True, prunable=False, windows=conv3d_windows),
    int_attrs=INT_ATTRS, clamps=True, implied_relu=True, **NOT_TRAINABLE)
def conv3d(inputs, attrs):
    """conv3d(x[N,D,H,W,C], w[O,KD,KH,KW,C], b[O]?) {stride, pads=(f,t,l,bk,b,r), dilation,
    act}: ONNX 3-D Conv (grouped: block-diagonal weights)"""
    x, w, b = inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else None
    require(len(x.shape) == 5 and len(w.shape) == 5, CONV3D, "ranks of input and weights",
            "5 and 5", (len(x.shape), len(w.shape)))
    require(w.shape[4] == x.shape[4], CONV3D, "weight input channels", x.shape[4], w.shape[4])
    require(b is None or b.shape == (w.shape[0],), CONV3D, "bias shape", (w.shape[0],),
            b and b.shape)
    out = check_window3d(CONV3D, x.shape[1:4], w.shape[1:4], attrs["stride"], attrs["pads"],
                         attrs["dilation"])
    return [TensorType(x.dtype, (x.shape[0], *out, w.shape[0]))]


# -- pooling -----------------------------------------------------------------------------------

POOL3D = dict(same_q=True, clamps=True, channel_tie=True, **NOT_TRAINABLE)


def pool3d_type(inputs, attrs, op_):
    x = inputs[0]
    require(len(x.shape) == 5, op_, "input rank", 5, len(x.shape))
    out = check_window3d(op_, x.shape[1:4], attrs["kernel"], attrs["stride"], attrs["pads"],
                         attrs["dilation"])
    return [TensorType(x.dtype, (x.shape[0], *out, x.shape[4]))]


def _windows(node, x, pad_value):
    a = node.attrs
    return patches3d(x, a["kernel"], a["stride"], a["pads"], a["dilation"], pad_value)


def _counts(node, x) -> tuple[np.ndarray, np.ndarray]:
    """Per output pixel [N, OD, OH, OW, 1]: the taps inside the input, and the counted taps
    (inside the input or its explicit padding count_pads)."""
    a = node.attrs
    cp = tuple(a.get("count_pads") or (0,) * 6)
    pads = a["pads"]
    require(all(0 <= cp[i] <= pads[i] for i in range(6)), node.op, "count_pads",
            f"within pads {tuple(pads)}", cp)
    one = np.ones((1,) + x.shape[1:4] + (1,), np.int64)
    valid = _windows(node, one, 0).sum(axis=(4, 5, 6))
    region = np.pad(one, ((0, 0),) + tuple((cp[i], cp[i + 3]) for i in range(3)) + ((0, 0),),
                    constant_values=1)
    rest = tuple(pads[i] - cp[i] for i in range(3)) + tuple(pads[i + 3] - cp[i + 3]
                                                            for i in range(3))
    xp = np.pad(region, ((0, 0),) + tuple((rest[i], rest[i + 3]) for i in range(3)) +
                ((0, 0),))
    od, oh, ow = out_dhw(x.shape[1:4], a["kernel"], a["stride"], pads, a["dilation"])
    s, st, dl, k = xp.strides, a["stride"], a["dilation"], a["kernel"]
    counted = np.lib.stride_tricks.as_strided(
        xp, (1, od, oh, ow, *k, 1), (s[0], s[1] * st[0], s[2] * st[1], s[3] * st[2],
                                     s[1] * dl[0], s[2] * dl[1], s[3] * dl[2], s[4]),
        writeable=False).sum(axis=(4, 5, 6))
    return valid, counted


def avg3d_float(node, x):
    s = _windows(node, x.astype(np.float64), 0.0).sum(axis=(4, 5, 6))
    _, counted = _counts(node, x)
    return clamp_float(np.where(counted > 0, s / np.maximum(counted, 1), 0.0), node.attrs)


def avg3d_int(node, x):
    s = _windows(node, x.astype(np.int64), 0).sum(axis=(4, 5, 6))
    valid, n = _counts(node, x)
    s = s + (n - valid) * int(node.attrs.get("pad_value", 0))
    half = n // 2
    nz = np.maximum(n, 1)
    q = np.where(s > 0, (s + half) // nz, -((-(s - half)) // nz))   # C: truncating division
    return clamp_int(np.where(n > 0, q, 0), node)


@op(AVG_POOL3D, run_float=avg3d_float, run_int=avg3d_int,
    int_attrs=("act_min", "act_max", "pad_value"), **POOL3D,
    macs=lambda node: int(np.prod(node.outputs[0].shape)) * int(np.prod(node.attrs["kernel"])))
def avg_pool3d(inputs, attrs):
    """avg_pool3d(x[N,D,H,W,C]) {kernel, stride, dilation, pads, count_pads, act}"""
    return pool3d_type(inputs, attrs, AVG_POOL3D)


def max3d_float(node, x):
    return clamp_float(_windows(node, x, -np.inf).max(axis=(4, 5, 6)), node.attrs)


def max3d_int(node, x):
    return clamp_int(_windows(node, x.astype(np.int64), -(1 << 40)).max(axis=(4, 5, 6)), node)


@op(MAX_POOL3D, run_float=max3d_float, run_int=max3d_int, int_attrs=("act_min", "act_max"),
    keeps_values=True, **POOL3D)
def max_pool3d(inputs, attrs):
    """max_pool3d(x[N,D,H,W,C]) {kernel, stride, dilation, pads, act}"""
    return pool3d_type(inputs, attrs, MAX_POOL3D)
