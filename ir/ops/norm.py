"""layer_norm: LayerNormalization over the last axis, with its own fixed-point integer form.

Float: y = (x - mean) / sqrt(var + epsilon) * gamma + beta per row of the last axis
(gamma, beta: one float per element of that axis, attributes).

Integer (int8 in and out; bit-exact with runtime/tinyc_layer_norm_s8.c), for a row of n:
  d_i = x_i - zp_in;  S1 = sum d_i;  S2 = sum d_i^2                       (int32, n <= 32768)
  W = n S2 - S1^2 + E, E = round(n^2 epsilon / s_in^2) (capped at 2^46)    (int64)
      so that (x_i - mean) / sqrt(var + epsilon) = (n d_i - S1) / sqrt(W) exactly in reals
  r = floor(sqrt(W)) (integer square root; r = 0: every output is beta's)
  r normalised to rn = r 2^sh in [2^15, 2^16) (shifting right truncates), inv = 2^31 div rn
  z_i = (n d_i - S1) inv / 2^(15 - sh), rounded half away from zero: the normalised value
      in Q16 (|z| <= sqrt(n) 2^16)
  y_i = round_half_away(z_i M_c / 2^(31 - shift_c)) + bias_c + zp_out, clamped to int8, with
      M_c 2^(shift_c - 31) = gamma_c / (s_out 2^16) (QuantizeMultiplier of |gamma|, sign
      kept) and bias_c = round(beta_c / s_out).
No division but one 32-bit one per row, no float. Error: the 1/sqrt is good to ~2^-15
relative, so the output is within about one int8 step of the float result.
"""
from __future__ import annotations

import math

import numpy as np

from .registry import op, require

MAX_ROW = 32768
LN_INT_ATTRS = ("eps_q", "multiplier", "shift", "bias", "in_offset", "out_offset")


def layer_norm_float(node, x):
    a = node.attrs
    x = x.astype(np.float64)
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    y = (x - mean) / np.sqrt(var + a.get("epsilon", 1e-5))
    return (y * np.asarray(a["gamma"]) + np.asarray(a["beta"])).astype(np.float32)


def _round_shift(v: int, k: int) -> int:
    """v / 2^k rounded half away from zero (k >= 0)."""
    if k == 0:
        return v
    m = (abs(v) + (1 << (k - 1))) >> k
    return m if v >= 0 else -m


def normalised_q16(t: np.ndarray, w: int) -> np.ndarray | None:
    """z_i (Q16) for the row's t_i = n d_i - S1 and W; None when sqrt(W) rounds to 0."""
    r = math.isqrt(w)
    if r == 0:
        return None
    rn, sh = r, 0
    while rn < (1 << 15):
        rn, sh = rn << 1, sh + 1
    while rn >= (1 << 16):
        rn, sh = rn >> 1, sh - 1
    inv = (1 << 31) // rn
    return np.array([_round_shift(int(ti) * inv, 15 - sh) for ti in t], dtype=object)


def layer_norm_int(node, x):
    a = node.attrs
    mult = [int(v) for v in a["multiplier"]]
    shift = [int(v) for v in a["shift"]]
    bias = [int(v) for v in a["bias"]]
    xs = np.asarray(x).astype(np.int64)
    n = xs.shape[-1]
    rows = xs.reshape(-1, n)
    out = np.empty(rows.shape, np.int64)
    for j, row in enumerate(rows):
        d = [int(v) + int(a["in_offset"]) for v in row]
        s1, s2 = sum(d), sum(v * v for v in d)
        z = normalised_q16(np.array([n * v - s1 for v in d], dtype=object),
                           n * s2 - s1 * s1 + int(a["eps_q"]))
        for c in range(n):
            v = 0 if z is None else _round_shift(int(z[c]) * mult[c], 31 - shift[c])
            out[j, c] = min(max(v + bias[c] + int(a["out_offset"]), -128), 127)
    return out.reshape(xs.shape).astype(np.int8)


@op("layer_norm", run_float=layer_norm_float, run_int=layer_norm_int, int_attrs=LN_INT_ATTRS)
def layer_norm(inputs, attrs):
    """layer_norm(x) {gamma, beta: one per element of the last axis; epsilon}"""
    x = inputs[0]
    n = x.shape[-1] if x.shape else 0
    require(1 <= n <= MAX_ROW, "layer_norm", "last axis size", f"1..{MAX_ROW}", n)
    for k in ("gamma", "beta"):
        require(np.size(attrs.get(k, ())) == n, "layer_norm", f"{k} size", n,
                np.size(attrs.get(k, ())))
    return [x.type.with_(q=None)]
