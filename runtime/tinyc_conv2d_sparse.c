/*
 * tinyc_conv2d_sparse.c - int8 2-D convolution over the nonzero weights only (tinyc_packed.h
 * "sparse": per output channel, (skip, value) entries in the dense OHWI order). Same bits as
 * tinyc_conv2d_s8: the zeros it skips add nothing, padded taps are skipped as there. Also the
 * "mask" format (a bitmask of the nonzeros + their values): tinyc_conv2d_mask unpacks one
 * filter row at a time into arena scratch and runs the int8 dot product on it.
 */
#include "tinyc_packed.h"
#include "tinyc_requant.h"
#include "tinyc_window.h"

typedef struct {
    const uint16_t *count;
    const uint8_t *skip;
    const int8_t *value;
} tinyc_sparse_weights;

/* The accumulator of one output channel, its n entries starting at entry k. */
static int32_t tinyc_conv_sparse_acc(const tinyc_conv_params *p, const tinyc_dims *in_dims,
                                     const int8_t *image, const tinyc_dims *f_dims,
                                     const tinyc_sparse_weights *sw, int32_t k, int32_t n,
                                     const tinyc_window *win)
{
    const int32_t c = in_dims->c;
    int32_t acc = 0;
    int32_t ky = 0;
    int32_t kx = 0;
    int32_t ic = -1;
    int32_t j;
    for (j = 0; j < n; ++j, ++k) {
        ic += (int32_t)sw->skip[k] + 1;
        while (ic >= c) {
            ic -= c;
            if (++kx == f_dims->w) {
                kx = 0;
                ++ky;
            }
        }
        if (ky >= win->ky0 && ky < win->ky1 && kx >= win->kx0 && kx < win->kx1) {
            const int32_t y = win->y0 + ky * p->dilation.h;
            const int32_t x = win->x0 + kx * p->dilation.w;
            acc += ((int32_t)image[(y * in_dims->w + x) * c + ic] + p->input_offset)
                   * (int32_t)sw->value[k];
        }
    }
    return acc;
}

/* All output channels of one output pixel. */
static void tinyc_conv_sparse_pixel(const tinyc_conv_params *p,
                                    const tinyc_per_channel_quant_params *q,
                                    const tinyc_dims *in_dims, const int8_t *image,
                                    const tinyc_dims *f_dims, const tinyc_sparse_weights *sw,
                                    const int32_t *bias, const int16_t *bias16,
                                    const tinyc_window *win, int8_t *out,
                                    int32_t out_c)
{
    int32_t k = 0;
    int32_t oc;
    const int8_t *x = 0;
    if (f_dims->h == 1 && f_dims->w == 1 && win->ky1 > win->ky0 && win->kx1 > win->kx0) {
        x = image + (win->y0 * in_dims->w + win->x0) * in_dims->c;   /* the one tap, valid */
    }
    for (oc = 0; oc < out_c; ++oc) {
        const int32_t n = (int32_t)sw->count[oc];
        int32_t acc;
        if (x != 0) {
            acc = tinyc_sparse_dot(x, sw->skip, sw->value, k, n, p->input_offset);
        } else {
            acc = tinyc_conv_sparse_acc(p, in_dims, image, f_dims, sw, k, n, win);
        }
        k += n;
        out[oc] = tinyc_requant_out_s8(acc, tinyc_bias_at(bias, bias16, oc), q, oc,
                                       p->output_offset, &p->activation);
    }
}

void tinyc_conv2d_sparse(const tinyc_conv_params *params,
                         const tinyc_per_channel_quant_params *quant,
                         const tinyc_dims *input_dims, const int8_t *input,
                         const tinyc_dims *filter_dims, const uint16_t *count,
                         const uint8_t *skip, const int8_t *value,
                         const int32_t *bias, const int16_t *bias16,
                         const tinyc_dims *output_dims, int8_t *output)
{
    const tinyc_sparse_weights sw = {count, skip, value};
    tinyc_pixels px;
    tinyc_pixels_init(&px, &params->stride, &params->padding, &params->dilation, input_dims,
                      filter_dims, output_dims);
    while (tinyc_pixels_next(&px)) {
        tinyc_conv_sparse_pixel(params, quant, input_dims, input + px.image, filter_dims, &sw,
                                bias, bias16, &px.win, output + px.out, output_dims->c);
    }
}

