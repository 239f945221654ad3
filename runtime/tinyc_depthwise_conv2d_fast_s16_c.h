/*
 * tinyc_depthwise_conv2d_fast_s16_c.h - the portable inner loop of
 * tinyc_depthwise_conv2d_fast_s16.c (same interface and bits as the _dsp.h one).
 */
#ifndef TINYC_DEPTHWISE_CONV2D_FAST_S16_C_H
#define TINYC_DEPTHWISE_CONV2D_FAST_S16_C_H

/* One tap's list entry: the offsets of its input pixel in x and of its weight row in w. */
static inline void tinyc_dw16_tap(int32_t *t, int32_t x, int32_t w)
{
    t[0] = x;
    t[1] = w;
}

/* Four channels' sums (channels c .. c + 3) over the n taps {input offset, weight offset} of
 * the list. */
static TINYC_S16_INLINE void tinyc_dw_taps4_s16(tinyc_dw_acc4_s16 *a, const int16_t *image,
                                                const int16_t *filter, int32_t c,
                                                const int32_t *taps, int32_t n)
{
    const int16_t *x = image + c;
    const int16_t *w = filter + c;
    int32_t a0 = 0;
    int32_t a1 = 0;
    int32_t a2 = 0;
    int32_t a3 = 0;
    int32_t t;
    for (t = 0; t < n; ++t) {
        const int16_t *xi = x + taps[2 * t];
        const int16_t *wi = w + taps[2 * t + 1];
        a0 += (int32_t)xi[0] * wi[0];
        a1 += (int32_t)xi[1] * wi[1];
        a2 += (int32_t)xi[2] * wi[2];
        a3 += (int32_t)xi[3] * wi[3];
    }
    a->a0 = a0;
    a->a1 = a1;
    a->a2 = a2;
    a->a3 = a3;
}

#endif /* TINYC_DEPTHWISE_CONV2D_FAST_S16_C_H */
