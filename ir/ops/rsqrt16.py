"""rsqrt16: TFLite Micro's int16 RSQRT (micro/kernels/elementwise.cc RsqrtEvalQuantized<int16_t>,
16x8 models): zero points 0; per value v = x:
  v == 0 -> 32767; else (m_v, s_v) = GetInvSqrtQuantizedMultiplierExp(v, -1),
  data = MultiplyByQuantizedMultiplier(1, m_v, s_v + 20),
  y = clamp_int16(MultiplyByQuantizedMultiplier(data, mult, shift - 20)),
with (mult, shift) = QuantizeMultiplier(1 / double(sqrtf(s_in) * s_out)) (float32 product).
TFLM stops with an error on v < 0 (Rsqrt of a negative value); tinyc gives 32767 there, as its
int8 RSQRT table gives 127.
"""
from __future__ import annotations

import numpy as np

from .. import qmath
from .registry import op, same_as_input


def rsqrt16_int(node, x):
    a = node.attrs
    v = np.asarray(x, np.int64)
    m_v, s_v = qmath.inv_sqrt_multiplier_exp(np.maximum(v, 1))
    data = qmath.requantize(1, m_v, s_v + 20)
    y = np.clip(qmath.requantize(data, a["out_mult"], a["out_shift"] - 20), -32768, 32767)
    return np.where(v <= 0, 32767, y).astype(np.int64)


def rsqrt16_float(node, x):
    x = np.asarray(x, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, 1.0 / np.sqrt(np.maximum(x, 1e-30)), np.inf).astype(np.float32)


@op("rsqrt16", run_float=rsqrt16_float, run_int=rsqrt16_int, int_attrs=("out_mult", "out_shift"),
    int16=True, int16_layer=True, channel_tie=True, elementwise=True, trainable=False,
    trainable_note="16x8 TFLite imports only")
def rsqrt16(inputs, attrs):
    """rsqrt16(x): 1/sqrt(x) on int16 (TFLM's 16x8 RSQRT: Newton-Raphson inverse square root
    per value, zero points 0)"""
    return same_as_input(inputs, attrs)
