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

/* acc[p] = b + sum over k < 4 nq of x_p[k] * w[16 (k / 4) + k % 4], x_p = x0 + p step,
 * p < 5 (the DSP twin's 5-pixel x 1-channel pass). */
static inline void tinyc_fewch_dot5(const int16_t *x0, int32_t step, const int16_t *w,
                                    int32_t nq, int32_t b, int32_t acc[5])
{
    int32_t k;
    int32_t px;
    for (px = 0; px < 5; ++px) {
        acc[px] = b;
        for (k = 0; k < 4 * nq; ++k) {
            acc[px] += (int32_t)x0[px * step + k] * w[16 * (k >> 2) + (k & 3)];
        }
    }
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

/* No unrolled passes here (the DSP twin's tinyc_fewch_mode). */
static inline int32_t tinyc_fewch_mode(int32_t nq, int32_t step)
{
    (void)nq;
    (void)step;
    return 0;
}

#endif /* TINYC_CONV2D_FEWCH_C_H */
