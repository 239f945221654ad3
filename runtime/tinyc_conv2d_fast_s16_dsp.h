/*
 * tinyc_conv2d_fast_s16_dsp.h - the DSP inner loop of tinyc_conv2d_fast_s16.c (same interface
 * and bits as tinyc_conv2d_fast_s16_c.h): per group of four k one word of weights {w0, w2, w1,
 * w3} -> SXTB16 {w0, w1} and SXTB16 ROR #8 {w2, w3}, then per pixel two words of int16 input
 * and two SMLAD.
 */
#ifndef TINYC_CONV2D_FAST_S16_DSP_H
#define TINYC_CONV2D_FAST_S16_DSP_H

#include "tinyc_dsp.h"

/* Two words of int16 pairs {x0, x1}, {x2, x3}: the columns and the pointwise pixels start on
 * 4-byte boundaries, so the copy is one LDRD. */
static inline void tinyc_ld4_s16(const int16_t *p, int32_t *x01, int32_t *x23)
{
    int32_t v[2];
    __builtin_memcpy(v, __builtin_assume_aligned(p, 4), 8);
    *x01 = v[0];
    *x23 = v[1];
}

static void tinyc_gemm4_s16(tinyc_acc4_s16 *a, const int8_t *w, const int16_t *x0,
                            const int16_t *x1, const int16_t *x2, const int16_t *x3, int32_t k4)
{
    int32_t a0 = a->a0;
    int32_t a1 = a->a1;
    int32_t a2 = a->a2;
    int32_t a3 = a->a3;
    const int8_t *end = w + k4;
    while (w < end) {
        const uint32_t ww = tinyc_load4(w);
        const int32_t lo = __sxtb16(tinyc_s32(ww));
        const int32_t hi = tinyc_sxtb16_ror8(ww);
        int32_t p;
        int32_t q;
        w += 4;
        tinyc_ld4_s16(x0, &p, &q);
        x0 += 4;
        a0 = __smlad(q, hi, __smlad(p, lo, a0));
        tinyc_ld4_s16(x1, &p, &q);
        x1 += 4;
        a1 = __smlad(q, hi, __smlad(p, lo, a1));
        tinyc_ld4_s16(x2, &p, &q);
        x2 += 4;
        a2 = __smlad(q, hi, __smlad(p, lo, a2));
        tinyc_ld4_s16(x3, &p, &q);
        x3 += 4;
        a3 = __smlad(q, hi, __smlad(p, lo, a3));
    }
    a->a0 = a0;
    a->a1 = a1;
    a->a2 = a2;
    a->a3 = a3;
}

#endif /* TINYC_CONV2D_FAST_S16_DSP_H */
