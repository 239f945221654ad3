"""softmax8_16: TFLite Micro's SOFTMAX with int8 input and int16 output (softmax.cc
SoftmaxQuantized -> reference_ops::Softmax<int8_t, int16_t>), over the last axis.

The int8 softmax's arithmetic (ir/ops/softmax.py: gemmlowp exp of (x - max) scaled by
PreprocessSoftmaxScaling(beta, s_in), fixed-point reciprocal of the sum) with the final
rounding shift num_bits_over_unit + 31 - 16 and the int16 range: output scale 1/65536, zero
point -32768 (TFLM's Prepare requires both). The one int16 value in tinyc with a nonzero zero
point (OpDef.int16_output_zp): it may only be a model output (the frontend refuses another
reader).
"""
from __future__ import annotations

from ..types import DType, TensorType
from .registry import op
from .softmax import softmax_fixed_point, softmax_float


def softmax8_16_int(node, x):
    return softmax_fixed_point(node.attrs, x, 16)


@op("softmax8_16", run_float=softmax_float, run_int=softmax8_16_int,
    int_attrs=("input_multiplier", "input_left_shift", "diff_min"), int16=True,
    int16_output_zp=-32768, trainable=False, trainable_note="TFLite imports only")
def softmax8_16(inputs, attrs):
    """softmax8_16(x) {beta} — int8 in, int16 out (scale 1/65536, zero point -32768)"""
    return [TensorType(DType.INT16, inputs[0].shape)]
