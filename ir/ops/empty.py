"""empty: a value with no elements (a dim of size 0), e.g. ONNX Slice(x, 1000, 1000) or any op
on a zero-sized model input. Nothing computes it and no kernel reads or writes it: the C
function takes a model input or output of size 0 as a pointer it never dereferences."""
from __future__ import annotations

import numpy as np

from .registry import op, require


def _empty(node, x):
    return np.zeros(node.attrs["shape"], node.outputs[0].dtype.np)


@op("empty", run_float=_empty, run_int=_empty, same_q=True, keeps_values=True, int16=True,
    int16_follow=True, trainable=False, trainable_note="a value with no elements")
def empty(inputs, attrs):
    """empty(x) {shape} — a value of `shape` (some dim 0) with no elements; x (any size) is the
    tensor it comes from (its quantization and dtype)"""
    shape = tuple(int(d) for d in attrs["shape"])
    require(0 in shape and min(shape) >= 0, "empty", "shape", "sizes >= 0, one of them 0",
            shape)
    return [inputs[0].type.with_(shape=shape, q=None)]


def _fill_float(node, x):
    return np.full(node.attrs["shape"], node.attrs["value"], np.float32)


def _fill_int(node, x):
    q = node.outputs[0].q
    info = np.iinfo(node.outputs[0].dtype.np)
    v = int(np.clip(np.round(node.attrs["value"] / q.s) + q.zp, info.min, info.max))
    return np.full(node.attrs["shape"], v, node.outputs[0].dtype.np)


@op("fill", run_float=_fill_float, run_int=_fill_int, fixed_q=(1.0, 0), trainable=False,
    trainable_note="a constant output (a reduction over an empty set)")
def fill(inputs, attrs):
    """fill(x) {shape, value} — every element `value` (an integer in [-128, 127]: exact at the
    fixed scale 1, zero point 0), e.g. ONNX ReduceSum over an empty set (0); x, a value with no
    elements, is what it comes from (ONNX's reduction identity)"""
    shape = tuple(int(d) for d in attrs["shape"])
    v = attrs["value"]
    require(float(v).is_integer() and -128 <= v <= 127, "fill", "value",
            "an integer in [-128, 127]", v)
    require(min(shape, default=1) >= 1, "fill", "shape", "sizes >= 1", shape)
    return [inputs[0].type.with_(shape=shape, q=None)]
