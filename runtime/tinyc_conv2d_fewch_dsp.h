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

/* One tap pair J of a 3-pixel x 2-channel pass (p: pixel 0's window, pixels 1 and 2 S and
 * 2 S bytes on; w: the first channel's weights in the [7][4 channels][4 taps] layout, the
 * second 8 bytes on): the three pixels' words and both channels' weights are five LDR in a
 * row (6 cycles), then 6 SMLAD: 12 cycles for 12 MACs.  6 sums, 2 pointers, 5 operands. */
#define TINYC_FEWCH_PAIR3(J, S)                                                            \
    __asm__("ldr %[x], [%[p], #%c[xo]]\n\t"                                                \
            "ldr %[y], [%[p], #%c[xo] + %c[s]]\n\t"                                        \
            "ldr %[z], [%[p], #%c[xo] + 2 * %c[s]]\n\t"                                    \
            "ldr %[v], [%[w], #%c[wo]]\n\t"                                                \
            "ldr %[u], [%[w], #%c[wo] + 8]\n\t"                                            \
            "smlad %[a0], %[x], %[v], %[a0]\n\t"                                           \
            "smlad %[a1], %[y], %[v], %[a1]\n\t"                                           \
            "smlad %[a2], %[z], %[v], %[a2]"                                               \
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [x] "=&r"(x), [y] "=&r"(y),     \
              [z] "=&r"(z), [v] "=&r"(v), [u] "=&r"(u)                                     \
            : [p] "r"(p), [w] "r"(w), [xo] "i"(4 * (J)), [s] "i"(S),                       \
              [wo] "i"(32 * ((J) >> 1) + 4 * ((J) & 1))                                    \
            : "memory");                                                                   \
    __asm__("smlad %[a3], %[x], %[u], %[a3]\n\t"                                           \
            "smlad %[a4], %[y], %[u], %[a4]\n\t"                                           \
            "smlad %[a5], %[z], %[u], %[a5]"                                               \
            : [a3] "+r"(a3), [a4] "+r"(a4), [a5] "+r"(a5)                                  \
            : [x] "r"(x), [y] "r"(y), [z] "r"(z), [u] "r"(u))

#define TINYC_FEWCH_PAIRS3_28(S)                                                           \
    TINYC_FEWCH_PAIR3(0, S); TINYC_FEWCH_PAIR3(1, S); TINYC_FEWCH_PAIR3(2, S);             \
    TINYC_FEWCH_PAIR3(3, S); TINYC_FEWCH_PAIR3(4, S); TINYC_FEWCH_PAIR3(5, S);             \
    TINYC_FEWCH_PAIR3(6, S); TINYC_FEWCH_PAIR3(7, S); TINYC_FEWCH_PAIR3(8, S);             \
    TINYC_FEWCH_PAIR3(9, S); TINYC_FEWCH_PAIR3(10, S); TINYC_FEWCH_PAIR3(11, S);           \
    TINYC_FEWCH_PAIR3(12, S); TINYC_FEWCH_PAIR3(13, S)

/* The 3-pixel x 2-channel pass of k4 = 28 (acc[3 c + pixel]), the pixels S bytes apart. */
#define TINYC_FEWCH_DOT3U(NAME, S)                                                         \
    static TINYC_ALWAYS_INLINE void NAME(const int16_t *p, const int16_t *w, int32_t acc[6]) \
    {                                                                                      \
        int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], a4 = acc[4];           \
        int32_t a5 = acc[5];                                                               \
        int32_t x, y, z, v, u;                                                             \
        TINYC_FEWCH_PAIRS3_28(S);                                                          \
        acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3; acc[4] = a4; acc[5] = a5;      \
    }
#if defined(TINYC_FEWCH_K28_S9)
TINYC_FEWCH_DOT3U(tinyc_fewch_dot3_28_s18, 18)
#endif
#if defined(TINYC_FEWCH_K28_S18)
TINYC_FEWCH_DOT3U(tinyc_fewch_dot3_28_s36, 36)
#endif

/* A 3-pixel x 2-channel pass by mode (1 or 2; tinyc_fewch_mode). */
static TINYC_ALWAYS_INLINE void tinyc_fewch_dot3(const int16_t *x0, int32_t step,
                                                 const int16_t *w, int32_t nq, int32_t acc[6],
                                                 int32_t mode)
{
    (void)x0;
    (void)step;
    (void)w;
    (void)nq;
    (void)acc;
    (void)mode;
#if defined(TINYC_FEWCH_K28_S9)
    if (mode == 1) {
        tinyc_fewch_dot3_28_s18(x0, w, acc);
    }
#endif
#if defined(TINYC_FEWCH_K28_S18)
    if (mode == 2) {
        tinyc_fewch_dot3_28_s36(x0, w, acc);
    }
#endif
}

