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

/* tinyc_conv2d_ort_s8.c compiles these loops with ONNX Runtime's requantization */
#ifndef TINYC_LAYER_REQUANT
#define TINYC_LAYER_REQUANT tinyc_requant_out_s8
#endif

/* All output channels of one output pixel. */
static void tinyc_conv_pixel(const tinyc_conv_params *p, const tinyc_per_channel_quant_params *q,
                             const tinyc_dims *in_dims, const int8_t *image,
                             const tinyc_dims *f_dims, const int8_t *filter, const int32_t *bias,
                             const tinyc_window *win, int8_t *out, int32_t out_c)
{
    const int32_t filter_size = f_dims->h * f_dims->w * f_dims->c;
    int32_t oc;
    for (oc = 0; oc < out_c; ++oc) {
        const int32_t acc = tinyc_conv_window(p, in_dims, image, f_dims,
                                              filter + oc * filter_size, win);
        out[oc] = TINYC_LAYER_REQUANT(acc, bias != 0 ? bias[oc] : 0, q, oc, p->output_offset,
                                       &p->activation);
    }
}

void tinyc_conv2d_s8(const tinyc_conv_params *params,
                     const tinyc_per_channel_quant_params *quant,
                     const tinyc_dims *input_dims, const int8_t *input,
                     const tinyc_dims *filter_dims, const int8_t *filter,
                     const int32_t *bias,
                     const tinyc_dims *output_dims, int8_t *output)
{
    tinyc_pixels px;
    tinyc_pixels_init(&px, &params->stride, &params->padding, &params->dilation, input_dims,
                      filter_dims, output_dims);
    while (tinyc_pixels_next(&px)) {
        tinyc_conv_pixel(params, quant, input_dims, input + px.image, filter_dims, filter, bias,
                         &px.win, output + px.out, output_dims->c);
    }
}
