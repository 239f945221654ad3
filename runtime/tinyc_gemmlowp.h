/*
 * tinyc_gemmlowp.h - the gemmlowp fixed-point functions TFLite's softmax, log_softmax and
 * L2 normalization use, bit for bit (gemmlowp/fixedpoint/fixedpoint.h): saturating multiply
 * by a power of two, exp on negative values (Q5.26 -> Q0.31), 1 / (1 + x) for x in [0, 1),
 * count of leading zeros.
 * Mirrored in tinyc/ir/qmath.py.
 */
#ifndef TINYC_GEMMLOWP_H
#define TINYC_GEMMLOWP_H

#include <stdint.h>

#include "tinyc_requant.h"

/* gemmlowp SaturatingRoundingMultiplyByPOT<exponent>, exponent in [-31, 30]. */
static inline int32_t tinyc_sat_mul_pot(int32_t x, int32_t exponent)
{
    int32_t threshold;
    if (exponent <= 0) {
        return tinyc_rdbpot(x, -exponent);
    }
    threshold = (int32_t)((UINT32_C(1) << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return tinyc_shl_wrap(x, exponent);
}

/* exp(a) for a in [-1/4, 0), Q0.31 in and out (gemmlowp Taylor series around -1/8). */
static inline int32_t tinyc_exp_on_interval(int32_t a)
{
    const int32_t constant_term = 1895147668;       /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883;
    const int32_t x = a + (INT32_C(1) << 28);
    const int32_t x2 = tinyc_srdhm(x, x);
    const int32_t x3 = tinyc_srdhm(x2, x);
    const int32_t x4 = tinyc_srdhm(x2, x2);
    const int32_t x4_over_4 = tinyc_sat_mul_pot(x4, -2);
    const int32_t poly =
        tinyc_sat_mul_pot(tinyc_srdhm(x4_over_4 + x3, constant_1_over_3) + x2, -1);
    return constant_term + tinyc_srdhm(constant_term, x + poly);
}

/* gemmlowp exp_on_negative_values: a in Q5.26 (a <= 0), result Q0.31. */
static inline int32_t tinyc_exp_on_negative_values(int32_t a)
{
    static const int32_t barrel_multiplier[7] = {
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242
    };
    const int32_t one_quarter = INT32_C(1) << 24;
    const int32_t a_mod = (int32_t)((uint32_t)a & (uint32_t)(one_quarter - 1)) - one_quarter;
    const uint32_t remainder = (uint32_t)a_mod - (uint32_t)a;
    int32_t result = tinyc_exp_on_interval(tinyc_sat_mul_pot(a_mod, 5));
    int32_t k;
    for (k = 0; k < 7; ++k) {                   /* bits 2^-2 .. 2^4 of -a */
        if ((remainder & (UINT32_C(1) << (24 + k))) != 0u) {
            result = tinyc_srdhm(result, barrel_multiplier[k]);
        }
    }
    return (a == 0) ? INT32_MAX : result;
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: Newton-Raphson in Q2.29, result Q0.31. */
static inline int32_t tinyc_one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + ((sum >= 0) ? 1 : -1)) / 2);
    int32_t x = 1515870810 + tinyc_srdhm(half_denominator, -1010580540);
    int32_t i;
    for (i = 0; i < 3; ++i) {
        const int32_t one_minus = (INT32_C(1) << 29) - tinyc_srdhm(half_denominator, x);
        x = x + tinyc_sat_mul_pot(tinyc_srdhm(x, one_minus), 2);
    }
    return tinyc_sat_mul_pot(x, 1);
}

static inline int32_t tinyc_clz32(uint32_t x)
{
    int32_t n = 0;
    if (x == 0u) {
        return 32;
    }
    while ((x & 0x80000000u) == 0u) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* TFLite GetInvSqrtQuantizedMultiplierExp(input, kReverseShift = -1): 1/sqrt(input) =
 * multiplier * 2^(shift - 31) (L2_NORMALIZATION, RSQRT). */
static inline void tinyc_inv_sqrt_multiplier_exp(int32_t input, int32_t *multiplier, int32_t *shift)
{
    const int32_t half_three = (1 << 28) + (1 << 27);
    int32_t s = 11;
    int32_t pairs;
    int32_t half_input;
    int32_t x = 1 << 28;
    int32_t i;
    if (input <= 1) {
        *multiplier = INT32_MAX;
        *shift = 0;
        return;
    }
    while (input >= (1 << 29)) {
        input /= 4;
        ++s;
    }
    pairs = (tinyc_clz32((uint32_t)input) - 1) / 2 - 1;
    s -= pairs;
    input = tinyc_shl_wrap(input, 2 * pairs);
    half_input = tinyc_sat_mul_pot(input >> 1, -1);
    for (i = 0; i < 5; ++i) {
        const int32_t x3 = tinyc_sat_mul_pot(tinyc_srdhm(tinyc_srdhm(x, x), x), 6);
        const int32_t a = tinyc_srdhm(half_three, x);
        const int32_t b = tinyc_srdhm(half_input, x3);
        x = tinyc_sat_mul_pot(tinyc_s32((uint32_t)a - (uint32_t)b), 3);
    }
    x = tinyc_srdhm(x, 1518500250);
    if (s < 0) {
        x = tinyc_shl_wrap(x, -s);
        s = 0;
    }
    *multiplier = x;
    *shift = -s;
}

#endif /* TINYC_GEMMLOWP_H */
