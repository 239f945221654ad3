/*
 * tinyc_max_pool2d_s8.c - int8 max pooling, NHWC: the maximum of the valid (unpadded) taps,
 * then the activation clamp (TFLite Micro reference_integer_ops::MaxPool).  A window that
 * lies wholly in the padding gives activation.min.
 */
#include "tinyc_nn.h"
#include "tinyc_requant.h"
#include "tinyc_window.h"

static int32_t tinyc_max_window(const tinyc_dims *in_dims, const int8_t *image,
                                const tinyc_window *win, int32_t ch)
{
    int32_t best = INT32_MIN;
    int32_t ky;
    int32_t kx;
    for (ky = win->ky0; ky < win->ky1; ++ky) {
        const int32_t row = (win->y0 + ky) * in_dims->w + win->x0;
        for (kx = win->kx0; kx < win->kx1; ++kx) {
            const int32_t x = image[(row + kx) * in_dims->c + ch];
            if (x > best) {
                best = x;
            }
        }
    }
    return best;
}

static void tinyc_max_pixel(const tinyc_pool_params *p, const tinyc_dims *in_dims,
                            const int8_t *image, const tinyc_window *win, int8_t *out)
{
    int32_t ch;
    for (ch = 0; ch < in_dims->c; ++ch) {
        const int32_t best = tinyc_max_window(in_dims, image, win, ch);
        out[ch] = tinyc_clamp_s8(best, 0, p->activation.min, p->activation.max);
    }
}

void tinyc_max_pool2d_s8(const tinyc_pool_params *params,
                         const tinyc_dims *input_dims, const int8_t *input,
                         const tinyc_dims *filter_dims,
                         const tinyc_dims *output_dims, int8_t *output)
{
    tinyc_pixels px;
    tinyc_pixels_init(&px, &params->stride, &params->padding, 0, input_dims, filter_dims,
                      output_dims);
    while (tinyc_pixels_next(&px)) {
        tinyc_max_pixel(params, input_dims, input + px.image, &px.win, output + px.out);
    }
}
