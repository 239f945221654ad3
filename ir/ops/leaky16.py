"""leaky_requantize: y = x >= 0 ? x : alpha * x into the output's quantization, as TFLite
Micro's int16 RELU (ReluQuantized<int16_t>, alpha 0) and LEAKY_RELU (QuantizeLeakyRelu<int16_t>)
compute it in 16x8 models (int8 models use a lookup table instead).

Integer form (int16, zero points 0):
  y = clamp(x >= 0 ? requantize(x, mult_pos, shift_pos) : requantize(x, mult_neg, shift_neg))
to int16, multipliers from QuantizeMultiplier(float32(s_in / s_out)) and
QuantizeMultiplier(float32(s_in * alpha / s_out)) (alpha >= 0; 0 gives multiplier 0: RELU).
"""
from __future__ import annotations

import numpy as np

from .. import qmath
from .registry import op, same_as_input


def _run_int(node, x):
    a = node.attrs
    x = x.astype(np.int64)
    pos = qmath.requantize(x, a["mult_pos"], a["shift_pos"])
    neg = qmath.requantize(x, a["mult_neg"], a["shift_neg"])
    lo, hi = node.outputs[0].dtype.qrange
    return np.clip(np.where(x >= 0, pos, neg), lo, hi)


@op("leaky_requantize",
    run_float=lambda node, x: np.where(x >= 0, x, node.attrs.get("alpha", 0.0) * x)
    .astype(np.float32),
    run_int=_run_int, int_attrs=("mult_pos", "shift_pos", "mult_neg", "shift_neg"),
    int16=True, int16_layer=True, channel_tie=True, elementwise=True, trainable=False,
    trainable_note="16x8 TFLite imports only")
def leaky_requantize(inputs, attrs):
    """leaky_requantize(x) {alpha >= 0}: leaky relu (relu with alpha 0) requantized to the
    output's scale; int16 (TFLM's 16x8 RELU / LEAKY_RELU)"""
    return same_as_input(inputs, attrs)
