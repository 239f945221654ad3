/*
 * tinyc_leaky_requantize_s16.c - 16x8 RELU and LEAKY_RELU (TFLite Micro's
 * ReluQuantized<int16_t> and QuantizeLeakyRelu<int16_t>, zero points 0): the non-negative
 * values requantized by (mult_pos, shift_pos), the negative ones by (mult_neg, shift_neg),
 * clamped to int16.
 */
#include "tinyc_nn_s16.h"
#include "tinyc_requant.h"

void tinyc_leaky_requantize_s16(const tinyc_leaky_requantize_params *params, int32_t size,
                                const int16_t *input, int16_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        const int32_t x = input[i];
        const int32_t y = (x >= 0) ? tinyc_requantize(x, params->mult_pos, params->shift_pos)
                                   : tinyc_requantize(x, params->mult_neg, params->shift_neg);
        output[i] = tinyc_clamp_s16(y, 0, INT16_MIN, INT16_MAX);
    }
}
