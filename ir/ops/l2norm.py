"""l2_norm(x): x / ||x||_2 over the last axis — TFLite L2_NORMALIZATION, ONNX
LpNormalization(p=2, axis=-1).

Float: x / max(sqrt(Σ x²), 1e-6) (TFLite's reference_ops::L2Normalization).
Integer form (TFLite Micro reference_integer_ops::L2Normalization, int8): per row
  acc = Σ (x - zp_in)²  (int32);  (m, s) = GetInvSqrtQuantizedMultiplierExp(acc, -1)
  y = clamp(MultiplyByQuantizedMultiplier(x - zp_in, m, s + 7), -128, 127)
The output is in 1/128 with zero point 0 whatever the output tensor says (TFLM applies neither
the output scale nor its zero point): fixed_q (1/128, 0).
"""
from __future__ import annotations

import numpy as np

from .. import qmath
from .registry import op, same_as_input

L2_NORM = "l2_norm"
EPSILON = 1e-6


def _run_float(node, x):
    x = x.astype(np.float64)
    norm = np.maximum(np.sqrt((x * x).sum(axis=-1, keepdims=True)), EPSILON)
    return (x / norm).astype(np.float32)


def _run_int(node, x):
    xi = x.astype(np.int64) + node.attrs["in_offset"]
    acc = qmath.wrap_int32((xi * xi).sum(axis=-1, keepdims=True))
    m, s = qmath.inv_sqrt_multiplier_exp(acc)
    return np.clip(qmath.requantize(xi, m, s + 7), -128, 127).astype(np.int8)


@op(L2_NORM, run_float=_run_float, run_int=_run_int, int_attrs=("in_offset",),
    fixed_q=(1.0 / 128.0, 0))
def l2_norm(inputs, attrs):
    """l2_norm(x) — x / ||x||_2 over the last axis (int8 output in 1/128, zero point 0)"""
    return same_as_input(inputs, attrs)