/* ---- mask: a bitmask of the nonzeros and the nonzero values (tinyc_packed.h) ---- */

/* Sum over the window of one output channel, its filter at bit base of the mask; *value
 * points at its first nonzero and is moved past its last. */
static int32_t tinyc_conv_mask_acc(const tinyc_conv_params *p, const tinyc_dims *in_dims,
                                   const int8_t *image, const tinyc_dims *f_dims,
                                   const uint8_t *mask, const int8_t **value, int32_t base,
                                   const tinyc_window *win)
{
    const int32_t c = in_dims->c;
    const int32_t size = f_dims->h * f_dims->w * c;
    int32_t acc = 0;
    int32_t i;
    for (i = 0; i < size; ++i) {
        const uint32_t bit = (uint32_t)(base + i);
        if (tinyc_mask_bit(mask, bit)) {
            const int32_t w = *(*value)++;
            const int32_t ky = i / (f_dims->w * c);
            const int32_t kx = (i / c) % f_dims->w;
            if (ky >= win->ky0 && ky < win->ky1 && kx >= win->kx0 && kx < win->kx1) {
                const int32_t y = win->y0 + ky * p->dilation.h;
                const int32_t x = win->x0 + kx * p->dilation.w;
                acc += ((int32_t)image[(y * in_dims->w + x) * c + i % c] + p->input_offset) * w;
            }
        }
    }
    return acc;
}

void tinyc_conv2d_mask_unbuffered(const tinyc_conv_params *params,
                                  const tinyc_per_channel_quant_params *quant,
                                  const tinyc_dims *input_dims, const int8_t *input,
                                  const tinyc_dims *filter_dims, const uint8_t *mask,
                                  const int8_t *value, const int32_t *bias,
                                  const int16_t *bias16, const tinyc_dims *output_dims,
                                  int8_t *output)
{
    const int32_t filter_size = filter_dims->h * filter_dims->w * filter_dims->c;
    int32_t oc;
    tinyc_pixels px;
    tinyc_pixels_init(&px, &params->stride, &params->padding, &params->dilation, input_dims,
                      filter_dims, output_dims);
    while (tinyc_pixels_next(&px)) {
        const int8_t *v = value;
        for (oc = 0; oc < output_dims->c; ++oc) {
            const int32_t acc = tinyc_conv_mask_acc(params, input_dims, input + px.image,
                                                    filter_dims, mask, &v, oc * filter_size,
                                                    &px.win);
            output[px.out + oc] = tinyc_requant_out_s8(acc, tinyc_bias_at(bias, bias16, oc),
                                                       quant, oc, params->output_offset,
                                                       &params->activation);
        }
    }
}

void tinyc_conv2d_mask(const tinyc_conv_params *params,
                       const tinyc_per_channel_quant_params *quant,
                       const tinyc_dims *input_dims, const int8_t *input,
                       const tinyc_dims *filter_dims, const uint8_t *mask,
                       const int8_t *value, const int32_t *bias, const int16_t *bias16,
                       const tinyc_dims *output_dims, int8_t *scratch, int8_t *output)
{
    const int32_t filter_size = filter_dims->h * filter_dims->w * filter_dims->c;
    const int8_t *v = value;
    tinyc_pk_cols cols;
    int32_t oc;
    tinyc_pk_cols_init(&cols, params, input_dims, filter_dims, output_dims);
    for (oc = 0; oc < output_dims->c; ++oc) {
        tinyc_mask_unpack(mask, &v, oc * filter_size, filter_size, scratch);
        tinyc_pk_conv_channel(params, quant, oc, tinyc_bias_at(bias, bias16, oc), input_dims,
                              input, filter_dims, scratch, output_dims, &cols, output + oc);
    }
}
