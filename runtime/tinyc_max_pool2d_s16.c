/*
 * tinyc_max_pool2d_s16.c - int16 max pooling, NHWC: the largest valid tap, clamped to the
 * activation range (TFLite Micro's int16 MaxPool).
 */
#include "tinyc_nn_s16.h"
#include "tinyc_window.h"

static int32_t tinyc_max16(const tinyc_dims *in_dims, const int16_t *image,
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

void tinyc_max_pool2d_s16(const tinyc_pool_params *params,
                          const tinyc_dims *input_dims, const int16_t *input,
                          const tinyc_dims *filter_dims,
                          const tinyc_dims *output_dims, int16_t *output)
{
    int32_t ch;
    tinyc_pixels px;
    tinyc_pixels_init(&px, &params->stride, &params->padding, 0, input_dims, filter_dims,
                      output_dims);
    while (tinyc_pixels_next(&px)) {
        for (ch = 0; ch < input_dims->c; ++ch) {
            const int32_t v = tinyc_max16(input_dims, input + px.image, &px.win, ch);
            output[px.out + ch] = tinyc_clamp_s16(v, 0, params->activation.min,
                                                  params->activation.max);
        }
    }
}
