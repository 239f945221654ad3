/*
 * tinyc_depthwise_conv2d_cb.c - int8 depthwise 2-D convolution with codebook weights
 * (tinyc_packed.h "cb", 1HWC order); otherwise exactly tinyc_depthwise_conv2d_s8.
 * With a scratch buffer (the unpacked filter, kh * kw * c bytes of arena) the filter is
 * unpacked once and tinyc_depthwise_conv2d_s8 runs on it; without, weights are unpacked
 * where they are used.
 */
#include "tinyc_packed.h"
#include "tinyc_requant.h"
#include "tinyc_window.h"

static int32_t tinyc_dw_cb_acc(const tinyc_dw_conv_params *p, const tinyc_dims *in_dims,
                               const int8_t *image, const tinyc_dims *f_dims,
                               const tinyc_cb_weights *cb, const tinyc_window *win,
                               int32_t ic, int32_t oc)
{
    const int32_t in_c = in_dims->c;
    const int32_t out_c = f_dims->c;
    int32_t acc = 0;
    int32_t ky;
    int32_t kx;
    for (ky = win->ky0; ky < win->ky1; ++ky) {
        const int32_t row = (win->y0 + ky * p->dilation.h) * in_dims->w + win->x0;
        const int32_t w_row = ky * f_dims->w * out_c + oc;
        for (kx = win->kx0; kx < win->kx1; ++kx) {
            const int32_t x = image[(row + kx * p->dilation.w) * in_c + ic];
            acc += (x + p->input_offset) * tinyc_cb_at(cb->codebook, cb->indices, cb->bits,
                                                          w_row + kx * out_c);
        }
    }
    return acc;
}

void tinyc_depthwise_conv2d_cb_unbuffered(const tinyc_dw_conv_params *params,
                                          const tinyc_per_channel_quant_params *quant,
                                          const tinyc_dims *input_dims, const int8_t *input,
                                          const tinyc_dims *filter_dims, const int8_t *codebook,
                                          const uint8_t *indices, int32_t bits,
                                          const int32_t *bias, const int16_t *bias16,
                                          const tinyc_dims *output_dims, int8_t *output)
{
    const tinyc_cb_weights cb = {codebook, indices, bits};
    const int32_t image_size = input_dims->h * input_dims->w * input_dims->c;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t oc;
    tinyc_window win;
    for (b = 0; b < output_dims->n; ++b) {
        const int8_t *image = input + b * image_size;
        for (oy = 0; oy < output_dims->h; ++oy) {
            tinyc_window_rows(&win, oy, params->stride.h, params->padding.h,
                              params->dilation.h, filter_dims->h, input_dims->h);
            for (ox = 0; ox < output_dims->w; ++ox) {
                tinyc_window_cols(&win, ox, params->stride.w, params->padding.w,
                                  params->dilation.w, filter_dims->w, input_dims->w);
                for (oc = 0; oc < output_dims->c; ++oc) {
                    int32_t acc = tinyc_dw_cb_acc(params, input_dims, image, filter_dims,
                                                  &cb, &win, oc / params->ch_mult, oc);
                    acc = tinyc_add_wrap(acc, tinyc_bias_at(bias, bias16, oc));
                    acc = tinyc_requantize(acc, quant->multiplier[oc], quant->shift[oc]);
                    output[oc] = tinyc_clamp_s8(acc, params->output_offset,
                                                params->activation.min, params->activation.max);
                }
                output += output_dims->c;
            }
        }
    }
}

void tinyc_depthwise_conv2d_cb(int8_t *scratch, const tinyc_dw_conv_params *params,
                               const tinyc_per_channel_quant_params *quant,
                               const tinyc_dims *input_dims, const int8_t *input,
                               const tinyc_dims *filter_dims, const int8_t *codebook,
                               const uint8_t *indices, int32_t bits,
                               const int32_t *bias, const int16_t *bias16,
                               const tinyc_dims *output_dims, int8_t *output)
{
    const int32_t size = filter_dims->h * filter_dims->w * filter_dims->c;
    tinyc_cb_unpack(codebook, indices, bits, 0, size, scratch);
    tinyc_depthwise_conv2d_s8(params, quant, input_dims, input, filter_dims, scratch,
                              tinyc_bias32(scratch + size, bias, bias16, filter_dims->c),
                              output_dims, output);
}
