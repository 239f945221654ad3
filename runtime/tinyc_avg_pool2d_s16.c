/*
 * tinyc_avg_pool2d_s16.c - int16 average pooling, NHWC (TFLite Micro's int16 AveragePool):
 * int32 sum over the valid taps, divided by their count rounding half away from zero,
 * clamped to the activation range.  Padding is never counted.
 */
#include "tinyc_nn_s16.h"
#include "tinyc_window.h"

static int32_t tinyc_avg16(const tinyc_dims *in_dims, const int16_t *image,
                           const tinyc_window *win, int32_t ch)
{
    const int32_t count = (win->ky1 - win->ky0) * (win->kx1 - win->kx0);
    int32_t sum = 0;
    int32_t ky;
    int32_t kx;
    if (count <= 0) {
        return 0;
    }
    for (ky = win->ky0; ky < win->ky1; ++ky) {
        const int32_t row = (win->y0 + ky) * in_dims->w + win->x0;
        for (kx = win->kx0; kx < win->kx1; ++kx) {
            sum += image[(row + kx) * in_dims->c + ch];
        }
    }
    return (sum > 0) ? (sum + count / 2) / count : (sum - count / 2) / count;
}

void tinyc_avg_pool2d_s16(const tinyc_pool_params *params,
                          const tinyc_dims *input_dims, const int16_t *input,
                          const tinyc_dims *filter_dims,
                          const tinyc_dims *output_dims, int16_t *output)
{
    const int32_t image_size = input_dims->h * input_dims->w * input_dims->c;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t ch;
    tinyc_window win;
    for (b = 0; b < output_dims->n; ++b) {
        const int16_t *image = input + b * image_size;
        for (oy = 0; oy < output_dims->h; ++oy) {
            tinyc_window_rows(&win, oy, params->stride.h, params->padding.h, 1, filter_dims->h,
                              input_dims->h);
            for (ox = 0; ox < output_dims->w; ++ox) {
                tinyc_window_cols(&win, ox, params->stride.w, params->padding.w, 1,
                                  filter_dims->w, input_dims->w);
                for (ch = 0; ch < input_dims->c; ++ch) {
                    output[ch] = tinyc_clamp_s16(tinyc_avg16(input_dims, image, &win, ch), 0,
                                                 params->activation.min,
                                                 params->activation.max);
                }
                output += output_dims->c;
            }
        }
    }
}
