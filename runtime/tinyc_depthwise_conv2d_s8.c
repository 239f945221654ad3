/*
 * tinyc_depthwise_conv2d_s8.c - int8 depthwise 2-D convolution, NHWC input, 1HWC filter
 * (C = in_c * ch_mult), per-channel requant.  Output channel oc reads input channel
 * oc / ch_mult (TFLite Micro reference_integer_ops::DepthwiseConvPerChannel).
 */
#include "tinyc_nn.h"
#include "tinyc_requant.h"
#include "tinyc_window.h"

/* The accumulator of output channel oc (input channel ic) over the window. */
static int32_t tinyc_dw_acc(const tinyc_dw_conv_params *p, const tinyc_dims *in_dims,
                            const int8_t *image, const tinyc_dims *f_dims, const int8_t *filter,
                            const tinyc_window *win, int32_t ic, int32_t oc)
{
    const int32_t in_c = in_dims->c;
    const int32_t out_c = f_dims->c;
    int32_t acc = 0;
    int32_t ky;
    int32_t kx;
    for (ky = win->ky0; ky < win->ky1; ++ky) {
        const int32_t row = (win->y0 + ky * p->dilation.h) * in_dims->w + win->x0;
        const int8_t *w_row = filter + ky * f_dims->w * out_c + oc;
        for (kx = win->kx0; kx < win->kx1; ++kx) {
            const int32_t x = image[(row + kx * p->dilation.w) * in_c + ic];
            acc += (x + p->input_offset) * (int32_t)w_row[kx * out_c];
        }
    }
    return acc;
}

static void tinyc_dw_pixel(const tinyc_dw_conv_params *p, const tinyc_per_channel_quant_params *q,
                           const tinyc_dims *in_dims, const int8_t *image,
                           const tinyc_dims *f_dims, const int8_t *filter, const int32_t *bias,
                           const tinyc_window *win, int8_t *out)
{
    int32_t ic;
    int32_t m;
    int32_t oc = 0;
    for (ic = 0; ic < in_dims->c; ++ic) {
        for (m = 0; m < p->ch_mult; ++m, ++oc) {
            int32_t acc = tinyc_dw_acc(p, in_dims, image, f_dims, filter, win, ic, oc);
            if (bias != 0) {
                acc = tinyc_add_wrap(acc, bias[oc]);
            }
            acc = tinyc_requantize(acc, q->multiplier[oc], q->shift[oc]);
            out[oc] = tinyc_clamp_s8(acc, p->output_offset, p->activation.min,
                                     p->activation.max);
        }
    }
}

void tinyc_depthwise_conv2d_s8(const tinyc_dw_conv_params *params,
                               const tinyc_per_channel_quant_params *quant,
                               const tinyc_dims *input_dims, const int8_t *input,
                               const tinyc_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias,
                               const tinyc_dims *output_dims, int8_t *output)
{
    const int32_t image_size = input_dims->h * input_dims->w * input_dims->c;
    int32_t b;
    int32_t oy;
    int32_t ox;
    tinyc_window win;
    for (b = 0; b < output_dims->n; ++b) {
        const int8_t *image = input + b * image_size;
        for (oy = 0; oy < output_dims->h; ++oy) {
            tinyc_window_rows(&win, oy, params->stride.h, params->padding.h,
                              params->dilation.h, filter_dims->h, input_dims->h);
            for (ox = 0; ox < output_dims->w; ++ox) {
                tinyc_window_cols(&win, ox, params->stride.w, params->padding.w,
                                  params->dilation.w, filter_dims->w, input_dims->w);
                tinyc_dw_pixel(params, quant, input_dims, image, filter_dims, filter, bias,
                               &win, output);
                output += output_dims->c;
            }
        }
    }
}
