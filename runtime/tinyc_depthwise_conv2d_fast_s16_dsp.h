/*
 * tinyc_depthwise_conv2d_fast_s16_dsp.h - the DSP inner loop of
 * tinyc_depthwise_conv2d_fast_s16.c (same bits as the _c.h one).  On DSP cores the tap list
 * holds, per valid tap, the addresses of the tap's input pixel and of its int16 weight row
 * ([tap][channel]); a group of four channels is at the same byte offset (2 * c) in both.
 * Per tap, each step one volatile one-instruction asm (no compiler reorders them): the two
 * addresses and the first input and weight words load back to back (5 cycles for 4 words),
 * SMLABB / SMLATT, the second words (3 cycles), SMLABB / SMLATT; two taps per loop pass.
 */
#ifndef TINYC_DEPTHWISE_CONV2D_FAST_S16_DSP_H
#define TINYC_DEPTHWISE_CONV2D_FAST_S16_DSP_H

#include "tinyc_dsp.h"

#define TINYC_DW16_ADDRESSES 1      /* the tap list holds addresses (tinyc_dw16_tap) */

/* One tap's list entry: the two addresses as int32 (32-bit cores). */
static inline void tinyc_dw16_tap(int32_t *t, const int16_t *x, const int16_t *w)
{
    t[0] = tinyc_s32((uint32_t)(uintptr_t)x);
    t[1] = tinyc_s32((uint32_t)(uintptr_t)w);
}

#define TINYC_DW16_LDRP(v, p) __asm__ volatile("ldr %0, [%1], #8" : "=r"(v), "+r"(p))
#define TINYC_DW16_LDRW(v, p) __asm__ volatile("ldr %0, [%1, #-4]" : "=r"(v) : "r"(p))
#define TINYC_DW16_LDRR(v, p, o) __asm__ volatile("ldr %0, [%1, %2]" : "=r"(v) : "r"(p), "r"(o))
#define TINYC_DW16_SMLABB(a, x, w) __asm__ volatile("smlabb %0, %1, %2, %0" : "+r"(a) \
                                                    : "r"(x), "r"(w))
#define TINYC_DW16_SMLATT(a, x, w) __asm__ volatile("smlatt %0, %1, %2, %0" : "+r"(a) \
                                                    : "r"(x), "r"(w))

#define TINYC_DW16_TAP(a0, a1, a2, a3, t, o, o4)                                          \
    do {                                                                                  \
        int32_t xp;                                                                       \
        int32_t wp;                                                                       \
        int32_t xv;                                                                       \
        int32_t wv;                                                                       \
        TINYC_DW16_LDRP(xp, t);                                                           \
        TINYC_DW16_LDRW(wp, t);                                                           \
        TINYC_DW16_LDRR(xv, xp, o);                                                       \
        TINYC_DW16_LDRR(wv, wp, o);                                                       \
        TINYC_DW16_SMLABB(a0, xv, wv);                                                    \
        TINYC_DW16_SMLATT(a1, xv, wv);                                                    \
        TINYC_DW16_LDRR(xv, xp, o4);                                                      \
        TINYC_DW16_LDRR(wv, wp, o4);                                                      \
        TINYC_DW16_SMLABB(a2, xv, wv);                                                    \
        TINYC_DW16_SMLATT(a3, xv, wv);                                                    \
    } while (0)

/* Four channels' sums (channels c .. c + 3) over the n taps of the address list. */
static TINYC_S16_INLINE void tinyc_dw_taps4_s16(tinyc_dw_acc4_s16 *a, const int16_t *x,
                                                const int16_t *w, int32_t c,
                                                const int32_t *taps, int32_t n)
{
    const int32_t *t = taps;
    const int32_t *end2 = taps + 2 * (n & ~1);
    const int32_t o = 2 * c;
    const int32_t o4 = o + 4;
    int32_t a0 = 0;
    int32_t a1 = 0;
    int32_t a2 = 0;
    int32_t a3 = 0;
    (void)x;
    (void)w;
    __asm__ volatile("" : : : "memory");        /* the list's stores before the asm loads */
    while (t != end2) {
        TINYC_DW16_TAP(a0, a1, a2, a3, t, o, o4);
        TINYC_DW16_TAP(a0, a1, a2, a3, t, o, o4);
    }
    if (n & 1) {
        TINYC_DW16_TAP(a0, a1, a2, a3, t, o, o4);
    }
    a->a0 = a0;
    a->a1 = a1;
    a->a2 = a2;
    a->a3 = a3;
}

#endif /* TINYC_DEPTHWISE_CONV2D_FAST_S16_DSP_H */
