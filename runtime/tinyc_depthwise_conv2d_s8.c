/*
 * tinyc_depthwise_conv2d_s8.c - int8 depthwise 2-D convolution, NHWC input, 1HWC filter
 * (C = in_c * ch_mult), per-channel requant.  Output channel oc reads input channel
 * oc / ch_mult (TFLite Micro reference_integer_ops::DepthwiseConvPerChannel).
 */
#include "tinyc_dot.h"
#include "tinyc_nn.h"
#include "tinyc_requant.h"
#include "tinyc_window.h"

/* tinyc_depthwise_conv2d_ort_s8.c compiles these loops with ONNX Runtime's requantization */
#ifndef TINYC_LAYER_REQUANT
#define TINYC_LAYER_REQUANT tinyc_requant_out_s8
#endif

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

/* Bias, requantize and clamp the accumulator of output channel oc. */
static inline int8_t tinyc_dw_finish(const tinyc_dw_conv_params *p,
                                     const tinyc_per_channel_quant_params *q,
                                     const int32_t *bias, int32_t oc, int32_t acc)
{
    return TINYC_LAYER_REQUANT(acc, bias != 0 ? bias[oc] : 0, q, oc, p->output_offset,
                                &p->activation);
}

/* Channels c..c+3 of one output pixel (ch_mult 1: output channel = input channel). */
static void tinyc_dw_block4(const tinyc_dw_conv_params *p,
                            const tinyc_per_channel_quant_params *q,
                            const tinyc_dims *in_dims, const int8_t *image,
                            const tinyc_dims *f_dims, const int8_t *filter, const int32_t *bias,
                            const tinyc_window *win, int32_t c, int8_t *out)
{
    const int32_t ch = in_dims->c;
    const int32_t x_step = p->dilation.w * ch;
    int32_t acc[4] = {0, 0, 0, 0};
    int32_t ky;
    int32_t kx;
    for (ky = win->ky0; ky < win->ky1; ++ky) {
        const int32_t row = (win->y0 + ky * p->dilation.h) * in_dims->w + win->x0;
        const int8_t *x = image + (row + win->kx0 * p->dilation.w) * ch + c;
        const int8_t *w = filter + (ky * f_dims->w + win->kx0) * ch + c;
        for (kx = win->kx0; kx < win->kx1; ++kx) {
            tinyc_mac4_s8(x, w, p->input_offset, acc);
            x += x_step;
            w += ch;
        }
    }
    out[c] = tinyc_dw_finish(p, q, bias, c, acc[0]);
    out[c + 1] = tinyc_dw_finish(p, q, bias, c + 1, acc[1]);
    out[c + 2] = tinyc_dw_finish(p, q, bias, c + 2, acc[2]);
    out[c + 3] = tinyc_dw_finish(p, q, bias, c + 3, acc[3]);
}

static void tinyc_dw_pixel(const tinyc_dw_conv_params *p, const tinyc_per_channel_quant_params *q,
                           const tinyc_dims *in_dims, const int8_t *image,
                           const tinyc_dims *f_dims, const int8_t *filter, const int32_t *bias,
                           const tinyc_window *win, int8_t *out)
{
    int32_t oc = 0;
    if (p->ch_mult == 1) {          /* four channels at a time: contiguous loads */
        const int32_t c4 = in_dims->c & ~3;     /* (GCC's LTO then knows where oc ends) */
        for (; oc < c4; oc += 4) {
            tinyc_dw_block4(p, q, in_dims, image, f_dims, filter, bias, win, oc, out);
        }
    }
    for (; oc < f_dims->c; ++oc) {
        const int32_t ic = oc / p->ch_mult;
        out[oc] = tinyc_dw_finish(p, q, bias, oc,
                                  tinyc_dw_acc(p, in_dims, image, f_dims, filter, win, ic, oc));
    }
}

void tinyc_depthwise_conv2d_s8(const tinyc_dw_conv_params *params,
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
        tinyc_dw_pixel(params, quant, input_dims, input + px.image, filter_dims, filter, bias,
                       &px.win, output + px.out);
    }
}
