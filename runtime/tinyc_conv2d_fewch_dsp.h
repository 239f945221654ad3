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

/* The six values are in registers here (an empty asm): the loads before it stay together. */
#define TINYC_FEWCH_HOLD(a, b, c, d, e, f)                                                 \
    __asm__("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e), "+r"(f))

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

/* One tap pair J of a 28-tap pass (p: pixel 0's window, pixel 1's S bytes on; w: the pass's
 * [7][4 channels][4 taps] int16 weights): the two pixels' words and channel 0's weights are
 * three LDR in a row (4 cycles), then per channel 2 SMLAD and the next channel's LDR (2): 18
 * cycles for 16 MACs (the loop of tinyc_fewch_dot: ~26).  All offsets are immediates, so a
 * pass needs only the two pointers, the eight sums and three operands: 13 registers (clang
 * keeps r7 for the frame), no loop counter. */
#define TINYC_FEWCH_PAIR(J, S)                                                             \
    __asm__("ldr %[x], [%[p], #%c[xo]]\n\t"                                                \
            "ldr %[y], [%[p], #%c[yo]]\n\t"                                                \
            "ldr %[v], [%[w], #%c[wo]]\n\t"                                                \
            "smlad %[a0], %[x], %[v], %[a0]\n\t"                                           \
            "smlad %[a1], %[y], %[v], %[a1]\n\t"                                           \
            "ldr %[v], [%[w], #%c[wo] + 8]\n\t"                                            \
            "smlad %[a2], %[x], %[v], %[a2]\n\t"                                           \
            "smlad %[a3], %[y], %[v], %[a3]"                                               \
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "=&r"(x),    \
              [y] "=&r"(y), [v] "=&r"(v)                                                   \
            : [p] "r"(p), [w] "r"(w), [xo] "i"(4 * (J)), [yo] "i"(4 * (J) + (S)),          \
              [wo] "i"(32 * ((J) >> 1) + 4 * ((J) & 1))                                    \
            : "memory");                                                                   \
    __asm__("ldr %[v], [%[w], #%c[wo] + 16]\n\t"                                           \
            "smlad %[a4], %[x], %[v], %[a4]\n\t"                                           \
            "smlad %[a5], %[y], %[v], %[a5]\n\t"                                           \
            "ldr %[v], [%[w], #%c[wo] + 24]\n\t"                                           \
            "smlad %[a6], %[x], %[v], %[a6]\n\t"                                           \
            "smlad %[a7], %[y], %[v], %[a7]"                                               \
            : [a4] "+r"(a4), [a5] "+r"(a5), [a6] "+r"(a6), [a7] "+r"(a7), [v] "=&r"(v)     \
            : [x] "r"(x), [y] "r"(y), [w] "r"(w),                                          \
              [wo] "i"(32 * ((J) >> 1) + 4 * ((J) & 1))                                    \
            : "memory")

/* tinyc_fewch_dot for k4 = 28 (3x3 kernels on 3 channels: vww's and ic's first convs) and the
 * second window S bytes after the first (a constant: immediates in the loads). */
#define TINYC_FEWCH_DOT28(NAME, S)                                                         \
    static TINYC_ALWAYS_INLINE void NAME(const int16_t *p, const int16_t *w, int32_t acc[8]) \
    {                                                                                      \
        int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];                        \
        int32_t a4 = acc[4], a5 = acc[5], a6 = acc[6], a7 = acc[7];                        \
        int32_t x, y, v;                                                                   \
        TINYC_FEWCH_PAIR(0, S); TINYC_FEWCH_PAIR(1, S); TINYC_FEWCH_PAIR(2, S);            \
        TINYC_FEWCH_PAIR(3, S); TINYC_FEWCH_PAIR(4, S); TINYC_FEWCH_PAIR(5, S);            \
        TINYC_FEWCH_PAIR(6, S); TINYC_FEWCH_PAIR(7, S); TINYC_FEWCH_PAIR(8, S);            \
        TINYC_FEWCH_PAIR(9, S); TINYC_FEWCH_PAIR(10, S); TINYC_FEWCH_PAIR(11, S);          \
        TINYC_FEWCH_PAIR(12, S); TINYC_FEWCH_PAIR(13, S);                                  \
        acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;                                \
        acc[4] = a4; acc[5] = a5; acc[6] = a6; acc[7] = a7;                                \
    }
TINYC_FEWCH_DOT28(tinyc_fewch_dot28_s18, 18)    /* stride 1: windows 9 int16 apart */
TINYC_FEWCH_DOT28(tinyc_fewch_dot28_s36, 36)    /* stride 2 */

/* The unrolled pass of (nq, step): 1 (k4 28, stride 1), 2 (k4 28, stride 2), 0 none. */
static inline int32_t tinyc_fewch_mode(int32_t nq, int32_t step)
{
    return nq != 7 ? 0 : step == 9 ? 1 : step == 18 ? 2 : 0;
}

/* A pass of two pixels `step` int16 apart, by mode (tinyc_fewch_mode; a constant). */
static TINYC_ALWAYS_INLINE void tinyc_fewch_dot2(const int16_t *x0, int32_t step,
                                                 const int16_t *w, int32_t nq, int32_t acc[8],
                                                 int32_t mode)
{
    if (mode == 1) {
        tinyc_fewch_dot28_s18(x0, w, acc);
    } else if (mode == 2) {
        tinyc_fewch_dot28_s36(x0, w, acc);
    } else {
        tinyc_fewch_dot(x0, x0 + step, w, nq, acc);
    }
}

#endif /* TINYC_CONV2D_FEWCH_DSP_H */
