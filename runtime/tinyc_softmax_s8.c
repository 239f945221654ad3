/*
 * tinyc_softmax_s8.c - int8 softmax over the last axis, TFLite's fixed-point algorithm
 * (reference_ops::Softmax for int8): for each x with x - max >= diff_min,
 *   e = exp(srdhm((x - max) << input_left_shift, input_multiplier))   (gemmlowp, Q5.26 -> Q0.31)
 *   sum = sum of e / 2^12;  y = e * (1 / sum) / 2^23...  rounded, minus 128, clamped;
 * other elements give -128.  Output scale 1/256, zero point -128.  Bit-exact with
 * tinyc/ir/qmath.py (exp_on_negative_values, get_reciprocal).
 */
#include "tinyc_nn.h"
#include "tinyc_gemmlowp.h"
#include "tinyc_requant.h"

#define TINYC_SOFTMAX_ACC_BITS 12   /* integer bits of the sum of exps */

/* RoundingDivideByPOT for exponents up to 35 (x / 2^e rounds to 0 or -1 past 31). */
static int32_t tinyc_rdbpot_wide(int32_t x, int32_t exponent)
{
    if (exponent <= 31) {
        return tinyc_rdbpot(x, exponent);
    }
    return (exponent == 32 && x == INT32_MIN) ? -1 : 0;
}

/* TFLite GetReciprocal of a Q12.19 sum: 1 / sum = result * 2^-bits_over_unit (Q0.31). */
static int32_t tinyc_reciprocal(uint32_t sum, int32_t *bits_over_unit)
{
    const int32_t headroom_plus_one = tinyc_clz32(sum);
    const uint32_t shifted = (headroom_plus_one < 32) ? (sum << headroom_plus_one) : 0u;
    *bits_over_unit = TINYC_SOFTMAX_ACC_BITS - headroom_plus_one;
    return tinyc_one_over_one_plus_x(tinyc_s32(shifted - 0x80000000u));
}

static int32_t tinyc_softmax_exp(const tinyc_softmax_params *p, int32_t diff)
{
    const int32_t scaled = tinyc_shl_wrap(diff, p->input_left_shift);
    return tinyc_exp_on_negative_values(tinyc_srdhm(scaled, p->input_multiplier));
}

static void tinyc_softmax_row(const tinyc_softmax_params *p, const int8_t *in, int8_t *out,
                              int32_t n)
{
    int32_t max = INT8_MIN;
    uint32_t sum = 0u;                          /* wraps like the int64 sum taken mod 2^32 */
    int32_t scale;
    int32_t bits_over_unit;
    int32_t i;
    for (i = 0; i < n; ++i) {
        max = (in[i] > max) ? in[i] : max;
    }
    for (i = 0; i < n; ++i) {
        const int32_t diff = (int32_t)in[i] - max;
        if (diff >= p->diff_min) {
            sum += (uint32_t)tinyc_rdbpot(tinyc_softmax_exp(p, diff), TINYC_SOFTMAX_ACC_BITS);
        }
    }
    scale = tinyc_reciprocal(sum, &bits_over_unit);
    for (i = 0; i < n; ++i) {
        const int32_t diff = (int32_t)in[i] - max;
        int32_t y = 0;
        if (diff >= p->diff_min) {
            y = tinyc_rdbpot_wide(tinyc_srdhm(scale, tinyc_softmax_exp(p, diff)),
                                  bits_over_unit + 31 - 8);
        }
        out[i] = (diff >= p->diff_min) ? tinyc_clamp_s8(y, -128, -128, 127) : (int8_t)-128;
    }
}

void tinyc_softmax_s8(const tinyc_softmax_params *params, int32_t num_rows, int32_t row_size,
                      const int8_t *input, int8_t *output)
{
    int32_t r;
    for (r = 0; r < num_rows; ++r) {
        tinyc_softmax_row(params, input + r * row_size, output + r * row_size, row_size);
    }
}

/* The int8 -> int16 row: the same exps and reciprocal, the final shift 16 bits less (TFLite's
 * exponent num_bits_over_unit + 31 - 16), offset -32768 and the int16 range. */
static void tinyc_softmax_row_s16(const tinyc_softmax_params *p, const int8_t *in,
                                  int16_t *out, int32_t n)
{
    int32_t max = INT8_MIN;
    uint32_t sum = 0u;
    int32_t scale;
    int32_t bits_over_unit;
    int32_t i;
    for (i = 0; i < n; ++i) {
        max = (in[i] > max) ? in[i] : max;
    }
    for (i = 0; i < n; ++i) {
        const int32_t diff = (int32_t)in[i] - max;
        if (diff >= p->diff_min) {
            sum += (uint32_t)tinyc_rdbpot(tinyc_softmax_exp(p, diff), TINYC_SOFTMAX_ACC_BITS);
        }
    }
    scale = tinyc_reciprocal(sum, &bits_over_unit);
    for (i = 0; i < n; ++i) {
        const int32_t diff = (int32_t)in[i] - max;
        int32_t y = INT16_MIN;
        if (diff >= p->diff_min) {
            y = tinyc_rdbpot_wide(tinyc_srdhm(scale, tinyc_softmax_exp(p, diff)),
                                  bits_over_unit + 31 - 16) + INT16_MIN;
            y = (y < INT16_MIN) ? INT16_MIN : ((y > INT16_MAX) ? INT16_MAX : y);
        }
        out[i] = (int16_t)y;
    }
}

void tinyc_softmax_s8_s16(const tinyc_softmax_params *params, int32_t num_rows,
                          int32_t row_size, const int8_t *input, int16_t *output)
{
    int32_t r;
    for (r = 0; r < num_rows; ++r) {
        tinyc_softmax_row_s16(params, input + r * row_size, output + r * row_size, row_size);
    }
}
