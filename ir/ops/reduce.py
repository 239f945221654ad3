"""Reductions over any axes: mean, sum, reduce_max {axes, keep_dims}.

Integer forms are TFLite Micro's (reduce.cc; verified against the tflite-micro interpreter for
axis sets of rank 2..4 tensors, keep_dims both, same and different in/out quantization):
mean and sum are reference_ops::QuantizedMeanOrSum's integer form,
    acc = sum over the axes of x + in_offset * count
    y   = clamp(MultiplyByQuantizedMultiplier(acc, multiplier, shift) + out_offset)
with (multiplier, shift) = QuantizeMultiplier(s_in / s_out) for sum and, for mean, that pair
with 1/count folded in as TFLM's Prepare does (passes/quant_rules.py: an un-normalised
multiplier); reduce_max keeps the input's quantization (TFLM requires it) and its values.
attrs["round_half_even"] on a mean (set only by the ONNX QDQ import, frontend/qdq.py): ONNX
Runtime's rounding, one rounding half to even (kernel mean.even; int8 only, as avg_pool2d's):
output quantization = input's: y = out_offset + acc / count exactly (multiplier 0); else
y = out_offset + acc * multiplier * 2^(shift - 31) in 64 bits, (multiplier, shift) =
QuantizeMultiplier(s_in / (s_out * count)) (TFLM's folded pair rounds twice: up to 1 step
from the exact value on a quarter of the outputs of a 4x4 pool).
"""
from __future__ import annotations

import numpy as np

from ..qmath import div_round_half_even, mul_round_half_even, requantize
from ..types import TensorType
from .registry import op, require

REDUCE_INT_ATTRS = ("in_offset", "multiplier", "shift", "out_offset")


def reduce_axes(node_or_attrs, rank: int) -> tuple[int, ...]:
    """The reduced axes, normalised and sorted."""
    attrs = getattr(node_or_attrs, "attrs", node_or_attrs)
    return tuple(sorted({int(a) % rank for a in attrs["axes"]}))


def reduce_count(node) -> int:
    """Input elements per output element."""
    x = node.inputs[0]
    return int(np.prod([x.shape[a] for a in reduce_axes(node, len(x.shape))], dtype=np.int64))


def _reduced(fn, dtype=None):
    def run(node, x):
        axes = reduce_axes(node, x.ndim)
        y = fn(x if dtype is None else x.astype(dtype), axis=axes,
               keepdims=bool(node.attrs.get("keep_dims", True)))
        return np.asarray(y)
    return run


def _float(fn):
    run = _reduced(fn, np.float64)
    return lambda node, x: run(node, x).astype(np.float32)


def _int_mean_or_sum(node, x):
    a = node.attrs
    acc = _reduced(np.sum, np.int64)(node, x) + int(a["in_offset"]) * reduce_count(node)
    if a.get("round_half_even") and x.dtype == np.int8:
        m, s = (int(np.asarray(a[k]).reshape(-1)[0]) for k in ("multiplier", "shift"))
        y = (div_round_half_even(acc, reduce_count(node)) if m == 0 else
             mul_round_half_even(acc, m, s)) + int(a["out_offset"])
        return np.clip(y, *node.outputs[0].dtype.qrange).astype(node.outputs[0].dtype.np)
    m, s = (int(np.asarray(a[k]).reshape(-1)[0]) for k in ("multiplier", "shift"))
    y = requantize(acc, m, s) + int(a["out_offset"])
    return np.clip(y, *node.outputs[0].dtype.qrange).astype(node.outputs[0].dtype.np)


def reduce_type(inputs, attrs):
    """(x) {axes, keep_dims}"""
    shape = inputs[0].shape
    r = len(shape)
    axes = attrs["axes"]
    require(r > 0 and len(axes) > 0 and all(-r <= int(a) < r for a in axes), "reduce", "axes",
            f"non-empty, in [{-r}, {r - 1}]", tuple(axes))
    ax = reduce_axes(attrs, r)
    if attrs.get("keep_dims", True):
        out = tuple(1 if i in ax else d for i, d in enumerate(shape))
    else:
        out = tuple(d for i, d in enumerate(shape) if i not in ax)
    return [TensorType(inputs[0].dtype, out)]


def _macs(node) -> int:
    return int(np.prod(node.inputs[0].shape))


op("mean", run_float=_float(np.mean), run_int=_int_mean_or_sum, macs=_macs,
   int_attrs=REDUCE_INT_ATTRS, int16=True, int16_layer=True)(reduce_type)
op("sum", run_float=_float(np.sum), run_int=_int_mean_or_sum, macs=_macs,
   int_attrs=REDUCE_INT_ATTRS, int16=True, int16_layer=True)(reduce_type)
op("reduce_max", run_float=_reduced(np.max), run_int=_reduced(np.max), macs=_macs,
   same_q=True, keeps_values=True)(reduce_type)
