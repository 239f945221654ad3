/*
 * tinyc_l2norm_s8.c - int8 L2 normalization (tinyc_l2norm.h).
 */
#include "tinyc_gemmlowp.h"
#include "tinyc_l2norm.h"
#include "tinyc_requant.h"

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
