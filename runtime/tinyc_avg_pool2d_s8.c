/*
 * tinyc_avg_pool2d_s8.c - int8 average pooling, NHWC.  The average of the valid (unpadded)
 * taps, rounded half away from zero; then the activation clamp.  The output quantization
 * equals the input's (TFLite Micro reference_integer_ops::AveragePool).  Four channels at a
 * time when the window has at most 256 taps (DSP: SXTAB16 sums in 16-bit lanes).
 */
#include "tinyc_fast.h"
#include "tinyc_nn.h"
#include "tinyc_requant.h"
#include "tinyc_window.h"

static int32_t tinyc_avg_window_sum(const tinyc_dims *in_dims, const int8_t *image,
                                    const tinyc_window *win, int32_t ch)
{
    int32_t sum = 0;
    int32_t ky;
    int32_t kx;
    for (ky = win->ky0; ky < win->ky1; ++ky) {
        const int32_t row = (win->y0 + ky) * in_dims->w + win->x0;
        for (kx = win->kx0; kx < win->kx1; ++kx) {
            sum += image[(row + kx) * in_dims->c + ch];
        }
    }
    return sum;
}

/* Channels c..c+3 summed over the window: on DSP cores with SXTAB16 into two registers of
 * 16-bit lane sums (exact: at most 256 taps of |x| <= 128). */
static void tinyc_avg_sum4(const tinyc_dims *in_dims, const int8_t *image,
                           const tinyc_window *win, int32_t c, int32_t sum[4])
{
    int32_t ky;
    int32_t kx;
#if defined(TINYC_DSP)
    int32_t even = 0;
    int32_t odd = 0;
    for (ky = win->ky0; ky < win->ky1; ++ky) {
        const int8_t *x = image + ((win->y0 + ky) * in_dims->w + win->x0 + win->kx0) * in_dims->c
                          + c;
        for (kx = win->kx0; kx < win->kx1; ++kx, x += in_dims->c) {
            const uint32_t v = tinyc_ld4(x);
            even = __sxtab16(even, (int32_t)v);     /* four int8 lanes, same bits */
            odd = tinyc_sxtab16_ror8(odd, v);
        }
    }
    sum[0] = (int16_t)((uint32_t)even & 0xFFFFu);
    sum[2] = (int16_t)((uint32_t)even >> 16);
    sum[1] = (int16_t)((uint32_t)odd & 0xFFFFu);
    sum[3] = (int16_t)((uint32_t)odd >> 16);
#else
    int32_t j;
    sum[0] = sum[1] = sum[2] = sum[3] = 0;
    for (ky = win->ky0; ky < win->ky1; ++ky) {
        const int8_t *x = image + ((win->y0 + ky) * in_dims->w + win->x0 + win->kx0) * in_dims->c
                          + c;
        for (kx = win->kx0; kx < win->kx1; ++kx, x += in_dims->c) {
            for (j = 0; j < 4; ++j) {
                sum[j] += x[j];
            }
        }
    }
#endif
}

static void tinyc_avg_pixel(const tinyc_pool_params *p, const tinyc_dims *in_dims,
                            const int8_t *image, const tinyc_window *win, int8_t *out)
{
    const int32_t count = (win->ky1 - win->ky0) * (win->kx1 - win->kx0);
    int32_t ch = 0;
    int32_t j;
    if (count <= 256 && count > 0) {
        for (; ch + 4 <= in_dims->c; ch += 4) {
            int32_t sum[4];
            tinyc_avg_sum4(in_dims, image, win, ch, sum);
            for (j = 0; j < 4; ++j) {
                out[ch + j] = tinyc_clamp_s8(tinyc_avg_round(sum[j], count), 0,
                                             p->activation.min, p->activation.max);
            }
        }
    }
    for (; ch < in_dims->c; ++ch) {
        const int32_t avg = tinyc_avg_round(tinyc_avg_window_sum(in_dims, image, win, ch), count);
        out[ch] = tinyc_clamp_s8(avg, 0, p->activation.min, p->activation.max);
    }
}

void tinyc_avg_pool2d_s8(const tinyc_pool_params *params,
                         const tinyc_dims *input_dims, const int8_t *input,
                         const tinyc_dims *filter_dims,
                         const tinyc_dims *output_dims, int8_t *output)
{
    tinyc_pixels px;
    tinyc_pixels_init(&px, &params->stride, &params->padding, 0, input_dims, filter_dims,
                      output_dims);
    while (tinyc_pixels_next(&px)) {
        tinyc_avg_pixel(params, input_dims, input + px.image, &px.win, output + px.out);
    }
}
