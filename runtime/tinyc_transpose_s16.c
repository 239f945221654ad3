/*
 * tinyc_transpose_s16.c - 4-D int16 strided gather (transpose, slice, strided slice of
 * 16x8 models): output[n][h][w][c] = input[n * s.n + h * s.h + w * s.w + c * s.c] with
 * s = params->in_strides in elements. TFLM copies the raw values (no requantization).
 */
#include "tinyc_move_s16.h"

void tinyc_transpose_s16(const tinyc_transpose_params *params, const int16_t *input,
                         const tinyc_dims *output_dims, int16_t *output)
{
    const tinyc_dims *s = &params->in_strides;
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
    for (n = 0; n < output_dims->n; ++n) {
        for (h = 0; h < output_dims->h; ++h) {
            for (w = 0; w < output_dims->w; ++w) {
                const int16_t *in = input + n * s->n + h * s->h + w * s->w;
                for (c = 0; c < output_dims->c; ++c) {
                    output[c] = in[c * s->c];
                }
                output += output_dims->c;
            }
        }
    }
}
