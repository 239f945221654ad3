/*
 * tinyc_conv2d_fast_s16_dsp.h - the DSP inner loop of tinyc_conv2d_fast_s16.c (same interface
 * and bits as tinyc_conv2d_fast_s16_c.h): per group of four k one word of weights {w0, w2, w1,
 * w3} -> SXTB16 {w0, w1} and SXTB16 ROR #8 {w2, w3}, then per pixel two words of int16 input
 * and two SMLAD.
 */
#ifndef TINYC_CONV2D_FAST_S16_DSP_H
#define TINYC_CONV2D_FAST_S16_DSP_H

#include "tinyc_dsp.h"

/* Words of int16 pairs in the (4-byte aligned) arena block, which may alias its int16. */
typedef int32_t tinyc_s16x2 __attribute__((may_alias, aligned(4)));

static void tinyc_gemm4_s16(tinyc_acc4_s16 *a, const int8_t *w, const int16_t *blk, int32_t k4)
{
    const tinyc_s16x2 *x = (const tinyc_s16x2 *)(const void *)blk;
    const int8_t *end = w + k4;
    int32_t a0 = a->a0;
    int32_t a1 = a->a1;
    int32_t a2 = a->a2;
    int32_t a3 = a->a3;
    while (w < end) {
        const uint32_t ww = tinyc_load4(w);
        const int32_t lo = __sxtb16(tinyc_s32(ww));
        const int32_t hi = tinyc_sxtb16_ror8(ww);
        w += 4;
        a0 = __smlad(x[1], hi, __smlad(x[0], lo, a0));
        a1 = __smlad(x[3], hi, __smlad(x[2], lo, a1));
        a2 = __smlad(x[5], hi, __smlad(x[4], lo, a2));
        a3 = __smlad(x[7], hi, __smlad(x[6], lo, a3));
        x += 8;
    }
    a->a0 = a0;
    a->a1 = a1;
    a->a2 = a2;
    a->a3 = a3;
}

#endif /* TINYC_CONV2D_FAST_S16_DSP_H */
