/*
 * tinyc_mul_s16.c - int16 elementwise multiply with broadcasting (TFLite Micro's int16 MUL,
 * reference_integer_ops::Mul<int16_t> / BroadcastMul4DSlow, offsets 0): the int32 product
 * requantized by the output multiplier, clamped to the activation range.
 */
#include "tinyc_nn_s16.h"
#include "tinyc_requant.h"

static int16_t tinyc_mul16_one(const tinyc_add_params *p, int32_t x1, int32_t x2)
{
    const int32_t prod = (x1 + p->in1_offset) * (x2 + p->in2_offset);
    const int32_t out = tinyc_requantize(prod, p->out_multiplier, p->out_shift);
    return tinyc_clamp_s16(out, p->out_offset, p->activation.min, p->activation.max);
}

void tinyc_mul_s16(const tinyc_add_params *params,
                   const tinyc_dims *in1_strides, const int16_t *in1,
                   const tinyc_dims *in2_strides, const int16_t *in2,
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
                const int16_t *b = in2 + n * s2->n + h * s2->h + w * s2->w;
                for (c = 0; c < output_dims->c; ++c) {
                    output[c] = tinyc_mul16_one(params, a[c * s1->c], b[c * s2->c]);
                }
                output += output_dims->c;
            }
        }
    }
}
