"""softmax over the last axis. Integer form: TFLite's int8 softmax (reference_ops::Softmax):
gemmlowp fixed-point exp of (x - max) scaled by beta*input_scale, a fixed-point reciprocal of
the sum, output scale 1/256 and zero point -128.
"""
from __future__ import annotations

import numpy as np

from .. import qmath
from .registry import op, same_as_input

SCALED_DIFF_INTEGER_BITS = 5
ACCUMULATION_INTEGER_BITS = 12


def softmax_float(node, x):
    z = (x.astype(np.float64) - x.max(axis=-1, keepdims=True)) * node.attrs.get("beta", 1.0)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def softmax_int(node, x):
    return softmax_fixed_point(node.attrs, x, 8)


def softmax_fixed_point(a, x, out_bits: int):
    """TFLite reference_ops::Softmax<int8_t, OutputT> with an out_bits-bit signed output
    (8: int8, zero point -128; 16: int16, zero point -32768)."""
    x = x.astype(np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    valid = diff >= a["diff_min"]
    rescaled = qmath.srdhm(qmath.wrap_int32(diff << a["input_left_shift"]),
                           a["input_multiplier"])
    exp = qmath.exp_on_negative_values(rescaled, SCALED_DIFF_INTEGER_BITS)
    exp_acc = qmath.rdbpot(exp, ACCUMULATION_INTEGER_BITS)       # Rescale<12>
    sum_of_exps = np.where(valid, exp_acc, 0).sum(axis=-1, keepdims=True)
    scale, bits_over_unit = qmath.get_reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS)
    unsat = qmath.rdbpot(qmath.srdhm(scale, exp), bits_over_unit + 31 - out_bits)
    lo, hi = -(1 << (out_bits - 1)), (1 << (out_bits - 1)) - 1
    y = np.clip(unsat + lo, lo, hi)
    return np.where(valid, y, lo).astype(np.int8 if out_bits == 8 else np.int16)


@op("softmax", run_float=softmax_float, run_int=softmax_int,
    int_attrs=("input_multiplier", "input_left_shift", "diff_min"), fixed_q=(1.0 / 256.0, -128))
def softmax(inputs, attrs):
    """softmax(x) {beta} — over the last axis"""
    return same_as_input(inputs, attrs)


# -- log_softmax: TFLite's int8 LogSoftmax (reference_ops::LogSoftmaxQuantized) --------------
# exp of (x - max) in Q5.26 summed in Q12.19, gemmlowp-style log of the sum (Q5.26), output
# (x - max) - log(sum) in scale 16/256, zero point 127.

INT32_MIN, INT32_MAX = qmath.INT32_MIN, qmath.INT32_MAX


def _sat(x):
    return np.clip(x, INT32_MIN, INT32_MAX)


def _sat_mul_pot_param(x, exponent):
    """gemmlowp SaturatingRoundingMultiplyByPOTParam, elementwise exponent."""
    x, e = np.asarray(x, np.int64), np.asarray(exponent, np.int64)
    right = qmath.rdbpot(x, np.maximum(-e, 0))
    threshold = (np.int64(1) << (31 - np.clip(e, 1, 31))) - 1
    left = np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN,
                                                        qmath.wrap_int32(x << np.maximum(e, 0))))
    return np.where(e <= 0, right, left)


def log_x_ge_1(z, input_bits: int = ACCUMULATION_INTEGER_BITS, output_bits: int = 5):
    """TFLite log_x_for_x_greater_than_or_equal_to_1_impl<output_bits, input_bits> (raw)."""
    srdhm, w = qmath.srdhm, qmath.wrap_int32
    accum_bits = output_bits + 1
    log_2, sqrt_sqrt_half, sqrt_half = 1488522236, 1805811301, 1518500250
    alpha_n, alpha_d, alpha_i, alpha_f = 117049297, 127690142, 1057819769, 638450708
    shifted_quarter = int(qmath.rdbpot(536870912, accum_bits))
    z = np.asarray(z, np.int64)
    hp1 = qmath.count_leading_zeros32(z)
    r_a_tmp = _sat_mul_pot_param(z, hp1 - 1)
    r_a = _sat_mul_pot_param(srdhm(r_a_tmp, sqrt_half), 1)
    z_a_adj = _sat(_sat_mul_pot_param(input_bits - hp1, 31 - accum_bits) + shifted_quarter)
    z_b = srdhm(z, sqrt_half)
    hb = qmath.count_leading_zeros32(z_b) - 1
    r_b = _sat_mul_pot_param(z, hb)
    z_b_adj = _sat(_sat_mul_pot_param(input_bits - hb, 31 - accum_bits) - shifted_quarter)
    r = np.minimum(r_a, r_b)
    z_adj = np.maximum(z_a_adj, z_b_adj)
    p = qmath.rounding_half_sum(r, sqrt_sqrt_half)
    q = w(r - sqrt_sqrt_half)
    q = w(q + q)
    common_sq = srdhm(q, q)
    num = w(srdhm(q, r) + srdhm(srdhm(q, common_sq), alpha_n))
    denom_minus_one = w(srdhm(p, w(w(alpha_i + q) + srdhm(alpha_d, common_sq)))
                        + srdhm(alpha_f, q))
    recip = qmath.one_over_one_plus_x_for_x_in_0_1(denom_minus_one)
    num_scaled = qmath.rdbpot(num, accum_bits)                  # Rescale<accum>(F0)
    total = w(srdhm(z_adj, log_2) + srdhm(num_scaled, recip))
    return qmath.sat_mul_pot(total, accum_bits - output_bits)    # Rescale<output_bits>


def log_softmax_float(node, x):
    z = x.astype(np.float64) - x.max(axis=-1, keepdims=True)
    return (z - np.log(np.exp(z).sum(axis=-1, keepdims=True))).astype(np.float32)


def log_softmax_int(node, x):
    a = node.attrs
    x = x.astype(np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    diff_q5 = qmath.requantize(diff, a["input_multiplier"], a["input_left_shift"])
    exp = qmath.rdbpot(qmath.exp_on_negative_values(diff_q5, SCALED_DIFF_INTEGER_BITS),
                       ACCUMULATION_INTEGER_BITS)
    sum_q12 = qmath.wrap_int32(np.where(diff >= a["diff_min"], exp, 0).sum(-1, keepdims=True))
    log_sum = log_x_ge_1(sum_q12)
    adjusted = np.maximum(a["diff_min"] - 1, qmath.requantize(
        qmath.wrap_int32(log_sum + INT32_MIN), a["reverse_multiplier"], a["reverse_shift"]))
    y = qmath.rdbpot(qmath.wrap_int32(diff_q5 - log_sum), 31 - 5 - 4) + 127
    return np.where(diff > adjusted, np.clip(y, -128, 127), -128).astype(np.int8)


@op("log_softmax", run_float=log_softmax_float, run_int=log_softmax_int,
    int_attrs=("input_multiplier", "input_left_shift", "reverse_multiplier", "reverse_shift",
               "diff_min"), fixed_q=(16.0 / 256.0, 127))
def log_softmax(inputs, attrs):
    """log_softmax(x) — over the last axis (int8: output scale 16/256, zero point 127)"""
    return same_as_input(inputs, attrs)
