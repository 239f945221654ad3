"""Fixed-point arithmetic of TFLite Micro / CMSIS-NN / gemmlowp, bit for bit, in numpy.

Every function takes int arrays (or ints) and computes in int64 the exact int32 results that
the C reference code produces. This is the arithmetic the C runtime must reproduce
(runtime/tinyc_requant.h); tests compare the two on random and edge-case operands.
"""
from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def _i64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def wrap_int32(x) -> np.ndarray:
    """Two's-complement wrap of int64 values to int32 range (what C does on overflow)."""
    x = _i64(x)
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _div_trunc(x: np.ndarray, pot: int) -> np.ndarray:
    """C-style x / 2**pot (truncating toward zero) for int64 x."""
    return np.where(x >= 0, x >> pot, -((-x) >> pot))


def round_half_away(x: float) -> int:
    """std::round: halves away from zero."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier: real ≈ m * 2**(shift - 31), m a Q31 int32. Returns (m, shift)."""
    if real == 0.0:
        return 0, 0
    if not math.isfinite(real) or real < 0:
        raise ValueError(f"quantize_multiplier: multiplier must be finite and >= 0, got {real}")
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    if shift > 30:
        shift, q_fixed = 30, (1 << 31) - 1
    return int(q_fixed), int(shift)


def srdhm(a, b) -> np.ndarray:
    """gemmlowp SaturatingRoundingDoublingHighMul on int32 operands."""
    a, b = _i64(a), _i64(b)
    overflow = (a == b) & (a == INT32_MIN)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    high = _div_trunc(ab + nudge, 31)
    return np.where(overflow, INT32_MAX, high)


def rdbpot(x, exponent) -> np.ndarray:
    """gemmlowp RoundingDivideByPOT: x / 2**exponent rounded half away from zero."""
    x, exponent = _i64(x), _i64(exponent)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def requantize(acc, multiplier, shift) -> np.ndarray:
    """TFLite MultiplyByQuantizedMultiplier (double rounding) = CMSIS-NN arm_nn_requantize.

    acc, multiplier and shift broadcast together (per-channel arrays allowed).
    """
    shift = _i64(shift)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    return rdbpot(srdhm(wrap_int32(_i64(acc) << left), multiplier), right)


def reduce_multiplier(multiplier) -> np.ndarray:
    """TFLite's Q31 -> Q15 multiplier of the 64-bit requantization (rounded, capped at 0x7FFF)."""
    m = _i64(multiplier)
    return np.where(m < 0x7FFF0000, (m + (1 << 15)) >> 16, 0x7FFF)


def requantize_s64(acc, multiplier, shift) -> np.ndarray:
    """TFLite MultiplyByQuantizedMultiplier(int64_t x, ...) (the 16x8 kernels; the same in the
    single- and double-rounding builds) = CMSIS-NN arm_nn_requantize_s64:
    round-half-up(acc * reduced / 2**(15 - shift)), narrowed to int32. |acc| < 2**47, shift < 8.
    """
    total = 15 - _i64(shift)
    prod = _i64(acc) * reduce_multiplier(multiplier) + (np.int64(1) << (total - 1))
    return wrap_int32(prod >> total)


def sat_mul_pot(x, exponent: int) -> np.ndarray:
    """gemmlowp SaturatingRoundingMultiplyByPOT<exponent> on int32 raw values."""
    x = _i64(x)
    if exponent <= 0:
        return rdbpot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    out = x << exponent
    out = np.where(x > threshold, INT32_MAX, out)
    return np.where(x < -threshold, INT32_MIN, out)


def rounding_half_sum(a, b) -> np.ndarray:
    s = _i64(a) + _i64(b)
    return _div_trunc_any(s + np.where(s >= 0, 1, -1), 2)


def _div_trunc_any(x: np.ndarray, d: int) -> np.ndarray:
    q = np.abs(x) // d
    return np.where(x >= 0, q, -q)


# --- gemmlowp fixed-point exp and reciprocal (used by int8 softmax) --------------------

def _exp_on_interval_neg_quarter_to_0(a: np.ndarray) -> np.ndarray:
    """exp(a) for a in [-1/4, 0), FixedPoint<int32, 0> in and out."""
    constant_term = 1895147668           # exp(-1/8)
    constant_1_over_3 = 715827883
    x = a + (1 << 28)                    # a + 1/8
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = sat_mul_pot(x4, -2)
    poly = sat_mul_pot(srdhm(x4_over_4 + x3, constant_1_over_3) + x2, -1)
    return constant_term + srdhm(constant_term, x + poly)


