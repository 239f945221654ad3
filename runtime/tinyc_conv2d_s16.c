/*
 * tinyc_conv2d_s16.c - 16x8 2-D convolution: int16 NHWC input, int8 OHWI filter, int64 bias.
 *
 * acc = bias[oc] + sum over valid taps and input channels of x * w        (int64)
 * out = clamp(requantize_s64(acc, multiplier[oc], shift[oc]))              (no offsets)
 * Padded taps contribute nothing (TFLite Micro reference_integer_ops::ConvPerChannel, 16x8).
 */
#include "tinyc_nn_s16.h"
#include "tinyc_window.h"

static int64_t tinyc_conv16_acc(const tinyc_conv_params *p, const tinyc_dims *in_dims,
                                const int16_t *image, const tinyc_dims *f_dims,
                                const int8_t *oc_filter, const tinyc_window *win)
{
    const int32_t c = in_dims->c;
    int64_t acc = 0;
    int32_t ky;
    int32_t kx;
    int32_t i;
    for (ky = win->ky0; ky < win->ky1; ++ky) {
        const int32_t row = (win->y0 + ky * p->dilation.h) * in_dims->w + win->x0;
        const int8_t *w_row = oc_filter + ky * f_dims->w * c;
        for (kx = win->kx0; kx < win->kx1; ++kx) {
            const int16_t *x = image + (row + kx * p->dilation.w) * c;
            const int8_t *w = w_row + kx * c;
            for (i = 0; i < c; ++i) {
                acc += (int32_t)x[i] * (int32_t)w[i];
            }
        }
    }
    return acc;
}

void tinyc_conv2d_s16(const tinyc_conv_params *params,
                      const tinyc_per_channel_quant_params *quant,
                      const tinyc_dims *input_dims, const int16_t *input,
                      const tinyc_dims *filter_dims, const int8_t *filter,
                      const int64_t *bias,
                      const tinyc_dims *output_dims, int16_t *output)
{
    const int32_t filter_size = filter_dims->h * filter_dims->w * filter_dims->c;
    int32_t oc;
    tinyc_pixels px;
    tinyc_pixels_init(&px, &params->stride, &params->padding, &params->dilation, input_dims,
                      filter_dims, output_dims);
    while (tinyc_pixels_next(&px)) {
        const int16_t *image = input + px.image;
        int16_t *out = output + px.out;
        for (oc = 0; oc < output_dims->c; ++oc) {
            const int64_t acc = tinyc_conv16_acc(params, input_dims, image, filter_dims,
                                                 filter + oc * filter_size, &px.win);
            out[oc] = tinyc_requant_out_s16(acc, bias, quant, oc, &params->activation);
        }
    }
}
