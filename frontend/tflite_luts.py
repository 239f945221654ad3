"""TFLite Micro's integer algorithms for int8 -> int8 elementwise ops, tabulated.

Each function runs the arithmetic of TFLM's reference kernel (its Prepare, then its Eval) on
every int8 input x = -128..127 and returns the 256 outputs. The IR op `lut` then reproduces
TFLM bit for bit, by construction. Read from tensorflow/tflite-micro:
  LOGISTIC    micro/kernels/logistic_common.cc, kernels/internal/reference/integer_ops/logistic.h
  TANH        micro/kernels/tanh.cc, kernels/internal/reference/integer_ops/tanh.h
  HARD_SWISH  micro/kernels/hard_swish_common.cc, kernels/internal/reference/hard_swish.h
  QUANTIZE    (int8 -> int8) reference_ops::Requantize with QuantizeMultiplier(s_in / s_out)
and gemmlowp fixedpoint.h (logistic, tanh, one_minus_x_over_one_plus_x_for_x_in_0_1).
"""
from __future__ import annotations

import math

import numpy as np

from ..ir import QParams
from ..ir.qmath import (INT32_MAX, calculate_input_radius, exp_on_negative_values,
                        one_over_one_plus_x_for_x_in_0_1, quantize_multiplier, rdbpot,
                        requantize, round_half_away, rounding_half_sum, sat_mul_pot, srdhm)
from ..ir.qmath import inv_sqrt_multiplier_exp as qmath_inv_sqrt

X = np.arange(-128, 128, dtype=np.int64)
INT16_MIN, INT16_MAX = -(1 << 15), (1 << 15) - 1


def _f32(x: float) -> np.float32:
    return np.float32(x)


def _table(y: np.ndarray) -> tuple[int, ...]:
    return tuple(int(v) for v in np.clip(y, -128, 127))


def identity_table() -> tuple[int, ...]:
    """Raw bytes unchanged: TFLM ops that copy int8 data whatever the tensors' scales."""
    return _table(X)


def as_int8(q: QParams) -> QParams:
    """A uint8 tensor's quantization for its int8 view (the bytes XOR 0x80: u - 128): the
    zero point minus 128. tinyc's C API takes and returns int8; a uint8 model input or output
    (OpenMV detectors) is that int8 view."""
    return QParams(q.scale, tuple(int(z) - 128 for z in q.zero_point), q.axis)


def requantize_table(q_in: QParams, q_out: QParams) -> tuple[int, ...]:
    """QUANTIZE int8 -> int8: MultiplyByQuantizedMultiplier(x - zp_in, M) + zp_out, clamped;
    M = QuantizeMultiplier(double(s_in) / double(s_out))."""
    m, s = quantize_multiplier(float(_f32(q_in.s)) / float(_f32(q_out.s)))
    return _table(requantize(X - q_in.zp, m, s) + q_out.zp)


# -- LOGISTIC / TANH: input rescaled to gemmlowp FixedPoint<int32, 4>, then gemmlowp's f ------

def _input_q4(q_in: QParams) -> tuple[np.ndarray, np.ndarray, int]:
    """(x - zp, x in Q4.27, input_range_radius) as TFLM's Prepare and Eval compute them."""
    integer_bits = 4
    real = float(_f32(q_in.s)) * (1 << (31 - integer_bits))
    q, left_shift = math.frexp(real)
    multiplier = round_half_away(q * (1 << 31))      # static_cast<int32_t>(TfLiteRound(q*2^31))
    radius = calculate_input_radius(integer_bits, left_shift, 31)
    x = X - q_in.zp
    return x, requantize(x, multiplier, left_shift), radius


def fixed_logistic(a, integer_bits: int = 4) -> np.ndarray:
    """gemmlowp logistic(FixedPoint<int32, integer_bits>) -> FixedPoint<int32, 0> raw."""
    a = np.asarray(a, np.int64)
    abs_a = np.where(a > 0, a, -a)
    pos = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-abs_a, integer_bits))
    neg = INT32_MAX - pos                                  # ResultF::One() - result
    return np.where(a == 0, 1 << 30, np.where(a > 0, pos, neg))


def one_minus_x_over_one_plus_x_for_x_in_0_1(a) -> np.ndarray:
    """gemmlowp: (1 - a) / (1 + a) for a in [0, 1), FixedPoint<int32, 0>; Newton-Raphson."""
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = 1515870810 + srdhm(half_denominator, -1010580540)   # F2: 48/17 - 32/17 * d
    one_f2 = 1 << 29
    for _ in range(3):
        one_minus = one_f2 - srdhm(half_denominator, x)
        x = x + sat_mul_pot(srdhm(x, one_minus), 2)
    return sat_mul_pot(x - one_f2, 2)                          # Rescale<0>(x - F2::One())


