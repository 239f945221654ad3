/*
 * tinyc_conv2d_fewch_dsp.h - the inner loop of tinyc_conv2d_fewch_s8 on cores with the DSP
 * extension (TINYC_DSP): two pixels' windows (contiguous int16, word loads: a window may start
 * on a halfword) against four channels' int16 weights, one SMLAD per tap pair and channel.
 * tinyc_conv2d_fewch_c.h is the portable twin (same interface, same sums).
 */
#ifndef TINYC_CONV2D_FEWCH_DSP_H
#define TINYC_CONV2D_FEWCH_DSP_H

#include <arm_acle.h>

#include "tinyc_fast.h"

typedef int32_t tinyc_fewch_s32 __attribute__((may_alias, aligned(2)));

/* acc[c][p] += sum over k < 4 nq of x_p[k] * w[q][c][k % 4] (w: [nq][4 channels][4] int16). */
static inline void tinyc_fewch_dot(const int16_t *x0, const int16_t *x1, const int16_t *w,
                                   int32_t nq, int32_t acc[8])
{
    const tinyc_fewch_s32 *p0 = (const tinyc_fewch_s32 *)(const void *)x0;
    const tinyc_fewch_s32 *p1 = (const tinyc_fewch_s32 *)(const void *)x1;
    const int32_t *wp = (const int32_t *)(const void *)w;
    const int32_t *end = wp + 8 * nq;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t a4 = acc[4], a5 = acc[5], a6 = acc[6], a7 = acc[7];
    do {
        int32_t x = p0[0];
        int32_t y = p1[0];
        int32_t v = wp[0];
        a0 = __smlad(x, v, a0);
        a1 = __smlad(y, v, a1);
        v = wp[2];
        a2 = __smlad(x, v, a2);
        a3 = __smlad(y, v, a3);
        v = wp[4];
        a4 = __smlad(x, v, a4);
        a5 = __smlad(y, v, a5);
        v = wp[6];
        a6 = __smlad(x, v, a6);
        a7 = __smlad(y, v, a7);
        x = p0[1];
        y = p1[1];
        v = wp[1];
        a0 = __smlad(x, v, a0);
        a1 = __smlad(y, v, a1);
        v = wp[3];
        a2 = __smlad(x, v, a2);
        a3 = __smlad(y, v, a3);
        v = wp[5];
        a4 = __smlad(x, v, a4);
        a5 = __smlad(y, v, a5);
        v = wp[7];
        a6 = __smlad(x, v, a6);
        a7 = __smlad(y, v, a7);
        p0 += 2;
        p1 += 2;
        wp += 8;
    } while (wp != end);
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
    acc[4] = a4; acc[5] = a5; acc[6] = a6; acc[7] = a7;
}

/* acc[c] += sum over k < 4 nq of x0[k] * w[q][c][k % 4]: one pixel (the last of an odd run). */
static inline void tinyc_fewch_dot1(const int16_t *x0, const int16_t *w, int32_t nq,
                                    int32_t acc[4])
{
    const tinyc_fewch_s32 *p0 = (const tinyc_fewch_s32 *)(const void *)x0;
    const int32_t *wp = (const int32_t *)(const void *)w;
    const int32_t *end = wp + 8 * nq;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    do {
        const int32_t x = p0[0];
        const int32_t y = p0[1];
        a0 = __smlad(x, wp[0], a0);
        a1 = __smlad(x, wp[2], a1);
        a2 = __smlad(x, wp[4], a2);
        a3 = __smlad(x, wp[6], a3);
        a0 = __smlad(y, wp[1], a0);
        a1 = __smlad(y, wp[3], a1);
        a2 = __smlad(y, wp[5], a2);
        a3 = __smlad(y, wp[7], a3);
        p0 += 2;
        wp += 8;
    } while (wp != end);
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
}

#endif /* TINYC_CONV2D_FEWCH_DSP_H */
