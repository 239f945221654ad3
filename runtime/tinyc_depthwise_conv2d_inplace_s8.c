/*
 * tinyc_depthwise_conv2d_inplace_s8.c - int8 depthwise 2-D convolution (channel multiplier 1,
 * one image) whose output overwrites its input: the same arithmetic per output element as
 * tinyc_depthwise_conv2d_s8 (TFLite Micro's DepthwiseConvPerChannel).
 *
 * Channel by channel: channel c of the input is copied to `scratch` (h * w bytes), then output
 * channel c is computed from the copy. Output element (y, x, c) sits at byte (y * out_w + x) * C
 * + c < h * w * C (the output is no larger than the input), a byte of input channel c, which is
 * already copied: the channels not yet computed are never overwritten.
 */
#include "tinyc_depthwise_inplace.h"
#include "tinyc_nn.h"
#include "tinyc_requant.h"
#include "tinyc_window.h"

void tinyc_depthwise_conv2d_inplace_s8(const tinyc_dw_conv_params *params,
                                       const tinyc_per_channel_quant_params *quant,
                                       const tinyc_dims *input_dims,
                                       const tinyc_dims *filter_dims, const int8_t *filter,
                                       const int32_t *bias, const tinyc_dims *output_dims,
                                       int8_t *scratch, int8_t *buffer)
{
    const int32_t ch = input_dims->c;
    const int32_t plane = input_dims->h * input_dims->w;
    const tinyc_dims one = {1, input_dims->h, input_dims->w, 1};
    int32_t c;
    for (c = 0; c < ch; ++c) {
        tinyc_pixels px;
        int32_t i;
        for (i = 0; i < plane; ++i) {
            scratch[i] = buffer[i * ch + c];
        }
        tinyc_pixels_init(&px, &params->stride, &params->padding, &params->dilation, &one,
                          filter_dims, output_dims);
        while (tinyc_pixels_next(&px)) {
            const tinyc_window *win = &px.win;
            int32_t acc = 0;
            int32_t ky;
            int32_t kx;
            for (ky = win->ky0; ky < win->ky1; ++ky) {
                const int32_t row = (win->y0 + ky * params->dilation.h) * one.w + win->x0;
                const int8_t *taps = filter + ky * filter_dims->w * ch + c;
                for (kx = win->kx0; kx < win->kx1; ++kx) {
                    const int32_t v = scratch[row + kx * params->dilation.w];
                    acc += (v + params->input_offset) * (int32_t)taps[kx * ch];
                }
            }
            buffer[px.out + c] = tinyc_requant_out_s8(acc, bias != 0 ? bias[c] : 0, quant, c,
                                                      params->output_offset,
                                                      &params->activation);
        }
    }
}
