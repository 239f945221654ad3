/*
 * tinyc_conv2d_fast_s16_dsp.h - the DSP inner loop of tinyc_conv2d_fast_s16.c (same interface
 * and bits as tinyc_conv2d_fast_s16_c.h): per group of four k one word of weights {w0, w2, w1,
 * w3} -> SXTB16 {w0, w1} and SXTB16 ROR #8 {w2, w3}, then per pixel two words of int16 input
 * and two SMLAD.
 */
#ifndef TINYC_CONV2D_FAST_S16_DSP_H
#define TINYC_CONV2D_FAST_S16_DSP_H

#include "tinyc_dsp.h"

static inline int32_t tinyc_ld2_s16(const int16_t *p)
{
    int32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

static void tinyc_gemm4_s16(tinyc_acc4_s16 *a, const int8_t *w, const int16_t *x0,
                            const int16_t *x1, const int16_t *x2, const int16_t *x3, int32_t k4)
{
    int32_t a0 = a->a0;
    int32_t a1 = a->a1;
    int32_t a2 = a->a2;
    int32_t a3 = a->a3;
    int32_t g;
    for (g = k4 >> 2; g > 0; --g) {
        const uint32_t ww = tinyc_load4(w);
        const int32_t lo = __sxtb16(tinyc_s32(ww));
        const int32_t hi = tinyc_sxtb16_ror8(ww);
        w += 4;
        a0 = __smlad(tinyc_ld2_s16(x0), lo, a0);
        a0 = __smlad(tinyc_ld2_s16(x0 + 2), hi, a0);
        x0 += 4;
        a1 = __smlad(tinyc_ld2_s16(x1), lo, a1);
        a1 = __smlad(tinyc_ld2_s16(x1 + 2), hi, a1);
        x1 += 4;
        a2 = __smlad(tinyc_ld2_s16(x2), lo, a2);
        a2 = __smlad(tinyc_ld2_s16(x2 + 2), hi, a2);
        x2 += 4;
        a3 = __smlad(tinyc_ld2_s16(x3), lo, a3);
        a3 = __smlad(tinyc_ld2_s16(x3 + 2), hi, a3);
        x3 += 4;
    }
    a->a0 = a0;
    a->a1 = a1;
    a->a2 = a2;
    a->a3 = a3;
}

#endif /* TINYC_CONV2D_FAST_S16_DSP_H */
