/*
 * tinyc_conv2d_fast_s16_dsp.h - the DSP inner loop of tinyc_conv2d_fast_s16.c (same interface
 * and bits as tinyc_conv2d_fast_s16_c.h): per group of four k one word of weights {w0, w2, w1,
 * w3} -> SXTB16 {w0, w1} and SXTB16 ROR #8 {w2, w3}, then per pixel two words of int16 input
 * and two SMLAD.
 *
 * Each step is one volatile one-instruction asm, so no compiler reorders them: per group the
 * weight word and the four pixels' first input words load back to back (a Cortex-M4 load
 * after a load whose result it does not address with takes one cycle: 6 cycles for 5 words),
 * then four SMLAD, the four second words back to back (5 cycles), four SMLAD; four groups per
 * loop pass.  ~21 cycles per 16 MACs (was ~32 with each load followed by its SMLAD).
 */
#ifndef TINYC_CONV2D_FAST_S16_DSP_H
#define TINYC_CONV2D_FAST_S16_DSP_H

#include "tinyc_dsp.h"

#define TINYC_S16_LDR(v, p, k) __asm__ volatile("ldr %0, [%1, %2]" : "=r"(v) : "r"(p), "i"(k))
#define TINYC_S16_LDRP(v, p, k) __asm__ volatile("ldr %0, [%1], %2" : "=r"(v), "+r"(p) : "i"(k))
#define TINYC_S16_SXTB16(d, w) __asm__ volatile("sxtb16 %0, %1" : "=r"(d) : "r"(w))
#define TINYC_S16_SXTB16R(w) __asm__ volatile("sxtb16 %0, %0, ror #8" : "+r"(w))
#define TINYC_S16_SMLAD(a, x, w) __asm__ volatile("smlad %0, %1, %2, %0" : "+r"(a) \
                                                  : "r"(x), "r"(w))

/* One group of four k: w advances by 4 bytes, x by 32 (four pixels' two words). */
#define TINYC_S16_GROUP(a0, a1, a2, a3, x, w)                                             \
    do {                                                                                  \
        int32_t wv;                                                                       \
        int32_t lo;                                                                       \
        int32_t v0;                                                                       \
        int32_t v1;                                                                       \
        int32_t v2;                                                                       \
        int32_t v3;                                                                       \
        TINYC_S16_LDRP(wv, w, 4);                                                         \
        TINYC_S16_LDRP(v0, x, 32);                                                        \
        TINYC_S16_LDR(v1, x, -24);                                                        \
        TINYC_S16_LDR(v2, x, -16);                                                        \
        TINYC_S16_LDR(v3, x, -8);                                                         \
        TINYC_S16_SXTB16(lo, wv);                                                         \
        TINYC_S16_SMLAD(a0, v0, lo);                                                      \
        TINYC_S16_SMLAD(a1, v1, lo);                                                      \
        TINYC_S16_SMLAD(a2, v2, lo);                                                      \
        TINYC_S16_SMLAD(a3, v3, lo);                                                      \
        TINYC_S16_LDR(v0, x, -28);                                                        \
        TINYC_S16_LDR(v1, x, -20);                                                        \
        TINYC_S16_LDR(v2, x, -12);                                                        \
        TINYC_S16_LDR(v3, x, -4);                                                         \
        TINYC_S16_SXTB16R(wv);                                                            \
        TINYC_S16_SMLAD(a0, v0, wv);                                                      \
        TINYC_S16_SMLAD(a1, v1, wv);                                                      \
        TINYC_S16_SMLAD(a2, v2, wv);                                                      \
        TINYC_S16_SMLAD(a3, v3, wv);                                                      \
    } while (0)

static TINYC_S16_INLINE void tinyc_gemm4_s16(tinyc_acc4_s16 *a, const int8_t *w,
                                             const int16_t *blk, int32_t k4)
{
    const int16_t *x = blk;
    const int8_t *end4 = w + (k4 & ~15);
    int32_t a0 = a->a0;
    int32_t a1 = a->a1;
    int32_t a2 = a->a2;
    int32_t a3 = a->a3;
    __asm__ volatile("" : : : "memory");        /* the block's stores before the asm loads */
    while (w != end4) {
        TINYC_S16_GROUP(a0, a1, a2, a3, x, w);
        TINYC_S16_GROUP(a0, a1, a2, a3, x, w);
        TINYC_S16_GROUP(a0, a1, a2, a3, x, w);
        TINYC_S16_GROUP(a0, a1, a2, a3, x, w);
    }
    if (k4 & 8) {
        TINYC_S16_GROUP(a0, a1, a2, a3, x, w);
        TINYC_S16_GROUP(a0, a1, a2, a3, x, w);
    }
    if (k4 & 4) {
        TINYC_S16_GROUP(a0, a1, a2, a3, x, w);
    }
    a->a0 = a0;
    a->a1 = a1;
    a->a2 = a2;
    a->a3 = a3;
}

#endif /* TINYC_CONV2D_FAST_S16_DSP_H */
