/*
 * tinyc_minmax_s16.c - int16 minimum / maximum with numpy broadcasting (16x8 models; TFLM
 * maximum_minimum.cc compares the raw int16 values, operands quantized as the output).
 * Strides in elements, 0 along a broadcast axis.
 */
#include "tinyc_move_s16.h"

static void tinyc_minmax_s16(int take_max, const tinyc_dims *s1, const int16_t *in1,
                             const tinyc_dims *s2, const int16_t *in2,
                             const tinyc_dims *output_dims, int16_t *output)
{
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
    for (n = 0; n < output_dims->n; ++n) {
        for (h = 0; h < output_dims->h; ++h) {
            for (w = 0; w < output_dims->w; ++w) {
                const int16_t *a = in1 + (n * s1->n + h * s1->h + w * s1->w);
                const int16_t *b = in2 + (n * s2->n + h * s2->h + w * s2->w);
                for (c = 0; c < output_dims->c; ++c) {
                    const int16_t x1 = a[c * s1->c];
                    const int16_t x2 = b[c * s2->c];
                    output[c] = take_max ? (x1 > x2 ? x1 : x2) : (x1 < x2 ? x1 : x2);
                }
                output += output_dims->c;
            }
        }
    }
}

void tinyc_minimum_s16(const tinyc_dims *in1_strides, const int16_t *in1,
                       const tinyc_dims *in2_strides, const int16_t *in2,
                       const tinyc_dims *output_dims, int16_t *output)
{
    tinyc_minmax_s16(0, in1_strides, in1, in2_strides, in2, output_dims, output);
}

void tinyc_maximum_s16(const tinyc_dims *in1_strides, const int16_t *in1,
                       const tinyc_dims *in2_strides, const int16_t *in2,
                       const tinyc_dims *output_dims, int16_t *output)
{
    tinyc_minmax_s16(1, in1_strides, in1, in2_strides, in2, output_dims, output);
}
