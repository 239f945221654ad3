/*
 * tinyc_l2norm_s8.c - int8 L2 normalization (tinyc_l2norm.h).
 */
#include "tinyc_gemmlowp.h"
#include "tinyc_l2norm.h"
#include "tinyc_requant.h"

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
        tinyc_inv_sqrt_multiplier_exp(acc, &multiplier, &shift);
        for (i = 0; i < row_size; ++i) {
            const int32_t y = tinyc_requantize(input[i] + input_offset, multiplier, shift + 7);
            output[i] = tinyc_clamp_s8(y, 0, -128, 127);
        }
        input += row_size;
        output += row_size;
    }
}