_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a, integer_bits: int = 5) -> np.ndarray:
    """gemmlowp exp_on_negative_values: FixedPoint<int32, integer_bits> -> FixedPoint<int32, 0>."""
    a = _i64(a)
    frac_bits = 31 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    a_mod_quarter_minus_quarter = (a & (one_quarter - 1)) - one_quarter
    result = _exp_on_interval_neg_quarter_to_0(sat_mul_pot(a_mod_quarter_minus_quarter,
                                                           integer_bits))
    remainder = a_mod_quarter_minus_quarter - a
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = 1 << (frac_bits + exponent)
            result = np.where((remainder & bit) != 0, srdhm(result, multiplier), result)
    return np.where(a == 0, INT32_MAX, result)


def one_over_one_plus_x_for_x_in_0_1(a) -> np.ndarray:
    """gemmlowp: 1 / (1 + a) for a in [0, 1), FixedPoint<int32, 0>; Newton-Raphson."""
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = 1515870810 + srdhm(half_denominator, -1010580540)   # F2: 48/17 - 32/17 * d
    one_f2 = 1 << 29
    for _ in range(3):
        half_denominator_times_x = srdhm(half_denominator, x)
        one_minus = one_f2 - half_denominator_times_x
        x = x + sat_mul_pot(srdhm(x, one_minus), 2)
    return sat_mul_pot(x, 1)


def count_leading_zeros32(x) -> np.ndarray:
    x = _i64(x) & 0xFFFFFFFF
    n = np.full(x.shape, 32, dtype=np.int64)
    for b in range(32):
        n = np.where((x >> b) != 0, 31 - b, n)
    return n


