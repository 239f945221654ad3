/*
 * tinyc_conv2d_wino_dsp.h - the inner pieces of tinyc_conv2d_wino_s8 on cores with the DSP
 * extension (TINYC_DSP): the input transform of four channels at once (SXTAB16 widens them with
 * the input offset into the pairs {c0, c2}, {c1, c3}; SADD16 / SSUB16 transform both lanes), and
 * the 16 GEMMs of one output channel pair over a block of TINYC_WINO_T tiles (SMLAD over input
 * channel pairs).  tinyc_conv2d_wino_c.h is the portable twin (same interface, same sums).
 */
#ifndef TINYC_CONV2D_WINO_DSP_H
#define TINYC_CONV2D_WINO_DSP_H

#include <arm_acle.h>

#include "tinyc_fast.h"

/* One lane pair of a 4x4 patch d[16] (words of two int16) to V = B^T d B, stored at
 * v[p * step] for p = 4 r + c. */
static TINYC_ALWAYS_INLINE void tinyc_wino_bt(const int32_t d[16], int32_t *v, int32_t step)
{
    int32_t e[16];
    int32_t r;
    for (r = 0; r < 4; ++r) {
        const int32_t *x = d + 4 * r;
        e[4 * r + 0] = (int32_t)__ssub16(x[0], x[2]);
        e[4 * r + 1] = (int32_t)__sadd16(x[1], x[2]);
        e[4 * r + 2] = (int32_t)__ssub16(x[2], x[1]);
        e[4 * r + 3] = (int32_t)__ssub16(x[1], x[3]);
    }
    for (r = 0; r < 4; ++r) {
        v[(0 + r) * step] = (int32_t)__ssub16(e[r], e[8 + r]);
        v[(4 + r) * step] = (int32_t)__sadd16(e[4 + r], e[8 + r]);
        v[(8 + r) * step] = (int32_t)__ssub16(e[8 + r], e[4 + r]);
        v[(12 + r) * step] = (int32_t)__ssub16(e[4 + r], e[12 + r]);
    }
}

/* Channels 4 g .. 4 g + 3 of the patch (px[p]: the pixel's channels, NULL outside the input)
 * into v (int32 words): V[p][2 g + h][t] at v[(p * k2 + 2 g + h) * T]; off: the input offset
 * in both lanes. */
static inline void tinyc_wino_in4(const int8_t *const px[16], int32_t c, int32_t off,
                                  int32_t *v, int32_t k2)
{
    int32_t lo[16];
    int32_t hi[16];
    int32_t p;
    for (p = 0; p < 16; ++p) {
        if (px[p] != NULL) {
            const uint32_t x = tinyc_ld4(px[p] + c);
            lo[p] = __sxtab16(off, (int32_t)x);
            hi[p] = tinyc_sxtab16_ror8(off, x);
        } else {
            lo[p] = 0;
            hi[p] = 0;
        }
    }
    tinyc_wino_bt(lo, v, k2 * TINYC_WINO_T);
    tinyc_wino_bt(hi, v + TINYC_WINO_T, k2 * TINYC_WINO_T);
}

/* m[p][j][t] = sum over k < k2 of u[p][k][j] . v[p][k][t] (SMLAD: two int16 products per
 * word) for the 16 positions p, the channel pair j and the TINYC_WINO_T tiles t. */
static inline void tinyc_wino_gemm(const int32_t *u, const int32_t *v, int32_t k2,
                                   int32_t *m)
{
    int32_t p;
    for (p = 0; p < 16; ++p) {
        int32_t a0 = 0, a1 = 0, a2 = 0, b0 = 0, b1 = 0, b2 = 0;
        const int32_t *end = u + 2 * k2;
        do {
            const int32_t u0 = u[0];
            const int32_t u1 = u[1];
            const int32_t v0 = v[0];
            const int32_t v1 = v[1];
            const int32_t v2 = v[2];
            a0 = __smlad(u0, v0, a0);
            a1 = __smlad(u0, v1, a1);
            a2 = __smlad(u0, v2, a2);
            b0 = __smlad(u1, v0, b0);
            b1 = __smlad(u1, v1, b1);
            b2 = __smlad(u1, v2, b2);
            u += 2;
            v += TINYC_WINO_T;
        } while (u != end);
        m[0] = a0; m[1] = a1; m[2] = a2;
        m[3] = b0; m[4] = b1; m[5] = b2;
        m += 2 * TINYC_WINO_T;
    }
}

#endif /* TINYC_CONV2D_WINO_DSP_H */