def fixed_tanh(a, integer_bits: int = 4) -> np.ndarray:
    """gemmlowp tanh(FixedPoint<int32, integer_bits>) -> FixedPoint<int32, 0> raw."""
    a = np.asarray(a, np.int64)
    n = np.where(a < 0, a, -a)                                  # -|a|
    # neg_tanh_on_negative_values: exp of ExactMulByPot<1>(n), i.e. the same raw with one
    # more integer bit
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, integer_bits + 1))
    return np.where(a == 0, 0, np.where(a < 0, -t, t))


def logistic_table(q_in: QParams) -> tuple[int, ...]:
    """reference_integer_ops::Logistic (int8): output scale 1/256, zero point -128."""
    x, x_q4, radius = _input_q4(q_in)
    y = rdbpot(fixed_logistic(x_q4, 4), 31 - 8) - 128
    return _table(np.where(x <= -radius, -128, np.where(x >= radius, 127, y)))


def tanh_table(q_in: QParams) -> tuple[int, ...]:
    """reference_integer_ops::Tanh (int8): output scale 1/128, zero point 0."""
    x, x_q4, radius = _input_q4(q_in)
    y = rdbpot(fixed_tanh(x_q4, 4), 31 - 7)
    return _table(np.where(x <= -radius, -128, np.where(x >= radius, 127, y)))


# -- HARD_SWISH: 16-bit fixed point --------------------------------------------------------

