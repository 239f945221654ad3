/*
 * tinyc_transpose_conv_s16.c - 16x8 transposed convolution (tinyc_transpose_conv.h): the int8
 * kernel's gather with int16 inputs and an int64 sum.
 */
#include "tinyc_transpose_conv.h"
#include "tinyc_nn_s16.h"

/* The input index i with i * stride + tap == pos, or -1 when there is none in [0, size). */
static int32_t tinyc_tconv16_source(int32_t pos, int32_t tap, int32_t stride, int32_t size)
{
    const int32_t t = pos - tap;
    int32_t i;
    if (t < 0 || t % stride != 0) {
        return -1;
    }
    i = t / stride;
    return (i < size) ? i : -1;
}

void tinyc_transpose_conv_s16(const tinyc_transpose_conv_params *params,
                              const tinyc_per_channel_quant_params *quant,
                              const tinyc_dims *input_dims, const int16_t *input,
                              const tinyc_dims *filter_dims, const int8_t *filter,
                              const int64_t *bias,
                              const tinyc_dims *output_dims, int16_t *output)
{
    const int32_t depth = input_dims->c;
    const int32_t kh = filter_dims->h;
    const int32_t kw = filter_dims->w;
    int32_t n;
    int32_t oy;
    int32_t ox;
    int32_t oc;
    int32_t fy;
    int32_t fx;
    int32_t i;
    for (n = 0; n < output_dims->n; ++n) {
        const int16_t *image = input + n * input_dims->h * input_dims->w * depth;
        for (oy = 0; oy < output_dims->h; ++oy) {
            for (ox = 0; ox < output_dims->w; ++ox) {
                for (oc = 0; oc < filter_dims->n; ++oc) {
                    int64_t acc = 0;
                    for (fy = 0; fy < kh; ++fy) {
                        const int32_t iy = tinyc_tconv16_source(oy + params->padding.h, fy,
                                                                params->stride.h,
                                                                input_dims->h);
                        if (iy < 0) {
                            continue;
                        }
                        for (fx = 0; fx < kw; ++fx) {
                            const int32_t ix = tinyc_tconv16_source(
                                ox + params->padding.w, fx, params->stride.w, input_dims->w);
                            const int16_t *x;
                            const int8_t *w;
                            if (ix < 0) {
                                continue;
                            }
                            x = image + (iy * input_dims->w + ix) * depth;
                            w = filter + ((oc * kh + fy) * kw + fx) * depth;
                            for (i = 0; i < depth; ++i) {
                                acc += (int32_t)x[i] * (int32_t)w[i];
                            }
                        }
                    }
                    *output++ = tinyc_requant_out_s16(acc, bias, quant, oc,
                                                      &params->activation);
                }
            }
        }
    }
}
