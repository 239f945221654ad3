/*
 * tinyc_l1norm_s8.c - int8 L1 normalisation over the last axis (ir/ops/l1norm.py): per row
 * S = sum |x - zp_in|, y = zp_out + round_half_away((x - zp_in) M / (S 2^(31 - shift))),
 * clamped; S = 0: zp_out.
 */
#include "tinyc_l1norm.h"

void tinyc_l1norm_s8(const tinyc_l1norm_params *params, int32_t num_rows, int32_t row_size,
                     const int8_t *input, int8_t *output)
{
    int32_t row;
    for (row = 0; row < num_rows; ++row) {
        const int8_t *x = input + (int64_t)row * row_size;
        int8_t *y = output + (int64_t)row * row_size;
        int32_t s = 0;
        int32_t i;
        uint64_t den;
        for (i = 0; i < row_size; ++i) {
            const int32_t d = (int32_t)x[i] + params->in_offset;
            s += (d < 0) ? -d : d;
        }
        den = (uint64_t)s << (31 - params->shift);
        for (i = 0; i < row_size; ++i) {
            const int32_t d = (int32_t)x[i] + params->in_offset;
            int64_t v = params->out_offset;
            if (s != 0) {
                const uint64_t num = (uint64_t)((d < 0) ? -d : d) * (uint64_t)params->multiplier;
                const int64_t q = (int64_t)((2u * num + den) / (2u * den));
                v += (d < 0) ? -q : q;
            }
            y[i] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
        }
    }
}
