/*
 * tinyc_conv2d_wino_dsp.h - the inner pieces of tinyc_conv2d_wino_s8 on cores with the DSP
 * extension (TINYC_DSP): the input transform of four channels at once (SXTAB16 widens them with
 * the input offset into the pairs {c0, c2}, {c1, c3}; SADD16 / SSUB16 transform both lanes), the
 * 16 GEMMs of one output channel pair over a block of TINYC_WINO_T = 3 tiles (five LDR in a row,
 * pipelined: 6 estimated M4 cycles, then 6 SMLAD), and the requantization from 2 acc (tinyc_rq_x2).
 * tinyc_conv2d_wino_c.h is the portable twin (same interface, same sums).
 */
#ifndef TINYC_CONV2D_WINO_DSP_H
#define TINYC_CONV2D_WINO_DSP_H

#include <arm_acle.h>

#include "tinyc_fast.h"

/* The asm below steps over TINYC_WINO_T = 3 tile words. */
typedef char tinyc_wino_t_is_3[TINYC_WINO_T == 3 ? 1 : -1];

/* One half (lanes {c0, c2} when ror == 0, {c1, c3} else) of channels c .. c + 3 of the patch
 * to V = B^T d B at v[p * step]. */
static TINYC_ALWAYS_INLINE void tinyc_wino_bt(const int8_t *const px[16], int32_t c,
                                              int32_t off, int32_t ror, int32_t *v,
                                              int32_t step)
{
    int32_t e[16];
    int32_t r;
    for (r = 0; r < 4; ++r) {
        const uint32_t w0 = tinyc_ld4(px[4 * r + 0] + c);
        const uint32_t w1 = tinyc_ld4(px[4 * r + 1] + c);
        const uint32_t w2 = tinyc_ld4(px[4 * r + 2] + c);
        const uint32_t w3 = tinyc_ld4(px[4 * r + 3] + c);
        const int32_t x0 = ror ? tinyc_sxtab16_ror8(off, w0) : __sxtab16(off, (int32_t)w0);
        const int32_t x1 = ror ? tinyc_sxtab16_ror8(off, w1) : __sxtab16(off, (int32_t)w1);
        const int32_t x2 = ror ? tinyc_sxtab16_ror8(off, w2) : __sxtab16(off, (int32_t)w2);
        const int32_t x3 = ror ? tinyc_sxtab16_ror8(off, w3) : __sxtab16(off, (int32_t)w3);
        e[4 * r + 0] = (int32_t)__ssub16(x0, x2);
        e[4 * r + 1] = (int32_t)__sadd16(x1, x2);
        e[4 * r + 2] = (int32_t)__ssub16(x2, x1);
        e[4 * r + 3] = (int32_t)__ssub16(x1, x3);
    }
    for (r = 0; r < 4; ++r) {
        v[(0 + r) * step] = (int32_t)__ssub16(e[r], e[8 + r]);
        v[(4 + r) * step] = (int32_t)__sadd16(e[4 + r], e[8 + r]);
        v[(8 + r) * step] = (int32_t)__ssub16(e[8 + r], e[4 + r]);
        v[(12 + r) * step] = (int32_t)__ssub16(e[4 + r], e[12 + r]);
    }
}

/* Channels c .. c + 3 of the patch (px[p]: the pixel's channels; a pixel outside the input
 * points at a row of input zero points) into v (int32 words): V[p][2 g + h][t] at
 * v[(p * k2 + h) * T] (v already at [0][2 g][t]); off: the input offset (tinyc_widen_offset). */
static inline void tinyc_wino_in4(const int8_t *const px[16], int32_t c, int32_t off,
                                  int32_t *v, int32_t k2)
{
    tinyc_wino_bt(px, c, off, 0, v, k2 * TINYC_WINO_T);
    tinyc_wino_bt(px, c, off, 1, v + TINYC_WINO_T, k2 * TINYC_WINO_T);
}

/* Two weight words (the channel pair) and three tile words of one input channel pair:
 * five LDR in a row. */
