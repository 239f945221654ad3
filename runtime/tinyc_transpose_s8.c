/*
 * tinyc_transpose_s8.c - 4-D int8 transpose as a strided gather: output[n][h][w][c] =
 * input[n * s.n + h * s.h + w * s.w + c * s.c] with s = params->in_strides (the input's
 * strides permuted into output axis order, computed by the compiler).
 */
#include "tinyc_nn.h"

void tinyc_transpose_s8(const tinyc_transpose_params *params, const int8_t *input,
                        const tinyc_dims *output_dims, int8_t *output)
{
    const tinyc_dims *s = &params->in_strides;
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
    for (n = 0; n < output_dims->n; ++n) {
        for (h = 0; h < output_dims->h; ++h) {
            for (w = 0; w < output_dims->w; ++w) {
                const int8_t *in = input + n * s->n + h * s->h + w * s->w;
                for (c = 0; c < output_dims->c; ++c) {
                    output[c] = in[c * s->c];
                }
                output += output_dims->c;
            }
        }
    }
}
