/*
 * tinyc_depthwise_conv2d_fast_s16_dsp.h - the DSP inner loop of
 * tinyc_depthwise_conv2d_fast_s16.c: per tap two words of input {x0, x1}, {x2, x3}, two of
 * weights, SMLABB / SMLATT per lane (same interface and bits as the _c.h one).
 */
#ifndef TINYC_DEPTHWISE_CONV2D_FAST_S16_DSP_H
#define TINYC_DEPTHWISE_CONV2D_FAST_S16_DSP_H

#include "tinyc_dsp.h"

static inline int32_t tinyc_dw_ld2_s16(const int16_t *p)
{
    int32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

static inline void tinyc_dw_taps4_s16(tinyc_dw_acc4_s16 *a, const int16_t *x,
                                      const int16_t *w, const int32_t *taps, int32_t n)
{
    int32_t a0 = 0;
    int32_t a1 = 0;
    int32_t a2 = 0;
    int32_t a3 = 0;
    int32_t t;
    for (t = 0; t < n; ++t) {
        const int16_t *xi = x + taps[2 * t];
        const int16_t *wi = w + taps[2 * t + 1];
        const int32_t x01 = tinyc_dw_ld2_s16(xi);
        const int32_t x23 = tinyc_dw_ld2_s16(xi + 2);
        const int32_t w01 = tinyc_dw_ld2_s16(wi);
        const int32_t w23 = tinyc_dw_ld2_s16(wi + 2);
        a0 = __smlabb(x01, w01, a0);
        a1 = __smlatt(x01, w01, a1);
        a2 = __smlabb(x23, w23, a2);
        a3 = __smlatt(x23, w23, a3);
    }
    a->a0 = a0;
    a->a1 = a1;
    a->a2 = a2;
    a->a3 = a3;
}

#endif /* TINYC_DEPTHWISE_CONV2D_FAST_S16_DSP_H */
