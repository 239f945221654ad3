/*
 * tinyc_conv2d_fewch_c.h - the portable inner loop of tinyc_conv2d_fewch_s8 (the interface
 * and the sums of tinyc_conv2d_fewch_dsp.h).
 */
#ifndef TINYC_CONV2D_FEWCH_C_H
#define TINYC_CONV2D_FEWCH_C_H

#include "tinyc_fast.h"

/* The DSP twin groups the loads of tinyc_fewch_row with an empty asm; nothing here. */
#define TINYC_FEWCH_HOLD(a, b, c, d, e, f) ((void)0)

/* acc[2 c + p] += sum over k < 4 nq of x_p[k] * w[q][c][k % 4] (w: [nq][4 channels][4]). */
static inline void tinyc_fewch_dot(const int16_t *x0, const int16_t *x1, const int16_t *w,
                                   int32_t nq, int32_t acc[8])
{
    int32_t q;
    int32_t c;
    int32_t k;
    for (q = 0; q < nq; ++q) {
        for (c = 0; c < 4; ++c) {
            for (k = 0; k < 4; ++k) {
                acc[2 * c] += (int32_t)x0[4 * q + k] * w[16 * q + 4 * c + k];
                acc[2 * c + 1] += (int32_t)x1[4 * q + k] * w[16 * q + 4 * c + k];
            }
        }
    }
}

/* acc[c] += sum over k < 4 nq of x0[k] * w[q][c][k % 4]: one pixel. */
static inline void tinyc_fewch_dot1(const int16_t *x0, const int16_t *w, int32_t nq,
                                    int32_t acc[4])
{
    int32_t q;
    int32_t c;
    int32_t k;
    for (q = 0; q < nq; ++q) {
        for (c = 0; c < 4; ++c) {
            for (k = 0; k < 4; ++k) {
                acc[c] += (int32_t)x0[4 * q + k] * w[16 * q + 4 * c + k];
            }
        }
    }
}

/* acc[3 c + p] += sum over k < 4 nq of x_p[k] * w[q][c][k % 4], x_p = x0 + p step, c < 2
 * (the DSP twin's 3-pixel pass; mode is never nonzero here). */
static inline void tinyc_fewch_dot3(const int16_t *x0, int32_t step, const int16_t *w,
                                    int32_t nq, int32_t acc[6], int32_t mode)
{
    int32_t q;
    int32_t c;
    int32_t k;
    int32_t px;
    (void)mode;
    for (q = 0; q < nq; ++q) {
        for (c = 0; c < 2; ++c) {
            for (px = 0; px < 3; ++px) {
                for (k = 0; k < 4; ++k) {
                    acc[3 * c + px] += (int32_t)x0[px * step + 4 * q + k]
                                       * w[16 * q + 4 * c + k];
                }
            }
        }
    }
}

/* acc[p] = b + sum over k < 40 of x_p[k] * w[16 (k / 4) + k % 4], x_p = x0 + 20 p, p < 5
 * (mode 3 only: k4 40, windows 20 int16 apart): tap k + 20 of pixel p is tap k of pixel
 * p + 1, so six values and two weights serve ten MACs (the DSP twin's 5-pixel pass). */
static inline void tinyc_fewch_dot5(const int16_t *x0, int32_t step, const int16_t *w,
                                    int32_t nq, int32_t b, int32_t acc[5])
{
    int32_t a0 = b, a1 = b, a2 = b, a3 = b, a4 = b;
    const int16_t *end = w + 80;
    (void)step;
    (void)nq;
    for (; w != end; w += 16, x0 += 4) {       /* four taps a step: [q][4 channels][4] */
        int32_t t;
        for (t = 0; t < 4; ++t) {
            const int32_t u = w[t];
            const int32_t v = w[80 + t];
            const int32_t s0 = x0[t];
            const int32_t s1 = x0[t + 20];
            const int32_t s2 = x0[t + 40];
            const int32_t s3 = x0[t + 60];
            const int32_t s4 = x0[t + 80];
            const int32_t s5 = x0[t + 100];
            a0 += s0 * u + s1 * v;
            a1 += s1 * u + s2 * v;
            a2 += s2 * u + s3 * v;
            a3 += s3 * u + s4 * v;
            a4 += s4 * u + s5 * v;
        }
    }
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3; acc[4] = a4;
}

/* y0..y4 stored at q, q + oc, .., q + 4 oc. */
static inline void tinyc_fewch_store5(int8_t *q, int32_t oc, int32_t y0, int32_t y1,
                                      int32_t y2, int32_t y3, int32_t y4)
{
    q[0] = (int8_t)y0;
    q[oc] = (int8_t)y1;
    q[2 * oc] = (int8_t)y2;
    q[3 * oc] = (int8_t)y3;
    q[4 * oc] = (int8_t)y4;
}

/* The DSP twin's tinyc_fewch_mode: here only the 5-pixel pass (mode 3, k4 40, windows 20
 * int16 apart), where the loop passes are slower than the GEMM kernel they replace. */
static inline int32_t tinyc_fewch_mode(int32_t nq, int32_t step)
{
    (void)nq;
    (void)step;
#if defined(TINYC_FEWCH_K40_S20)
    if (nq == 10 && step == 20) {
        return 3;
    }
#endif
    return 0;
}

#endif /* TINYC_CONV2D_FEWCH_C_H */
