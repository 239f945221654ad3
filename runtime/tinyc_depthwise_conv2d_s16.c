/*
 * tinyc_depthwise_conv2d_s16.c - 16x8 depthwise convolution: int16 NHWC input, int8 1HWC filter
 * (C = in_c * ch_mult), int64 bias; output channel oc reads input channel oc / ch_mult.
 *
 * acc = bias[oc] + sum over valid taps of x * w (int64);  out = clamp(requantize_s64(acc))
 * (TFLite Micro reference_integer_ops::DepthwiseConvPerChannel, 16x8).
 */
#include "tinyc_nn_s16.h"
#include "tinyc_window.h"

static int64_t tinyc_dw16_acc(const tinyc_dw_conv_params *p, const tinyc_dims *in_dims,
                              const int16_t *image, const tinyc_dims *f_dims,
                              const int8_t *filter, const tinyc_window *win, int32_t oc)
{
    const int32_t ic = oc / p->ch_mult;
    int64_t acc = 0;
    int32_t ky;
    int32_t kx;
    for (ky = win->ky0; ky < win->ky1; ++ky) {
        const int32_t row = (win->y0 + ky * p->dilation.h) * in_dims->w + win->x0;
        const int8_t *w_row = filter + ky * f_dims->w * f_dims->c + oc;
        for (kx = win->kx0; kx < win->kx1; ++kx) {
            const int32_t x = image[(row + kx * p->dilation.w) * in_dims->c + ic];
            acc += x * (int32_t)w_row[kx * f_dims->c];
        }
    }
    return acc;
}

void tinyc_depthwise_conv2d_s16(const tinyc_dw_conv_params *params,
                                const tinyc_per_channel_quant_params *quant,
                                const tinyc_dims *input_dims, const int16_t *input,
                                const tinyc_dims *filter_dims, const int8_t *filter,
                                const int64_t *bias,
                                const tinyc_dims *output_dims, int16_t *output)
{
    int32_t oc;
    tinyc_pixels px;
    tinyc_pixels_init(&px, &params->stride, &params->padding, &params->dilation, input_dims,
                      filter_dims, output_dims);
    while (tinyc_pixels_next(&px)) {
        const int16_t *image = input + px.image;
        int16_t *out = output + px.out;
        for (oc = 0; oc < output_dims->c; ++oc) {
            const int64_t acc = tinyc_dw16_acc(params, input_dims, image, filter_dims, filter,
                                               &px.win, oc);
            out[oc] = tinyc_requant_out_s16(acc, bias, quant, oc, &params->activation);
        }
    }
}