/* One tap pair J (0..9) of the 5-pixel x 1-channel pass of k4 = 40 with windows 20 int16
 * apart (a 10x4 filter on one input channel, stride 2: kws's first conv).  Pixel p's window is
 * the scratch words 10 p .. 10 p + 19, so its tap pair J + 10 is pixel p + 1's tap pair J: the
 * six words J, J + 10, .., J + 50 and the channel's weights J and J + 10 (w: the channel's
 * first weight word in the [10][4 channels][4 taps] layout) serve 10 SMLAD for 8 LDR in two
 * runs: 20 cycles for 20 MACs.  13 registers (5 sums, 2 pointers, 5 words, 1 weight), at most
 * 10 in one asm. */
#define TINYC_FEWCH_FIVE(J)                                                                \
    __asm__("ldr %[v], [%[w], #%c[wo]]\n\t"                                                \
            "ldr %[x0], [%[p], #%c[xo]]\n\t"                                               \
            "ldr %[x1], [%[p], #%c[xo] + 40]\n\t"                                          \
            "ldr %[x2], [%[p], #%c[xo] + 80]\n\t"                                          \
            "ldr %[x3], [%[p], #%c[xo] + 120]\n\t"                                         \
            "ldr %[x4], [%[p], #%c[xo] + 160]\n\t"                                         \
            "smlad %[a0], %[x0], %[v], %[a0]\n\t"                                          \
            "smlad %[a1], %[x1], %[v], %[a1]"                                              \
            : [a0] "+r"(a0), [a1] "+r"(a1), [x0] "=&r"(x0), [x1] "=&r"(x1),                \
              [x2] "=&r"(x2), [x3] "=&r"(x3), [x4] "=&r"(x4), [v] "=&r"(v)                 \
            : [p] "r"(p), [w] "r"(w), [xo] "i"(4 * (J)),                                   \
              [wo] "i"(32 * ((J) >> 1) + 4 * ((J) & 1))                                    \
            : "memory");                                                                   \
    __asm__("smlad %[a2], %[x2], %[v], %[a2]\n\t"                                          \
            "smlad %[a3], %[x3], %[v], %[a3]\n\t"                                          \
            "smlad %[a4], %[x4], %[v], %[a4]"                                              \
            : [a2] "+r"(a2), [a3] "+r"(a3), [a4] "+r"(a4)                                  \
            : [x2] "r"(x2), [x3] "r"(x3), [x4] "r"(x4), [v] "r"(v));                       \
    __asm__("ldr %[v], [%[w], #%c[wo] + 160]\n\t"                                          \
            "ldr %[x0], [%[p], #%c[xo] + 200]\n\t"                                         \
            "smlad %[a0], %[x1], %[v], %[a0]\n\t"                                          \
            "smlad %[a1], %[x2], %[v], %[a1]"                                              \
            : [a0] "+r"(a0), [a1] "+r"(a1), [x0] "=&r"(x0), [v] "=&r"(v)                   \
            : [x1] "r"(x1), [x2] "r"(x2), [p] "r"(p), [w] "r"(w), [xo] "i"(4 * (J)),       \
              [wo] "i"(32 * ((J) >> 1) + 4 * ((J) & 1))                                    \
            : "memory");                                                                   \
    __asm__("smlad %[a2], %[x3], %[v], %[a2]\n\t"                                          \
            "smlad %[a3], %[x4], %[v], %[a3]\n\t"                                          \
            "smlad %[a4], %[x0], %[v], %[a4]"                                              \
            : [a2] "+r"(a2), [a3] "+r"(a3), [a4] "+r"(a4)                                  \
            : [x3] "r"(x3), [x4] "r"(x4), [x0] "r"(x0), [v] "r"(v))

/* Tap pair 0's first half with the sums starting at b (no copies of the bias). */
#define TINYC_FEWCH_FIVE_FIRST                                                             \
    __asm__("ldr %[v], [%[w]]\n\t"                                                        \
            "ldr %[x0], [%[p]]\n\t"                                                       \
            "ldr %[x1], [%[p], #40]\n\t"                                                  \
            "ldr %[x2], [%[p], #80]\n\t"                                                  \
            "ldr %[x3], [%[p], #120]\n\t"                                                 \
            "ldr %[x4], [%[p], #160]\n\t"                                                 \
            "smlad %[a0], %[x0], %[v], %[b]\n\t"                                          \
            "smlad %[a1], %[x1], %[v], %[b]"                                               \
            : [a0] "=&r"(a0), [a1] "=&r"(a1), [x0] "=&r"(x0), [x1] "=&r"(x1),              \
              [x2] "=&r"(x2), [x3] "=&r"(x3), [x4] "=&r"(x4), [v] "=&r"(v)                 \
            : [p] "r"(p), [w] "r"(w), [b] "r"(b)                                           \
            : "memory");                                                                   \
    __asm__("smlad %[a2], %[x2], %[v], %[b]\n\t"                                          \
            "smlad %[a3], %[x3], %[v], %[b]\n\t"                                          \
            "smlad %[a4], %[x4], %[v], %[b]"                                               \
            : [a2] "=&r"(a2), [a3] "=&r"(a3), [a4] "=&r"(a4)                               \
            : [x2] "r"(x2), [x3] "r"(x3), [x4] "r"(x4), [v] "r"(v), [b] "r"(b))

