/*
 * tinyc_add_s8.c - int8 elementwise add with numpy broadcasting (TFLite int8 add):
 * both inputs are offset, shifted left by left_shift and rescaled to a common scale, summed,
 * requantized to the output and clamped (TFLite Micro reference_integer_ops::Add).
 */
#include "tinyc_nn.h"
#include "tinyc_requant.h"

static int8_t tinyc_add_one(const tinyc_add_params *p, int32_t x1, int32_t x2)
{
    const int32_t s1 = tinyc_shl_wrap(x1 + p->in1_offset, p->left_shift);
    const int32_t s2 = tinyc_shl_wrap(x2 + p->in2_offset, p->left_shift);
    const int32_t r1 = tinyc_requantize(s1, p->in1_multiplier, p->in1_shift);
    const int32_t r2 = tinyc_requantize(s2, p->in2_multiplier, p->in2_shift);
    const int32_t sum = tinyc_add_wrap(r1, r2);
    const int32_t out = tinyc_requantize(sum, p->out_multiplier, p->out_shift);
    return tinyc_clamp_s8(out, p->out_offset, p->activation.min, p->activation.max);
}

/* One innermost row: n elements, input strides a_step / b_step (0 = broadcast). */
static void tinyc_add_row(const tinyc_add_params *p, const int8_t *a, int32_t a_step,
                          const int8_t *b, int32_t b_step, int8_t *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        out[i] = tinyc_add_one(p, a[i * a_step], b[i * b_step]);
    }
}

void tinyc_add_s8(const tinyc_add_params *params,
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
                tinyc_add_row(params, in1 + i1, s1->c, in2 + i2, s2->c, output, output_dims->c);
                output += output_dims->c;
            }
        }
    }
}
