/*
 * tinyc_binary_s8.c - int8 sub, squared_difference, prelu, minimum, maximum with numpy
 * broadcasting (tinyc_binary.h; TFLite Micro sub, squared_difference, prelu,
 * maximum_minimum reference kernels).
 */
#include "tinyc_binary.h"
#include "tinyc_requant.h"

typedef int8_t (*tinyc_binary_fn)(const tinyc_add_params *p, int32_t x1, int32_t x2);

/* a - b modulo 2^32. */
static int32_t tinyc_sub_wrap(int32_t a, int32_t b)
{
    return tinyc_s32((uint32_t)a - (uint32_t)b);
}

/* Both inputs offset, shifted left and rescaled to the common scale (TFLM add / sub). */
static int32_t tinyc_rescaled_diff(const tinyc_add_params *p, int32_t x1, int32_t x2)
{
    const int32_t s1 = tinyc_shl_wrap(x1 + p->in1_offset, p->left_shift);
    const int32_t s2 = tinyc_shl_wrap(x2 + p->in2_offset, p->left_shift);
    const int32_t r1 = tinyc_requantize(s1, p->in1_multiplier, p->in1_shift);
    const int32_t r2 = tinyc_requantize(s2, p->in2_multiplier, p->in2_shift);
    return tinyc_sub_wrap(r1, r2);
}

static int8_t tinyc_sub_one(const tinyc_add_params *p, int32_t x1, int32_t x2)
{
    const int32_t out = tinyc_requantize(tinyc_rescaled_diff(p, x1, x2), p->out_multiplier,
                                         p->out_shift);
    return tinyc_clamp_s8(out, p->out_offset, p->activation.min, p->activation.max);
}

static int8_t tinyc_squared_difference_one(const tinyc_add_params *p, int32_t x1, int32_t x2)
{
    /* |diff| < 2^15 with left shift 7: the square fits in int32 */
    const int32_t diff = tinyc_rescaled_diff(p, x1, x2);
    const int32_t out = tinyc_requantize(diff * diff, p->out_multiplier, p->out_shift);
    return tinyc_clamp_s8(out, p->out_offset, p->activation.min, p->activation.max);
}

static int8_t tinyc_prelu_one(const tinyc_add_params *p, int32_t x, int32_t alpha)
{
    const int32_t v = x + p->in1_offset;
    int32_t out;
    if (v >= 0) {
        out = tinyc_requantize(v, p->in1_multiplier, p->in1_shift);
    } else {
        out = tinyc_requantize(v * (alpha + p->in2_offset), p->out_multiplier, p->out_shift);
    }
    return tinyc_clamp_s8(out, p->out_offset, p->activation.min, p->activation.max);
}

static int8_t tinyc_minimum_one(const tinyc_add_params *p, int32_t x1, int32_t x2)
{
    (void)p;
    return (int8_t)(x1 < x2 ? x1 : x2);
}

static int8_t tinyc_maximum_one(const tinyc_add_params *p, int32_t x1, int32_t x2)
{
    (void)p;
    return (int8_t)(x1 > x2 ? x1 : x2);
}

static void tinyc_binary_s8(tinyc_binary_fn fn, const tinyc_add_params *params,
                            const tinyc_dims *s1, const int8_t *in1,
                            const tinyc_dims *s2, const int8_t *in2,
                            const tinyc_dims *output_dims, int8_t *output)
{
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
    for (n = 0; n < output_dims->n; ++n) {
        for (h = 0; h < output_dims->h; ++h) {
            for (w = 0; w < output_dims->w; ++w) {
                const int8_t *a = in1 + (n * s1->n + h * s1->h + w * s1->w);
                const int8_t *b = in2 + (n * s2->n + h * s2->h + w * s2->w);
                for (c = 0; c < output_dims->c; ++c) {
                    output[c] = fn(params, a[c * s1->c], b[c * s2->c]);
                }
                output += output_dims->c;
            }
        }
    }
}

/* The exported kernel tinyc_<op>_s8 (tinyc_binary.h): the walk above with tinyc_<op>_one. */
#define TINYC_BINARY_KERNEL(op)                                                         \
    void tinyc_##op##_s8(const tinyc_add_params *params,                                \
                         const tinyc_dims *in1_strides, const int8_t *in1,              \
                         const tinyc_dims *in2_strides, const int8_t *in2,              \
                         const tinyc_dims *output_dims, int8_t *output)                 \
    {                                                                                   \
        tinyc_binary_s8(tinyc_##op##_one, params, in1_strides, in1, in2_strides, in2,   \
                        output_dims, output);                                           \
    }

TINYC_BINARY_KERNEL(sub)
TINYC_BINARY_KERNEL(squared_difference)
TINYC_BINARY_KERNEL(prelu)
TINYC_BINARY_KERNEL(minimum)
TINYC_BINARY_KERNEL(maximum)