def _div_trunc(x: np.ndarray, d: int) -> np.ndarray:
    return np.where(x >= 0, x // d, -((-x) // d))


def srdhm16(a, b) -> np.ndarray:
    """gemmlowp SaturatingRoundingDoublingHighMul<int16_t>."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    return np.where((a == b) & (a == INT16_MIN), INT16_MAX, _div_trunc(ab + nudge, 1 << 15))


def sdhm16(a, b) -> np.ndarray:
    """TFLite SaturatingDoublingHighMul<int16_t>: like srdhm16 but rounds toward zero."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    return np.where((a == b) & (a == INT16_MIN), INT16_MAX, _div_trunc(a * b, 1 << 15))


def _sat_left_shift16(x: np.ndarray, amount: int) -> np.ndarray:
    return np.clip(x * (1 << amount), INT16_MIN, INT16_MAX)


def _downscale_to_int16(m32: int) -> int:
    """DownScaleInt32ToInt16Multiplier."""
    if m32 >= INT32_MAX - (1 << 15):
        return INT16_MAX
    return (m32 + (1 << 15)) >> 16


def hard_swish_params(q_in: QParams, q_out: QParams) -> tuple[int, int, int, int]:
    """HardSwishPrepare: (output_mult_int16, output_exponent, reluish_mult_int16,
    reluish_exponent); scales in float32 as TFLM computes them."""
    hires_input_scale = _f32(1.0 / 128.0) * _f32(q_in.s)
    reluish_scale = _f32(3.0) / _f32(32768.0)
    om, oexp = quantize_multiplier(float(hires_input_scale / _f32(q_out.s)))
    rm, rexp = quantize_multiplier(float(hires_input_scale / reluish_scale))
    return _downscale_to_int16(om), oexp, _downscale_to_int16(rm), rexp


def hard_swish_table(q_in: QParams, q_out: QParams) -> tuple[int, ...]:
    """reference_ops::HardSwish<int8_t>. TFLM's Prepare refuses output exponents > 0
    (ValueError here)."""
    om16, oexp, rm16, rexp = hard_swish_params(q_in, q_out)
    if oexp > 0:
        raise ValueError(f"output multiplier exponent {oexp} > 0 (output scale too small "
                         "for the input scale); TFLite Micro refuses this model too")
    hires = (X - q_in.zp) * (1 << 7)
    preshift_out = srdhm16(hires, om16)
    reluish = hires
    if rexp > 0:
        reluish = _sat_left_shift16(reluish, rexp - 1)
    reluish = srdhm16(reluish, rm16)
    if rexp > 0:
        reluish = _sat_left_shift16(reluish, 1)
    if rexp < 0:
        reluish = rdbpot(reluish, -rexp)
    reluish = (reluish + (1 << 15)) >> 1
    out = rdbpot(sdhm16(reluish, preshift_out), -oexp) + q_out.zp
    return _table(out)


# -- RELU / RELU6 / RELU_N1_TO_1 / LEAKY_RELU: requantize with a clamp ----------------------

def relu_table(q_in: QParams, q_out: QParams, lo: float, hi: float) -> tuple[int, ...]:
    """ReluQuantized (micro/kernels/activations.h; RELU, and TFLite's RELU_N1_TO_1 with -1, 1):
    zp_out + MultiplyByQuantizedMultiplier(x - zp_in, M), M = QuantizeMultiplier(float(s_in /
    s_out)); clamped to [max(-128, zp_out + roundf(lo / s_out)), hi likewise or 127 for inf]."""
    s_out = _f32(q_out.s)
    m, s = quantize_multiplier(float(_f32(q_in.s) / s_out))
    act_min = max(-128, q_out.zp + round_half_away(float(_f32(lo) / s_out)))
    act_max = 127 if math.isinf(hi) else min(127, q_out.zp + round_half_away(
        float(_f32(hi) / s_out)))
    return _table(np.clip(requantize(X - q_in.zp, m, s) + q_out.zp, act_min, act_max))


def relu6_table(q_in: QParams) -> tuple[int, ...]:
    """Relu6Quantized: the raw input clamped to [zp_in, FloatToQuantizedType(6)] — in the
    input's quantization whatever the output's (TFLM does not requantize RELU6)."""
    six = min(127, max(-128, round_half_away(float(_f32(6.0) / _f32(q_in.s))) + q_in.zp))
    return _table(np.clip(X, q_in.zp, six))


def _signed_multiplier(real: float) -> tuple[int, int]:
    """QuantizeMultiplier of a possibly negative real: (sign * m, shift)."""
    m, s = quantize_multiplier(abs(real))
    return (-m if real < 0 else m), s


def leaky_relu_table(q_in: QParams, q_out: QParams, alpha: float) -> tuple[int, ...]:
    """QuantizeLeakyRelu (kernels/internal/reference/leaky_relu.h): x - zp_in >= 0 times
    QuantizeMultiplier(s_in / s_out), else times QuantizeMultiplier(s_in * alpha / s_out)
    (a negative alpha: the product of |multiplier|, negated); plus zp_out, clamped."""
    s_in, s_out = _f32(q_in.s), _f32(q_out.s)
    mi, si = quantize_multiplier(float(s_in / s_out))
    ma, sa = _signed_multiplier(float(s_in * _f32(alpha) / s_out))
    x = X - q_in.zp
    neg = requantize(x, abs(ma), sa)
    y = np.where(x >= 0, requantize(x, mi, si), -neg if ma < 0 else neg)
    return _table(y + q_out.zp)


# -- ELU: TFLM tabulates expm1 in float32 ---------------------------------------------------

def elu_table(q_in: QParams, q_out: QParams) -> tuple[int, ...]:
    """micro/kernels/elu.cc PopulateLookupTable: float32 dequantize, x < 0 ? exp(x) - 1 : x,
    round(y * (1 / s_out)) + zp_out, all in float32 (TfLiteRound: halves away from zero)."""
    s_in, inv = _f32(q_in.s), _f32(1.0) / _f32(q_out.s)
    d = (s_in * (X - q_in.zp).astype(np.float32)).astype(np.float32)
    t = np.where(d < 0, np.exp(d) - _f32(1.0), d).astype(np.float32)
    r = (t * inv).astype(np.float32)
    r = np.sign(r) * np.floor(np.abs(r) + _f32(0.5))
    return _table(r.astype(np.int64) + q_out.zp)


# -- RSQRT: Newton-Raphson 1/sqrt in gemmlowp fixed point -----------------------------------

def inv_sqrt_multiplier_exp(v: int) -> tuple[int, int]:
    """GetInvSqrtQuantizedMultiplierExp(v, kReverseShift) (kernels/internal/common.h): the
    IR's (qmath, shared with L2_NORMALIZATION) for one value."""
    m, s = qmath_inv_sqrt(v)
    return int(m), int(s)


def rsqrt_table(q_in: QParams, q_out: QParams) -> tuple[int, ...]:
    """RsqrtEvalQuantized (micro/kernels/elementwise.cc): M = QuantizeMultiplier(1 / double(
    sqrtf(s_in) * s_out)); x == zp_in -> 127; else 1/sqrt(x - zp_in) with 20 extra bits,
    rescaled by M, plus zp_out, clamped. TFLM refuses x < zp_in (the table holds 127)."""
    m, s = quantize_multiplier(1.0 / float(np.sqrt(_f32(q_in.s)) * _f32(q_out.s)))
    out = []
    for v in X - q_in.zp:
        if v <= 0:
            out.append(127)
            continue
        im, ish = inv_sqrt_multiplier_exp(int(v))
        data = int(requantize(1, im, ish + 20))
        out.append(int(requantize(data, m, s - 20)) + q_out.zp)
    return _table(np.array(out))
