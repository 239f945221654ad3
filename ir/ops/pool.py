"""avg_pool2d, max_pool2d (NHWC). Integer forms as TFLite Micro's reference kernels:
padding never counts; average = sum / count rounded half away from zero; act clamp.
Output quantization equals the input's (enforced by quantize and verify). int16 the same
(TFLM's int16 pooling: int32 sums, the same rounding), clamped to the int16 range.
attrs["round_half_even"] (set only by the ONNX QDQ import, frontend/qdq.py): the average of
(x - even_zero_point) rounded half to even, plus even_zero_point, as ONNX Runtime rounds an
exact average (QLinearAveragePool: even_zero_point 0; QLinearGlobalAveragePool: the input's
zero point); kernel avg_pool2d.even (int8 only: a layer made int16 by mixed precision keeps
TFLM's rounding).
"""
from __future__ import annotations

import numpy as np

from ..ort_float import ort_float_average
from ..qmath import div_round_half_even
from ..types import TensorType
from .registry import clamp_float, clamp_int, op
from .conv import check_window, patches

POOL_ATTRS = ("act_min", "act_max")
POOL = dict(int16=True, int16_layer=True, int16_follow=True, same_q=True, clamps=True,
            channel_tie=True)


def pool_type(inputs, attrs):
    x = inputs[0]
    oh, ow = check_window("pool", x.shape[1:3], attrs["kernel"], attrs["stride"], attrs["pads"])
    return [TensorType(x.dtype, (x.shape[0], oh, ow, x.shape[3]))]


def _windows(node, x, pad_value):
    a = node.attrs
    return patches(x, a["kernel"], a["stride"], a["pads"], (1, 1), pad_value)


def _count(node, x):
    return _windows(node, np.ones(x.shape[:3] + (1,), np.int64), 0).sum(axis=(3, 4))


def avg_float(node, x):
    s = _windows(node, x.astype(np.float64), 0.0).sum(axis=(3, 4))
    return clamp_float(s / _count(node, x), node.attrs)


def ort_float_q(node) -> tuple[int, float, int, float]:
    """The input's and the output's int8 zero point and float32 scale (attrs ort_zp, ort_scale,
    ort_out_zp, ort_out_scale: the QDQ file's)."""
    a = node.attrs
    return (int(a["ort_zp"]), float(np.float32(a["ort_scale"])), int(a["ort_out_zp"]),
            float(np.float32(a["ort_out_scale"])))


def avg_int(node, x):
    s = _windows(node, x.astype(np.int64), 0).sum(axis=(3, 4))
    n = _count(node, x)
    if node.attrs.get("ort_float") and x.dtype == np.int8:      # ORT's float32 average
        zp, scale, out_zp, out_scale = ort_float_q(node)
        return clamp_int(ort_float_average(int(node.attrs["ort_float"]), _windows(node, x, zp),
                                           n, zp, scale, out_zp, out_scale), node)
    if node.attrs.get("round_half_even") and x.dtype == np.int8:
        zp = int(node.attrs.get("even_zero_point", 0))
        return clamp_int(div_round_half_even(s - n * zp, n) + zp, node)
    half = n // 2
    q = np.where(s > 0, (s + half) // n, -((-(s - half)) // n))   # C: truncating division
    return clamp_int(q, node)


@op("avg_pool2d", run_float=avg_float, run_int=avg_int, int_attrs=POOL_ATTRS, **POOL,
    patchable=True,
    macs=lambda node: int(np.prod(node.outputs[0].shape)) * int(np.prod(node.attrs["kernel"])))
def avg_pool2d(inputs, attrs):
    """avg_pool2d(x[N,H,W,C]) {kernel, stride, pads, act} — padding not counted"""
    return pool_type(inputs, attrs)


def max_float(node, x):
    return clamp_float(_windows(node, x, -np.inf).max(axis=(3, 4)), node.attrs)


def max_int(node, x):
    return clamp_int(_windows(node, x.astype(np.int64), -(1 << 40)).max(axis=(3, 4)), node)


@op("max_pool2d", run_float=max_float, run_int=max_int, int_attrs=POOL_ATTRS, **POOL,
    keeps_values=True, patchable=True)
def max_pool2d(inputs, attrs):
    """max_pool2d(x[N,H,W,C]) {kernel, stride, pads, act}"""
    return pool_type(inputs, attrs)
