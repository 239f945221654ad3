"""conv2d, depthwise_conv2d, fully_connected (NHWC, OHWI / 1HWC / [O, K] filters).

Integer form (TFLite Micro reference kernels, = CMSIS-NN):
  acc = bias[c] + Σ (x + in_offset) * w ;  y = requantize(acc, multiplier[c], shift[c])
  y = clamp(y + out_offset, act_min, act_max)
Padded input positions contribute nothing (TFLM skips them; padding with -in_offset is equal).

16x8 form (int16 activations, symmetric, offsets 0; int8 weights; int64 bias): the same sum in
int64, requantized by the 64-bit MultiplyByQuantizedMultiplier (qmath.requantize_s64), as
TFLite Micro's reference_integer_ops 16x8 kernels and CMSIS-NN's *_s16 kernels.

ONNX Runtime form (attrs ort_mult, ort_exp; set for ORT-family QDQ imports, OpDef ort_requant):
  y = clamp(rint(float32(acc) * float32(ort_mult[c] * 2^ort_exp[c])) + out_offset, ...), in IEEE
float32 with rounding half to even, as MLAS MlasRequantizeOutput after QLinearConv / QGemm /
QLinearMatMul (qmath.ort_requantize; the C computes the same bits in integers, tinyc_ort.h).
"""
from __future__ import annotations

import numpy as np

from .. import qmath
from ..types import DType, TensorType
from .registry import OPS, Layer, clamp_float, clamp_int, op, require

CONV2D, DEPTHWISE_CONV2D, FULLY_CONNECTED = "conv2d", "depthwise_conv2d", "fully_connected"
INT_ATTRS = ("in_offset", "out_offset", "multiplier", "shift", "act_min", "act_max")
LAYER = dict(int_attrs=INT_ATTRS, int16=True, int16_layer=True, clamps=True, implied_relu=True)


