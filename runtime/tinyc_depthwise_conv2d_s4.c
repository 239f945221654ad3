/*
 * tinyc_depthwise_conv2d_s4.c - int8 depthwise 2-D convolution with int4 weights packed two
 * per byte (tinyc_packed.h "s4", 1HWC order); otherwise exactly tinyc_depthwise_conv2d_s8.
 * With a scratch buffer (the unpacked filter, kh * kw * c bytes of arena) the filter is
 * unpacked once and tinyc_depthwise_conv2d_s8 runs on it; without, weights are unpacked
 * where they are used.
 */
#include "tinyc_packed.h"
#include "tinyc_requant.h"
#include "tinyc_window.h"

static int32_t tinyc_dw_s4_acc(const tinyc_dw_conv_params *p, const tinyc_dims *in_dims,
                               const int8_t *image, const tinyc_dims *f_dims,
                               const uint8_t *filter, const tinyc_window *win, int32_t ic,
                               int32_t oc)
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
            acc += (x + p->input_offset) * tinyc_s4_at(filter, w_row + kx * out_c);
        }
    }
    return acc;
}

void tinyc_depthwise_conv2d_s4_unbuffered(const tinyc_dw_conv_params *params,
                                          const tinyc_per_channel_quant_params *quant,
                                          const tinyc_dims *input_dims, const int8_t *input,
                                          const tinyc_dims *filter_dims, const uint8_t *filter,
                                          const int32_t *bias, const int16_t *bias16,
                                          const tinyc_dims *output_dims,
                                          int8_t *output)
{
    int32_t oc;
    tinyc_pixels px;
    tinyc_pixels_init(&px, &params->stride, &params->padding, &params->dilation, input_dims,
                      filter_dims, output_dims);
    while (tinyc_pixels_next(&px)) {
        for (oc = 0; oc < output_dims->c; ++oc) {
            const int32_t acc = tinyc_dw_s4_acc(params, input_dims, input + px.image,
                                                filter_dims, filter, &px.win,
                                                oc / params->ch_mult, oc);
            output[px.out + oc] = tinyc_requant_out_s8(acc, tinyc_bias_at(bias, bias16, oc),
                                                       quant, oc, params->output_offset,
                                                       &params->activation);
        }
    }
}

void tinyc_depthwise_conv2d_s4(const tinyc_dw_conv_params *params,
                               const tinyc_per_channel_quant_params *quant,
                               const tinyc_dims *input_dims, const int8_t *input,
                               const tinyc_dims *filter_dims, const uint8_t *filter,
                               const int32_t *bias, const int16_t *bias16,
                               const tinyc_dims *output_dims, int8_t *scratch, int8_t *output)
{
    const int32_t size = filter_dims->h * filter_dims->w * filter_dims->c;
    tinyc_s4_unpack(filter, 0, size, scratch);
    tinyc_depthwise_conv2d_s8(params, quant, input_dims, input, filter_dims, scratch,
                              tinyc_bias32(scratch + size, bias, bias16, filter_dims->c),
                              output_dims, output);
}
