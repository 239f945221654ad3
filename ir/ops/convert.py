"""requantize: change an activation's integer type and quantization (int8 <-> int16), where
layers with int8 and int16 activations meet (mixed precision).

Integer form (TFLite Micro's QUANTIZE kernel between integer types, reference_ops::Requantize):
  y = clamp(requantize(x + in_offset, multiplier, shift) + out_offset)  to the output dtype
with multiplier/shift = QuantizeMultiplier(in_scale / out_scale) and the double-rounding
32-bit MultiplyByQuantizedMultiplier. The float form is the identity (the op only exists in
integer graphs, inserted by quantize).
"""
from __future__ import annotations

import numpy as np

from .. import qmath
from ..types import DType, TensorType
from .registry import op, require

CONVERT_DTYPES = ("i8", "i16")


def requantize_int(node, x):
    a = node.attrs
    y = qmath.requantize(x.astype(np.int64) + a["in_offset"], a["multiplier"], a["shift"])
    lo, hi = node.outputs[0].dtype.qrange
    return np.clip(y + a["out_offset"], lo, hi)


@op("requantize", run_float=lambda node, x: x, run_int=requantize_int, int16=True, elementwise=True,
    int_attrs=("in_offset", "out_offset", "multiplier", "shift"), trainable=False,
    trainable_note="integer graphs only")
def requantize(inputs, attrs):
    """requantize(x) {to: "i8" | "i16", in_offset, out_offset, multiplier, shift}"""
    to = attrs.get("to")
    require(to in CONVERT_DTYPES, "requantize", "attribute 'to'", CONVERT_DTYPES, to)
    return [TensorType(DType(to), inputs[0].shape)]
