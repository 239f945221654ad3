/*
 * tinyc_dot.h - internal helper of conv2d, depthwise_conv2d and fully_connected: the int8
 * dot product sum_i (x[i] + x_offset) * w[i] over contiguous data, four such sums side
 * by side (tinyc_mac4_s8, for depthwise channels), and the window sum of a conv2d output
 * (tinyc_conv_window, also the packed kernels' once their filter is unpacked).
 *
 * Two paths, same bits: portable C, and on cores with the DSP extension
 * (TINYC_DSP, tinyc_nn.h: Cortex-M4/M7/M33/M55) 4 MACs per step with SXTAB16/SXTB16/SMLAD.
 * The sums are exact (|term| < 2^16, fewer than 2^15 terms per call), so the order of
 * summation cannot change the result.  Define TINYC_PORTABLE to force the C path.
 */
#ifndef TINYC_DOT_H
#define TINYC_DOT_H

#include <stdint.h>

#include "tinyc_dsp.h"
#include "tinyc_nn.h"
#include "tinyc_requant.h"
#include "tinyc_window.h"

#if defined(TINYC_DSP)
/* Four MACs: x bytes + offset (16-bit lanes) times w bytes, pairwise into acc. */
static inline int32_t tinyc_dot4_dsp(const int8_t *x, const int8_t *w, uint32_t offset2,
                                     int32_t acc)
{
    const uint32_t xv = tinyc_load4(x);
    const uint32_t wv = tinyc_load4(w);
    acc = __smlad(__sxtab16(tinyc_s32(offset2), tinyc_s32(xv)), __sxtb16(tinyc_s32(wv)), acc);
    return __smlad(tinyc_sxtab16_ror8(tinyc_s32(offset2), xv), tinyc_sxtb16_ror8(wv), acc);
}
#endif

static inline int32_t tinyc_dot_s8(const int8_t *x, const int8_t *w, int32_t len,
                                   int32_t x_offset)
{
    int32_t acc = 0;
    int32_t i = 0;
#if defined(TINYC_DSP)
    const uint32_t offset2 = ((uint32_t)x_offset & 0xFFFFu) * 0x10001u;
    for (; i + 4 <= len; i += 4) {
        acc = tinyc_dot4_dsp(x + i, w + i, offset2, acc);
    }
#endif
    for (; i < len; ++i) {
        acc += ((int32_t)x[i] + x_offset) * (int32_t)w[i];
    }
    return acc;
}

/* acc[k] += (x[k] + x_offset) * w[k] for k = 0..3: four channels side by side (depthwise). */
static inline void tinyc_mac4_s8(const int8_t *x, const int8_t *w, int32_t x_offset,
                                 int32_t acc[4])
{
#if defined(TINYC_DSP)
    const int32_t offset2 = tinyc_offset2(x_offset);
    const uint32_t xv = tinyc_load4(x);
    const uint32_t wv = tinyc_load4(w);
    const int32_t x02 = __sxtab16(offset2, tinyc_s32(xv));              /* lanes x[0], x[2] */
    const int32_t x13 = tinyc_sxtab16_ror8(offset2, xv);                /* lanes x[1], x[3] */
    const int32_t w02 = __sxtb16(tinyc_s32(wv));
    const int32_t w13 = tinyc_sxtb16_ror8(wv);
    acc[0] = __smlabb(x02, w02, acc[0]);
    acc[1] = __smlabb(x13, w13, acc[1]);
    acc[2] = __smlatt(x02, w02, acc[2]);
    acc[3] = __smlatt(x13, w13, acc[3]);
#else
    acc[0] += ((int32_t)x[0] + x_offset) * (int32_t)w[0];
    acc[1] += ((int32_t)x[1] + x_offset) * (int32_t)w[1];
    acc[2] += ((int32_t)x[2] + x_offset) * (int32_t)w[2];
    acc[3] += ((int32_t)x[3] + x_offset) * (int32_t)w[3];
#endif
}

/* The sum over one output pixel's window of the int8 filter w of one output channel (OHWI):
 * whole rows of taps at once when the columns are not dilated. */
static inline int32_t tinyc_conv_window(const tinyc_conv_params *p, const tinyc_dims *in_dims,
                                        const int8_t *image, const tinyc_dims *f_dims,
                                        const int8_t *w, const tinyc_window *win)
{
    const int32_t c = in_dims->c;
    int32_t acc = 0;
    int32_t ky;
    int32_t kx;
    for (ky = win->ky0; ky < win->ky1; ++ky) {
        const int32_t row = (win->y0 + ky * p->dilation.h) * in_dims->w + win->x0;
        const int8_t *w_row = w + ky * f_dims->w * c;
        if (p->dilation.w == 1) {
            acc += tinyc_dot_s8(image + (row + win->kx0) * c, w_row + win->kx0 * c,
                                (win->kx1 - win->kx0) * c, p->input_offset);
            continue;
        }
        for (kx = win->kx0; kx < win->kx1; ++kx) {
            acc += tinyc_dot_s8(image + (row + kx * p->dilation.w) * c, w_row + kx * c, c,
                                p->input_offset);
        }
    }
    return acc;
}

#endif /* TINYC_DOT_H */
