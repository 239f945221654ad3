/*
 * tinyc_prelu_s16.c - 16x8 PRELU with broadcasting (TFLite Micro's
 * BroadcastPrelu4DSlow<int16_t, int8_t>): x >= 0 requantized by (in1_multiplier, in1_shift),
 * else x * (alpha + in2_offset) in int32 requantized by (out_multiplier, out_shift); clamped.
 */
#include "tinyc_nn_s16.h"
#include "tinyc_requant.h"

static int16_t tinyc_prelu16_one(const tinyc_add_params *p, int32_t x, int32_t alpha)
{
    const int32_t v = x + p->in1_offset;
    const int32_t out = (v >= 0)
        ? tinyc_requantize(v, p->in1_multiplier, p->in1_shift)
        : tinyc_requantize(tinyc_s32((uint32_t)v * (uint32_t)(alpha + p->in2_offset)),
                           p->out_multiplier, p->out_shift);
    return tinyc_clamp_s16(out, p->out_offset, p->activation.min, p->activation.max);
}

void tinyc_prelu_s16(const tinyc_add_params *params,
                     const tinyc_dims *in1_strides, const int16_t *in1,
                     const tinyc_dims *in2_strides, const int8_t *in2,
                     const tinyc_dims *output_dims, int16_t *output)
{
    const tinyc_dims *s1 = in1_strides;
    const tinyc_dims *s2 = in2_strides;
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
    for (n = 0; n < output_dims->n; ++n) {
        for (h = 0; h < output_dims->h; ++h) {
            for (w = 0; w < output_dims->w; ++w) {
                const int16_t *a = in1 + n * s1->n + h * s1->h + w * s1->w;
                const int8_t *b = in2 + n * s2->n + h * s2->h + w * s2->w;
                for (c = 0; c < output_dims->c; ++c) {
                    output[c] = tinyc_prelu16_one(params, a[c * s1->c], b[c * s2->c]);
                }
                output += output_dims->c;
            }
        }
    }
}
