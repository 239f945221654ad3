/*
 * tinyc_conv2d_wino_c.h - the portable inner pieces of tinyc_conv2d_wino_s8 (Cortex-M0/M3,
 * hosts): the same interface and the same sums as tinyc_conv2d_wino_dsp.h, one channel at a
 * time in int32 (every value is bounded at compile time: nothing overflows).
 */
#ifndef TINYC_CONV2D_WINO_C_H
#define TINYC_CONV2D_WINO_C_H

#include "tinyc_fast.h"

static inline void tinyc_wino_in4(const int8_t *const px[16], int32_t c, int32_t off,
                                  int32_t *v, int32_t k2)
{
    int32_t j;
    for (j = 0; j < 4; ++j) {
        tinyc_wino_in1(px, c + j, 1, off, v, k2, j);
    }
}

static inline void tinyc_wino_gemm(const int32_t *u, const int32_t *v, int32_t k2,
                                   int32_t *m, int32_t np)
{
    const int16_t *uh = (const int16_t *)(const void *)u;
    const int16_t *vh = (const int16_t *)(const void *)v;
    int32_t p;
    int32_t k;
    int32_t j;
    int32_t t;
    for (p = 0; p < np; ++p) {
        for (j = 0; j < 2; ++j) {
            for (t = 0; t < TINYC_WINO_T; ++t) {
                int32_t acc = 0;
                for (k = 0; k < k2; ++k) {
                    const int16_t *a = uh + 2 * (2 * k + j);
                    const int16_t *b = vh + 2 * (TINYC_WINO_T * k + t);
                    acc += (int32_t)a[0] * b[0] + (int32_t)a[1] * b[1];
                }
                m[(2 * p + j) * TINYC_WINO_T + t] = acc;
            }
        }
        uh += 4 * k2;
        vh += 2 * TINYC_WINO_T * k2;
    }
}

/* The int8 output of the sums y = 4 acc: acc = bias + y / 4 (exact), requantized. */
static inline int32_t tinyc_wino_rq(int32_t y, int32_t bias, const tinyc_rq *r)
{
    return tinyc_rq_apply3(bias + tinyc_asr(y, 2), r->m, r->h, r->e, 0);
}

#define TINYC_WINO_BIAS_SCALE 1

#endif /* TINYC_CONV2D_WINO_C_H */