#if defined(TINYC_FEWCH_K40_S20)
/* The 5-pixel x 1-channel pass of k4 = 40, step 20 (acc[pixel] = b + the window's sum; p:
 * pixel 0's window). */
static TINYC_ALWAYS_INLINE void tinyc_fewch_dot5(const int16_t *p, int32_t step,
                                                 const int16_t *w, int32_t nq, int32_t b,
                                                 int32_t acc[5])
{
    int32_t a0, a1, a2, a3, a4;
    int32_t x0, x1, x2, x3, x4, v;
    (void)step;
    (void)nq;
    TINYC_FEWCH_FIVE_FIRST;
    __asm__("ldr %[v], [%[w], #160]\n\t"
            "ldr %[x0], [%[p], #200]\n\t"
            "smlad %[a0], %[x1], %[v], %[a0]\n\t"
            "smlad %[a1], %[x2], %[v], %[a1]"
            : [a0] "+r"(a0), [a1] "+r"(a1), [x0] "=&r"(x0), [v] "=&r"(v)
            : [x1] "r"(x1), [x2] "r"(x2), [p] "r"(p), [w] "r"(w)
            : "memory");
    __asm__("smlad %[a2], %[x3], %[v], %[a2]\n\t"
            "smlad %[a3], %[x4], %[v], %[a3]\n\t"
            "smlad %[a4], %[x0], %[v], %[a4]"
            : [a2] "+r"(a2), [a3] "+r"(a3), [a4] "+r"(a4)
            : [x3] "r"(x3), [x4] "r"(x4), [x0] "r"(x0), [v] "r"(v));
    TINYC_FEWCH_FIVE(1); TINYC_FEWCH_FIVE(2); TINYC_FEWCH_FIVE(3);
    TINYC_FEWCH_FIVE(4); TINYC_FEWCH_FIVE(5); TINYC_FEWCH_FIVE(6); TINYC_FEWCH_FIVE(7);
    TINYC_FEWCH_FIVE(8); TINYC_FEWCH_FIVE(9);
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3; acc[4] = a4;
}

/* y0..y4 (int8 values) stored at q, q + oc, .., q + 4 oc: one base and oc in registers. */
static TINYC_ALWAYS_INLINE void tinyc_fewch_store5(int8_t *q, int32_t oc, int32_t y0,
                                                   int32_t y1, int32_t y2, int32_t y3,
                                                   int32_t y4)
{
    int8_t *t;
    __asm__ volatile("add %[t], %[q], %[oc], lsl #1\n\t"
                     "strb %[y0], [%[q]]\n\t"
                     "strb %[y1], [%[q], %[oc]]\n\t"
                     "strb %[y2], [%[t]]\n\t"
                     "strb %[y3], [%[t], %[oc]]\n\t"
                     "strb %[y4], [%[t], %[oc], lsl #1]"
                     : [t] "=&r"(t)
                     : [q] "r"(q), [oc] "r"(oc), [y0] "r"(y0), [y1] "r"(y1), [y2] "r"(y2),
                       [y3] "r"(y3), [y4] "r"(y4)
                     : "memory");
}
#endif

/* The unrolled pass of (nq, step) where this model's copy of the kernel has it (the model's
 * kernels/tinyc_conv2d_fewch_s8.c defines TINYC_FEWCH_K<k4>_S<step> for each pass its layers
 * run, backend_c/fewch.py): 1 (k4 28, stride 1), 2 (k4 28, stride 2), 3 (k4 40, windows
 * 20 int16 apart); 0 none. */
static inline int32_t tinyc_fewch_mode(int32_t nq, int32_t step)
{
    (void)nq;
    (void)step;
#if defined(TINYC_FEWCH_K28_S9)
    if (nq == 7 && step == 9) {
        return 1;
    }
#endif
#if defined(TINYC_FEWCH_K28_S18)
    if (nq == 7 && step == 18) {
        return 2;
    }
#endif
#if defined(TINYC_FEWCH_K40_S20)
    if (nq == 10 && step == 20) {
        return 3;
    }
#endif
    return 0;
}

#endif /* TINYC_CONV2D_FEWCH_DSP_H */
