/*
 * tinyc_mul_s8.c - int8 elementwise multiply with numpy broadcasting (TFLite int8 mul):
 * out = clamp(requantize((x1 + in1_offset) * (x2 + in2_offset), out_multiplier, out_shift)
 *             + out_offset)  (TFLite Micro reference_integer_ops::Mul).
 */
#include "tinyc_nn.h"
#include "tinyc_requant.h"

#ifndef TINYC_MUL_REQUANT       /* tinyc_mul_ort_s8.c compiles these loops with ORT's */
#define TINYC_MUL_REQUANT tinyc_requantize
#endif

/* One innermost row: n elements, input strides a_step / b_step (0 = broadcast). */
static void tinyc_mul_row(const tinyc_mul_params *p, const int8_t *a, int32_t a_step,
                          const int8_t *b, int32_t b_step, int8_t *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t x1 = (int32_t)a[i * a_step] + p->in1_offset;
        const int32_t x2 = (int32_t)b[i * b_step] + p->in2_offset;
        const int32_t prod = x1 * x2;
        const int32_t y = TINYC_MUL_REQUANT(prod, p->out_multiplier, p->out_shift);
        out[i] = tinyc_clamp_s8(y, p->out_offset, p->activation.min, p->activation.max);
    }
}

void tinyc_mul_s8(const tinyc_mul_params *params,
                  const tinyc_dims *in1_strides, const int8_t *in1,
                  const tinyc_dims *in2_strides, const int8_t *in2,
                  const tinyc_dims *output_dims, int8_t *output)
{
    const tinyc_dims *s1 = in1_strides;
    const tinyc_dims *s2 = in2_strides;
    int32_t n;
    int32_t h;
    int32_t w;
    for (n = 0; n < output_dims->n; ++n) {
        for (h = 0; h < output_dims->h; ++h) {
            for (w = 0; w < output_dims->w; ++w) {
                const int32_t i1 = n * s1->n + h * s1->h + w * s1->w;
                const int32_t i2 = n * s2->n + h * s2->h + w * s2->w;
                tinyc_mul_row(params, in1 + i1, s1->c, in2 + i2, s2->c, output, output_dims->c);
                output += output_dims->c;
            }
        }
    }
}
