"""Data-movement ops: reshape (an alias, no copy), transpose, concat, pad.
Integer forms move bytes; quantization is the same on input and output (concat: all inputs).
"""
from __future__ import annotations

import numpy as np

from ..types import TensorType
from .registry import op, require


@op("reshape", run_float=lambda node, x: x.reshape(node.attrs["shape"]),
    run_int=lambda node, x: x.reshape(node.attrs["shape"]), alias=True, same_q=True,
    keeps_values=True, int16=True, int16_follow=True)
def reshape(inputs, attrs):
    """reshape(x) {shape} — same bytes, new shape"""
    shape = tuple(attrs["shape"])
    require(min(shape, default=1) >= 1 and int(np.prod(shape)) == inputs[0].type.size,
            "reshape", f"new shape for {list(inputs[0].shape)}",
            f"{inputs[0].type.size} elements", f"{list(shape)}")
    return [TensorType(inputs[0].dtype, shape)]


def _transpose(node, x):
    return np.ascontiguousarray(np.transpose(x, node.attrs["perm"]))


@op("transpose", run_float=_transpose, run_int=_transpose, same_q=True, keeps_values=True)
def transpose(inputs, attrs):
    """transpose(x) {perm}"""
    r = len(inputs[0].shape)
    require(r > 0 and sorted(p % r for p in attrs["perm"]) == list(range(r)), "transpose",
            "perm", f"a permutation of 0..{r - 1}", attrs["perm"])
    return [TensorType(inputs[0].dtype, tuple(inputs[0].shape[p] for p in attrs["perm"]))]


def _concat(node, *xs):
    return np.concatenate(xs, axis=node.attrs["axis"])


@op("concat", run_float=_concat, run_int=_concat, inputs_as_output_q=True)
def concat(inputs, attrs):
    """concat(x0, x1, ...) {axis}"""
    ax = attrs["axis"]
    shape = list(inputs[0].shape)
    for v in inputs[1:]:
        same = len(v.shape) == len(shape) and all(
            d == e for i, (d, e) in enumerate(zip(v.shape, shape)) if i != ax % len(shape))
        require(same, "concat", f"input shapes (axis {ax})", f"{shape} except on the axis",
                list(v.shape))
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
    int_attrs=("pad_value",), same_q=True, channel_tie=True)
def pad(inputs, attrs):
    """pad(x) {pads=(begins..., ends...), value (float) / pad_value (int)}"""
    p = attrs["pads"]
    r = len(p) // 2
    require(len(p) == 2 * len(inputs[0].shape) and min(p, default=0) >= 0, "pad", "pads",
            f"{2 * len(inputs[0].shape)} values >= 0", tuple(p))
    return [TensorType(inputs[0].dtype,
                       tuple(d + p[i] + p[i + r] for i, d in enumerate(inputs[0].shape)))]
