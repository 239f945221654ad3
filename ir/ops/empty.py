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
