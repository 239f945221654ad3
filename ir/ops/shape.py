"""Data-movement ops: reshape (an alias, no copy), transpose, concat, pad.
Integer forms move bytes; quantization is the same on input and output (concat: all inputs).
"""
from __future__ import annotations

import numpy as np

from ..types import TensorType
from . import op


@op("reshape", run_float=lambda node, x: x.reshape(node.attrs["shape"]),
    run_int=lambda node, x: x.reshape(node.attrs["shape"]), alias=True)
def reshape(inputs, attrs):
    """reshape(x) {shape} — same bytes, new shape"""
    shape = tuple(attrs["shape"])
    if int(np.prod(shape)) != inputs[0].type.size:
        raise ValueError(f"reshape: {inputs[0].shape} has {inputs[0].type.size} elements, "
                         f"{shape} has {int(np.prod(shape))}")
    return [TensorType(inputs[0].dtype, shape)]


def _transpose(node, x):
    return np.ascontiguousarray(np.transpose(x, node.attrs["perm"]))


@op("transpose", run_float=_transpose, run_int=_transpose)
def transpose(inputs, attrs):
    """transpose(x) {perm}"""
    return [TensorType(inputs[0].dtype, tuple(inputs[0].shape[p] for p in attrs["perm"]))]


def _concat(node, *xs):
    return np.concatenate(xs, axis=node.attrs["axis"])


@op("concat", run_float=_concat, run_int=_concat)
def concat(inputs, attrs):
    """concat(x0, x1, ...) {axis}"""
    ax = attrs["axis"]
    shape = list(inputs[0].shape)
    shape[ax] = sum(v.shape[ax] for v in inputs)
    return [TensorType(inputs[0].dtype, tuple(shape))]


def _pad_widths(node):
    p = node.attrs["pads"]              # (begin_0, ..., begin_r-1, end_0, ..., end_r-1)
    r = len(p) // 2
    return [(p[i], p[i + r]) for i in range(r)]


@op("pad", run_float=lambda node, x: np.pad(x, _pad_widths(node),
                                           constant_values=node.attrs.get("value", 0.0)),
    run_int=lambda node, x: np.pad(x, _pad_widths(node),
                                   constant_values=node.attrs["pad_value"]),
    int_attrs=("pad_value",))
def pad(inputs, attrs):
    """pad(x) {pads=(begins..., ends...), value (float) / pad_value (int)}"""
    p = attrs["pads"]
    r = len(p) // 2
    return [TensorType(inputs[0].dtype,
                       tuple(d + p[i] + p[i + r] for i, d in enumerate(inputs[0].shape)))]
