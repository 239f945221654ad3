/*
 * tinyc_conv2d_s4.c - int8 2-D convolution with int4 weights packed two per byte
 * (tinyc_packed.h "s4"); otherwise exactly tinyc_conv2d_s8: NHWC input, OHWI filter,
 * per-channel requantization, padded taps contribute nothing. With a scratch row (one
 * unpacked filter, kh * kw * in_c bytes of arena) each output channel's filter is unpacked
 * once and run over every pixel with the int8 dot product; without, weights are unpacked
 * where they are used.
 */
#include "tinyc_packed.h"
#include "tinyc_requant.h"
#include "tinyc_window.h"

/* Sum over the window of output channel oc (its filter starts at element base). */
static int32_t tinyc_conv_s4_acc(const tinyc_conv_params *p, const tinyc_dims *in_dims,
                                 const int8_t *image, const tinyc_dims *f_dims,
                                 const uint8_t *filter, int32_t base, const tinyc_window *win)
{
    const int32_t c = in_dims->c;
    int32_t acc = 0;
    int32_t ky;
    int32_t kx;
    for (ky = win->ky0; ky < win->ky1; ++ky) {
        const int32_t row = (win->y0 + ky * p->dilation.h) * in_dims->w + win->x0;
        const int32_t w_row = base + ky * f_dims->w * c;
        if (p->dilation.w == 1) {
            acc += tinyc_s4_dot(image + (row + win->kx0) * c, filter, w_row + win->kx0 * c,
                                (win->kx1 - win->kx0) * c, p->input_offset);
            continue;
        }
        for (kx = win->kx0; kx < win->kx1; ++kx) {
            acc += tinyc_s4_dot(image + (row + kx * p->dilation.w) * c, filter, w_row + kx * c,
                                c, p->input_offset);
        }
    }
    return acc;
}

void tinyc_conv2d_s4_unbuffered(const tinyc_conv_params *params,
                                const tinyc_per_channel_quant_params *quant,
                                const tinyc_dims *input_dims, const int8_t *input,
                                const tinyc_dims *filter_dims, const uint8_t *filter,
                                const int32_t *bias, const int16_t *bias16,
                                const tinyc_dims *output_dims,
                                int8_t *output)
{
    const int32_t filter_size = filter_dims->h * filter_dims->w * filter_dims->c;
    int32_t oc;
    tinyc_pixels px;
    tinyc_pixels_init(&px, &params->stride, &params->padding, &params->dilation, input_dims,
                      filter_dims, output_dims);
    while (tinyc_pixels_next(&px)) {
        for (oc = 0; oc < output_dims->c; ++oc) {
            const int32_t acc = tinyc_conv_s4_acc(params, input_dims, input + px.image,
                                                  filter_dims, filter, oc * filter_size,
                                                  &px.win);
            output[px.out + oc] = tinyc_requant_out_s8(acc, tinyc_bias_at(bias, bias16, oc),
                                                       quant, oc, params->output_offset,
                                                       &params->activation);
        }
    }
}

void tinyc_conv2d_s4(const tinyc_conv_params *params,
                     const tinyc_per_channel_quant_params *quant,
                     const tinyc_dims *input_dims, const int8_t *input,
                     const tinyc_dims *filter_dims, const uint8_t *filter,
                     const int32_t *bias, const int16_t *bias16,
                     const tinyc_dims *output_dims, int8_t *scratch, int8_t *output)
{
    const int32_t filter_size = filter_dims->h * filter_dims->w * filter_dims->c;
    tinyc_pk_cols cols;
    int32_t oc;
    tinyc_pk_cols_init(&cols, params, input_dims, filter_dims, output_dims);
    for (oc = 0; oc < output_dims->c; ++oc) {
        tinyc_s4_unpack(filter, oc * filter_size, filter_size, scratch);
        tinyc_pk_conv_channel(params, quant, oc, tinyc_bias_at(bias, bias16, oc), input_dims,
                              input, filter_dims, scratch, output_dims, &cols, output + oc);
    }
}
