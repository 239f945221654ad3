/*
 * tinyc_l2norm_s8.c - int8 L2 normalization (tinyc_l2norm.h).
 */
#include "tinyc_l2norm.h"
#include "tinyc_requant.h"

/* gemmlowp SaturatingRoundingMultiplyByPOT<exponent>, exponent in [-31, 30]. */
static int32_t tinyc_l2_sat_pot(int32_t x, int32_t exponent)
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

static int32_t tinyc_l2_clz(uint32_t x)
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

/* TFLite GetInvSqrtQuantizedMultiplierExp(input, kReverseShift = -1). */
static void tinyc_l2_inv_sqrt(int32_t input, int32_t *multiplier, int32_t *shift)
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
    pairs = (tinyc_l2_clz((uint32_t)input) - 1) / 2 - 1;
    s -= pairs;
    input = tinyc_shl_wrap(input, 2 * pairs);
    half_input = tinyc_l2_sat_pot(input >> 1, -1);
    for (i = 0; i < 5; ++i) {
        const int32_t x3 = tinyc_l2_sat_pot(tinyc_srdhm(tinyc_srdhm(x, x), x), 6);
        const int32_t a = tinyc_srdhm(half_three, x);
        const int32_t b = tinyc_srdhm(half_input, x3);
        x = tinyc_l2_sat_pot(tinyc_s32((uint32_t)a - (uint32_t)b), 3);
    }
    x = tinyc_srdhm(x, 1518500250);
    if (s < 0) {
        x = tinyc_shl_wrap(x, -s);
        s = 0;
    }
    *multiplier = x;
    *shift = -s;
}

void tinyc_l2norm_s8(int32_t num_rows, int32_t row_size, int32_t input_offset,
                     const int8_t *input, int8_t *output)
{
    int32_t r;
    int32_t i;
    for (r = 0; r < num_rows; ++r) {
        int32_t acc = 0;
        int32_t multiplier;
        int32_t shift;
        for (i = 0; i < row_size; ++i) {
            const int32_t v = input[i] + input_offset;
            acc = tinyc_add_wrap(acc, v * v);
        }
        tinyc_l2_inv_sqrt(acc, &multiplier, &shift);
        for (i = 0; i < row_size; ++i) {
            const int32_t y = tinyc_requantize(input[i] + input_offset, multiplier, shift + 7);
            output[i] = tinyc_clamp_s8(y, 0, -128, 127);
        }
        input += row_size;
        output += row_size;
    }
}