def get_reciprocal(x, x_integer_digits: int) -> tuple[np.ndarray, np.ndarray]:
    """TFLite GetReciprocal: returns (FixedPoint<int32,0> raw, num_bits_over_unit)."""
    x = _i64(x)
    headroom_plus_one = count_leading_zeros32(x)
    num_bits_over_unit = x_integer_digits - headroom_plus_one
    shifted = (((x & 0xFFFFFFFF) << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31)
    return one_over_one_plus_x_for_x_in_0_1(wrap_int32(shifted)), num_bits_over_unit


def preprocess_softmax_scaling(beta: float, input_scale: float,
                               input_integer_bits: int = 5) -> tuple[int, int]:
    """TFLite PreprocessSoftmaxScaling -> (input_multiplier, input_left_shift)."""
    max_real = (1 << 31) - 1.0
    real = min(beta * input_scale * (1 << (31 - input_integer_bits)), max_real)
    return quantize_multiplier(real)


def calculate_input_radius(input_integer_bits: int, input_left_shift: int,
                           total_signed_bits: int = 31) -> int:
    max_input_rescaled = (1.0 * ((1 << input_integer_bits) - 1)
                          * (1 << (total_signed_bits - input_integer_bits))
                          / (1 << input_left_shift))
    return int(math.floor(max_input_rescaled))


# -- tables: int8 -> int8 functions tabulated by value + 128 (the lut op) ------------------------

def f64(x: float) -> float:
    """A scale as TFLite stores it (float32), widened to double."""
    return float(np.float32(x))


def requant_table(q_in, q_out) -> tuple[int, ...]:
    """int8 → int8 requantization as TFLite's Requantize, tabulated (q_in, q_out: QParams)."""
    m, s = quantize_multiplier(f64(q_in.s) / f64(q_out.s))
    x = np.arange(-128, 128, dtype=np.int64) - q_in.zp
    return tuple(int(v) for v in np.clip(requantize(x, m, s) + q_out.zp, -128, 127))


def float_table(fn, attrs: dict, q_in, q_out) -> tuple[int, ...]:
    """Any float function fn(x, attrs) of one int8 tensor, tabulated:
    round(f(x) / s_out) + zp_out (q_in, q_out: QParams)."""
    x = (np.arange(-128, 128, dtype=np.float64) - q_in.zp) * f64(q_in.s)
    y = np.asarray(fn(x, attrs), dtype=np.float64) / f64(q_out.s)
    return tuple(int(np.clip(round_half_away(v) + q_out.zp, -128, 127)) for v in y)


def inv_sqrt_multiplier_exp(v) -> tuple[np.ndarray, np.ndarray]:
    """TFLite GetInvSqrtQuantizedMultiplierExp(v, kReverseShift) (kernels/internal/common.h),
    elementwise on v >= 0: (multiplier, shift) with 1/sqrt(v) = multiplier * 2^(shift - 31);
    gemmlowp Newton-Raphson in FixedPoint<int32, 3>, 5 steps; v <= 1 gives (INT32_MAX, 0)."""
    v = _i64(v)
    small = v <= 1
    v = np.where(small, 2, v)
    shift = np.full(v.shape, 11, np.int64)
    while (v >= (1 << 29)).any():
        big = v >= (1 << 29)
        v, shift = np.where(big, v // 4, v), shift + big
    pairs = (count_leading_zeros32(v) - 1) // 2 - 1
    shift, v = shift - pairs, v << (2 * pairs)
    half_input = sat_mul_pot(v >> 1, -1)
    half_three = (1 << 28) + (1 << 27)
    x = np.full(v.shape, 1 << 28, np.int64)                   # F3::One()
    for _ in range(5):
        x3 = sat_mul_pot(srdhm(srdhm(x, x), x), 6)            # Rescale<3>(F9)
        x = sat_mul_pot(srdhm(half_three, x) - srdhm(half_input, x3), 3)
    x = srdhm(x, 1518500250)                                  # * sqrt(2) / 2
    neg = shift < 0
    x, shift = np.where(neg, x << np.where(neg, -shift, 0), x), np.where(neg, 0, shift)
    return np.where(small, INT32_MAX, x), np.where(small, 0, -shift)


def div_round_half_even(num, den):
    """num / den (den > 0) rounded to the nearest integer, ties to even: ONNX Runtime's
    rounding of an exact rational (runtime/tinyc_round_even_s8.c tinyc_div_round_even64)."""
    q, r = np.divmod(np.asarray(num, np.int64), np.asarray(den, np.int64))
    return q + ((2 * r > den) | ((2 * r == den) & (q % 2 != 0)))


def mul_round_half_even(acc, multiplier: int, shift: int):
    """acc * multiplier * 2**(shift - 31) rounded half to even with one rounding (64-bit
    product, no intermediate rounding; shift >= -31): ONNX Runtime's float requantization of
    an average, exact where TFLM's MultiplyByQuantizedMultiplier rounds twice."""
    return div_round_half_even(np.asarray(acc, np.int64) * int(multiplier),
                               np.int64(1) << np.int64(31 - shift))


def float_requant_table(q_in, q_out) -> tuple[int, ...]:
    """int8 -> int8 requantization as ONNX Runtime runs Q(DQ(x)), tabulated: float32
    (x - zp_in) * s_in, divided by s_out in float32, rounded half to even, + zp_out, saturated
    (bit-exact with ORT's DQ -> Concat -> Q; TFLite's Requantize differs on up to a quarter of
    the values when s_in / s_out is a short fraction)."""
    x = (np.arange(-128, 128) - q_in.zp).astype(np.float32) * np.float32(q_in.s)
    y = np.rint(x / np.float32(q_out.s)).astype(np.int64) + q_out.zp
    return tuple(int(v) for v in np.clip(y, -128, 127))


# -- ONNX Runtime's float32 requantization (QLinearConv, QGemm, QLinearMatMul) ---------------
# MLAS MlasRequantizeOutput: y = clamp(rint(float32(acc + bias) * scale) + zero point), in IEEE
# float32, rounding half to even; scale = float32(float32(x_scale * w_scale[c]) / y_scale)
# (QLinearConv::ComputeOutputScale; QGemm's alpha * a_scale * b_scale / y_scale with alpha 1).
# The IR keeps the scale as integers: scale == ort_mult * 2^ort_exp, ort_mult the 24-bit
# significand (2^23 <= ort_mult < 2^24) of a normal float32.

def ort_output_scale(x_scale: float, w_scale: float, y_scale: float) -> np.float32:
    """ORT's float32 output scale of a QLinearConv / QGemm / QLinearMatMul channel."""
    f = np.float32
    return f(f(f(x_scale) * f(w_scale)) / f(y_scale))


def f32_parts(scale) -> tuple[int, int]:
    """(m, e) with float32 scale == m * 2^e exactly, 2^23 <= m < 2^24 (a normal float32 > 0)."""
    s = np.float32(scale)
    if not (np.isfinite(s) and s >= np.finfo(np.float32).tiny):
        raise ValueError(f"ORT output scale {s!r} is not a positive normal float32")
    fr, e = math.frexp(float(s))                 # s = fr * 2^e, 0.5 <= fr < 1 (exact)
    return int(fr * (1 << 24)), int(e) - 24


def ort_requantize(acc, mult, exp) -> np.ndarray:
    """rint(float32(acc) * float32(mult * 2^exp)) as ONNX Runtime computes it (numpy float32 is
    IEEE single precision: int -> float32 and the product round to nearest even), saturated to
    int32. acc int (int32 range), mult/exp per channel (broadcast on the last axis)."""
    scale = np.ldexp(np.asarray(mult, np.float64), np.asarray(exp, np.int64)).astype(np.float32)
    with np.errstate(over="ignore"):             # a float32 overflow is inf, then saturated
        v = np.asarray(acc, np.int64).astype(np.float32) * scale
    v = np.clip(np.rint(v.astype(np.float64)), -2.0 ** 31, 2.0 ** 31 - 1)
    return v.astype(np.int64)