#define TINYC_WINO_LOAD                                                                    \
    __asm__("ldr %[u0], [%[u]], #8\n\t"                                                    \
            "ldr %[u1], [%[u], #-4]\n\t"                                                   \
            "ldr %[v0], [%[v]], #12\n\t"                                                   \
            "ldr %[v1], [%[v], #-8]\n\t"                                                   \
            "ldr %[v2], [%[v], #-4]"                                                       \
            : [u0] "=&r"(u0), [u1] "=&r"(u1), [v0] "=&r"(v0), [v1] "=&r"(v1),             \
              [v2] "=&r"(v2), [u] "+r"(u), [v] "+r"(v)                                     \
            : "m"(*(const int32_t(*)[2])u), "m"(*(const int32_t(*)[3])v))
#define TINYC_WINO_MAC                                                                     \
    a0 = __smlad(u0, v0, a0);                                                              \
    a1 = __smlad(u0, v1, a1);                                                              \
    a2 = __smlad(u0, v2, a2);                                                              \
    b0 = __smlad(u1, v0, b0);                                                              \
    b1 = __smlad(u1, v1, b1);                                                              \
    b2 = __smlad(u1, v2, b2)

#define TINYC_WINO_MUL                                                                     \
    a0 = __smuad(u0, v0);                                                                  \
    a1 = __smuad(u0, v1);                                                                  \
    a2 = __smuad(u0, v2);                                                                  \
    b0 = __smuad(u1, v0);                                                                  \
    b1 = __smuad(u1, v1);                                                                  \
    b2 = __smuad(u1, v2)
#define TINYC_WINO_STEPS4                                                                  \
    TINYC_WINO_LOAD;                                                                       \
    TINYC_WINO_MAC;                                                                        \
    TINYC_WINO_LOAD;                                                                       \
    TINYC_WINO_MAC;                                                                        \
    TINYC_WINO_LOAD;                                                                       \
    TINYC_WINO_MAC;                                                                        \
    TINYC_WINO_LOAD;                                                                       \
    TINYC_WINO_MAC

/* m[p][j][t] = sum over k < k2 of u[p][k][j] . v[p][k][t] (SMLAD: two int16 products per
 * word) for the first np positions p of u and v, the channel pair j and the three tiles t;
 * k2 is even.  Where k2 % 8 == 0 the first eight steps are straight code (the first one
 * SMUAD: no zeroing), then eight steps per loop pass; else four (k2 % 4 == 0) or two steps
 * per loop pass. */
static TINYC_ALWAYS_INLINE void tinyc_wino_gemm(const int32_t *u, const int32_t *v, int32_t k2,
                                                int32_t *m, int32_t np)
{
    int32_t p;
    for (p = 0; p < np; ++p) {
        int32_t a0, a1, a2, b0, b1, b2;
        int32_t u0, u1, v0, v1, v2;
        const int32_t *end = u + 2 * k2;
        if ((k2 & 7) == 0) {
            TINYC_WINO_LOAD;
            TINYC_WINO_MUL;
            TINYC_WINO_LOAD;
            TINYC_WINO_MAC;
            TINYC_WINO_LOAD;
            TINYC_WINO_MAC;
            TINYC_WINO_LOAD;
            TINYC_WINO_MAC;
            TINYC_WINO_STEPS4;
            while (u != end) {
                TINYC_WINO_STEPS4;
                TINYC_WINO_STEPS4;
            }
        } else {
            a0 = a1 = a2 = b0 = b1 = b2 = 0;
            if ((k2 & 3) == 0) {
                do {
                    TINYC_WINO_STEPS4;
                } while (u != end);
            } else {
                do {
                    TINYC_WINO_LOAD;
                    TINYC_WINO_MAC;
                    TINYC_WINO_LOAD;
                    TINYC_WINO_MAC;
                } while (u != end);
            }
        }
        m[0] = a0; m[1] = a1; m[2] = a2;
        m[3] = b0; m[4] = b1; m[5] = b2;
        m += 2 * TINYC_WINO_T;
    }
}

/* The int8 output of the sums y = 4 acc (bias2 = 2 bias): 2 acc = bias2 + y / 2, then
 * SMMLAR + ASR + SSAT. */
static inline int32_t tinyc_wino_rq(int32_t y, int32_t bias2, const tinyc_rq *r)
{
    return tinyc_rq_x2(bias2 + tinyc_asr(y, 1), r->m, r->h, r->e);
}

#define TINYC_WINO_BIAS_SCALE 2

#endif /* TINYC_CONV2D_WINO_DSP_H */
