/*
 * tinyc_conv2d_s8.c - int8 2-D convolution, NHWC input, OHWI filter, per-channel requant.
 *
 * acc = bias[oc] + sum over valid taps and input channels of (x + input_offset) * w
 * out = clamp(requantize(acc, multiplier[oc], shift[oc]) + output_offset)
 * Padded taps contribute nothing (TFLite Micro reference_integer_ops::ConvPerChannel).
 */
#include "tinyc_nn.h"
#include "tinyc_dot.h"
#include "tinyc_requant.h"
#include "tinyc_window.h"

/* Sum over the window of one output channel's filter oc_filter. */
static int32_t tinyc_conv_window_acc(const tinyc_conv_params *p, const tinyc_dims *in_dims,
                                     const int8_t *image, const tinyc_dims *f_dims,
                                     const int8_t *oc_filter, const tinyc_window *win)
{
    const int32_t c = in_dims->c;
    int32_t acc = 0;
    int32_t ky;
    int32_t kx;
    for (ky = win->ky0; ky < win->ky1; ++ky) {
        const int32_t row = (win->y0 + ky * p->dilation.h) * in_dims->w + win->x0;
        const int8_t *w_row = oc_filter + ky * f_dims->w * c;
        if (p->dilation.w == 1) {
            acc += tinyc_dot_s8(image + (row + win->kx0) * c, w_row + win->kx0 * c,
                                  (win->kx1 - win->kx0) * c, p->input_offset);
            continue;
        }
        for (kx = win->kx0; kx < win->kx1; ++kx) {
            acc += tinyc_dot_s8(image + (row + kx * p->dilation.w) * c, w_row + kx * c, c,
                                  p->input_offset);
        }
    }
    return acc;
}

/* All output channels of one output pixel. */
static void tinyc_conv_pixel(const tinyc_conv_params *p, const tinyc_per_channel_quant_params *q,
                             const tinyc_dims *in_dims, const int8_t *image,
                             const tinyc_dims *f_dims, const int8_t *filter, const int32_t *bias,
                             const tinyc_window *win, int8_t *out, int32_t out_c)
{
    const int32_t filter_size = f_dims->h * f_dims->w * f_dims->c;
    int32_t oc;
    for (oc = 0; oc < out_c; ++oc) {
        int32_t acc = tinyc_conv_window_acc(p, in_dims, image, f_dims,
                                            filter + oc * filter_size, win);
        if (bias != 0) {
            acc = tinyc_add_wrap(acc, bias[oc]);
        }
        acc = tinyc_requantize(acc, q->multiplier[oc], q->shift[oc]);
        out[oc] = tinyc_clamp_s8(acc, p->output_offset, p->activation.min, p->activation.max);
    }
}

void tinyc_conv2d_s8(const tinyc_conv_params *params,
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
                tinyc_conv_pixel(params, quant, input_dims, image, filter_dims, filter, bias,
                                 &win, output, output_dims->c);
                output += output_dims->c;
            }
        }
    }
}