def out_hw(in_hw, kernel, stride, pads, dilation) -> tuple[int, int]:
    (h, w), (kh, kw), (sh, sw), (dh, dw) = in_hw, kernel, stride, dilation
    pt, pl, pb, pr = pads
    return ((h + pt + pb - dh * (kh - 1) - 1) // sh + 1,
            (w + pl + pr - dw * (kw - 1) - 1) // sw + 1)


def patches(x: np.ndarray, kernel, stride, pads, dilation, pad_value) -> np.ndarray:
    """[N,H,W,C] -> [N,OH,OW,KH,KW,C] windows, padding with pad_value."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    pt, pl, pb, pr = pads
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=pad_value)
    n, hp, wp, c = xp.shape
    oh, ow = out_hw(x.shape[1:3], kernel, stride, pads, dilation)
    s = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp, (n, oh, ow, kh, kw, c), (s[0], s[1] * sh, s[2] * sw, s[1] * dh, s[2] * dw, s[3]),
        writeable=False)


def check_window(op: str, in_hw, kernel, stride, pads, dilation=(1, 1)) -> tuple[int, int]:
    """Output H, W of a sliding window, checking the window's parameters."""
    for what, vals in (("kernel", kernel), ("stride", stride), ("dilation", dilation)):
        require(min(vals) >= 1, op, what, "values >= 1", tuple(vals))
    require(min(pads) >= 0, op, "pads", "values >= 0", tuple(pads))
    oh, ow = out_hw(in_hw, kernel, stride, pads, dilation)
    require(oh >= 1 and ow >= 1, op, f"a {tuple(kernel)} window on a {tuple(in_hw)} input "
            f"(pads {tuple(pads)}) leaves no output", "output size >= 1", (oh, ow))
    return oh, ow


def _conv_type(inputs, attrs, out_c: int, op: str = "conv2d") -> list[TensorType]:
    x, w, b = inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else None
    require(len(x.shape) == 4 and len(w.shape) == 4, op, "ranks of input and weights",
            "4 and 4", (len(x.shape), len(w.shape)))
    if op == "conv2d":
        require(w.shape[3] == x.shape[3], op, "weight input channels", x.shape[3], w.shape[3])
    else:
        require(w.shape[0] == 1 and w.shape[3] % x.shape[3] == 0, op, "weight shape",
                f"[1, KH, KW, multiple of {x.shape[3]}]", list(w.shape))
    require(b is None or b.shape == (out_c,), op, "bias shape", (out_c,), b and b.shape)
    oh, ow = check_window(op, x.shape[1:3], w.shape[1:3], attrs["stride"], attrs["pads"],
                          attrs["dilation"])
    return [TensorType(x.dtype, (x.shape[0], oh, ow, out_c))]


def _finish_int(acc: np.ndarray, node) -> np.ndarray:
    a = node.attrs
    mult = np.asarray(a["multiplier"], np.int64)
    shift = np.asarray(a["shift"], np.int64)
    if node.inputs[0].dtype is DType.INT16:
        return clamp_int(qmath.requantize_s64(acc, mult, shift), node)
    if "ort_mult" in a:                  # ONNX Runtime's float32 requantization (ort_requant)
        y = qmath.ort_requantize(qmath.wrap_int32(acc), np.asarray(a["ort_mult"], np.int64),
                                 np.asarray(a["ort_exp"], np.int64)) + a["out_offset"]
        return clamp_int(y, node)
    y = qmath.requantize(acc, mult, shift) + a["out_offset"]
    return clamp_int(y, node)


def _bias(node, b, dtype):
    out_c = OPS[node.op].out_channels(node.inputs[1].shape)
    return np.zeros(out_c, dtype) if b is None else b.astype(dtype)


def float_semantics(acc_fn):
    """acc = Σ x·w + bias in float64, then the fused activation clamp."""
    def run(node, x, w, b=None):
        acc = acc_fn(node, x, w, 0.0, np.float64) + _bias(node, b, np.float64)
        return clamp_float(acc, node.attrs)
    return run


def int_semantics(acc_fn):
    """acc = Σ (x + in_offset)·w + bias in int64, requantized per channel, clamped."""
    def run(node, x, w, b=None):
        xi = x.astype(np.int64) + node.attrs["in_offset"]
        return _finish_int(acc_fn(node, xi, w, 0, np.int64) + _bias(node, b, np.int64), node)
    return run


# -- conv2d ------------------------------------------------------------------------------

def conv_acc(node, x, w, pad_value, dtype):
    a = node.attrs
    p = patches(x.astype(dtype), w.shape[1:3], a["stride"], a["pads"], a["dilation"], pad_value)
    n, oh, ow = p.shape[:3]
    cols = p.reshape(n * oh * ow, -1)
    return (cols @ w.reshape(w.shape[0], -1).astype(dtype).T).reshape(n, oh, ow, w.shape[0])


def conv2d_macs(node) -> int:
    o = node.outputs[0].shape
    return int(np.prod(o)) * int(np.prod(node.inputs[1].shape[1:]))


@op("conv2d", run_float=float_semantics(conv_acc), run_int=int_semantics(conv_acc),
    macs=conv2d_macs, layer=Layer(weight_axis=0, window=True), patchable=True, **LAYER,
    ort_requant=True)
def conv2d(inputs, attrs):
    """conv2d(x[N,H,W,C], w[O,KH,KW,C], b[O]?) {stride, pads=(t,l,b,r), dilation, act}"""
    return _conv_type(inputs, attrs, inputs[1].shape[0])


# -- depthwise_conv2d ------------------------------------------------------------------------

def depthwise_acc(node, x, w, pad_value, dtype):
    a = node.attrs
    p = patches(x.astype(dtype), w.shape[1:3], a["stride"], a["pads"], a["dilation"], pad_value)
    mult = w.shape[3] // x.shape[3]
    p = p[..., np.arange(w.shape[3]) // mult]            # out channel c reads input c // mult
    return np.einsum("nyxhwc,hwc->nyxc", p, w[0].astype(dtype))


def depthwise_macs(node) -> int:
    return int(np.prod(node.outputs[0].shape)) * int(np.prod(node.inputs[1].shape[1:3]))


@op("depthwise_conv2d", run_float=float_semantics(depthwise_acc),
    run_int=int_semantics(depthwise_acc), macs=depthwise_macs,
    layer=Layer(weight_axis=3, window=True, per_channel=True, prunable=False), patchable=True,
    **LAYER, ort_requant=True)
def depthwise_conv2d(inputs, attrs):
    """depthwise_conv2d(x[N,H,W,C], w[1,KH,KW,C*M], b[C*M]?) {stride, pads, dilation, act}"""
    return _conv_type(inputs, attrs, inputs[1].shape[3], "depthwise_conv2d")


# -- fully_connected ---------------------------------------------------------------------------

def fc_acc(node, x, w, pad_value, dtype):
    return x.astype(dtype) @ w.astype(dtype).T


@op("fully_connected", run_float=float_semantics(fc_acc), run_int=int_semantics(fc_acc),
    layer=Layer(weight_axis=0), **LAYER, ort_requant=True,
    macs=lambda node: int(np.prod(node.outputs[0].shape)) * node.inputs[1].shape[1])
def fully_connected(inputs, attrs):
    """fully_connected(x[N,K], w[O,K], b[O]?) {act}"""
    x, w, b = inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else None
    require(len(x.shape) == 2 and len(w.shape) == 2, "fully_connected", "ranks of x and w",
            "2 and 2", (len(x.shape), len(w.shape)))
    require(x.shape[1] == w.shape[1], "fully_connected", f"weights {list(w.shape)} for "
            f"input {list(x.shape)}", f"[N, {x.shape[1]}]", list(w.shape))
    require(b is None or b.shape == (w.shape[0],), "fully_connected", "bias shape",
            (w.shape[0],), b and b.shape)
    return [TensorType(x.dtype, (x.shape[0], w.shape[0]))]
