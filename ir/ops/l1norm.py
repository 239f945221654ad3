"""l1_norm(x): x / ||x||_1 over the last axis — ONNX LpNormalization(p=1).

Float: x / max(sum |x|, 1e-6).
Integer (int8 in and out, bit-exact with runtime/tinyc_l1norm_s8.c), per row:
  d = x - zp_in;  S = sum |d|                                              (int32)
  y = clamp(zp_out + round_half_away(d M / (S 2^(31 - shift))), -128, 127)  (int64)
with M 2^(shift - 31) = 1 / s_out (QuantizeMultiplier); S = 0: y = zp_out. One 64-bit
division per element, no float. Error: the quotient is rounded once, so y is within 0.5 output
step (plus M's relative error, 2^-31) of the float op on the dequantized int8 input.
"""
from __future__ import annotations

import numpy as np

from .registry import op, same_as_input

L1_NORM = "l1_norm"
EPSILON = 1e-6


def _run_float(node, x):
    x = x.astype(np.float64)
    return (x / np.maximum(np.abs(x).sum(axis=-1, keepdims=True), EPSILON)).astype(np.float32)


def l1_norm_int(node, x):
    a = node.attrs
    d = x.astype(np.int64) + int(a["in_offset"])
    s = np.abs(d).sum(axis=-1, keepdims=True)
    num = np.abs(d) * int(a["multiplier"][0])
    den = s << (31 - int(a["shift"][0]))
    q = (2 * num + den) // np.maximum(2 * den, 1)        # |d| M / den, rounded half up
    y = np.where(s == 0, 0, np.where(d < 0, -q, q)) + int(a["out_offset"])
    return np.clip(y, -128, 127).astype(np.int8)


@op(L1_NORM, run_float=_run_float, run_int=l1_norm_int,
    int_attrs=("in_offset", "out_offset", "multiplier", "shift"))
def l1_norm(inputs, attrs):
    """l1_norm(x) — x / ||x||_1 over the last axis"""
    return same_as_input(inputs, attrs)
