/*
 * tinyc_conv2d_fast_c.h - the portable inner loops of tinyc_conv2d_fast_s8.c (not TINYC_DSP);
 * the interface and the results are those of tinyc_conv2d_fast_dsp.h (see there); lanes in
 * natural order.
 */
#ifndef TINYC_CONV2D_FAST_C_H
#define TINYC_CONV2D_FAST_C_H

#include "tinyc_fast.h"

static inline void tinyc_col_zero4(int16_t *dst, int32_t n4)
{
    for (; n4 > 0; --n4, dst += TINYC_GROUP) {
        dst[0] = 0;
        dst[1] = 0;
        dst[2] = 0;
        dst[3] = 0;
    }
}

static inline void tinyc_col_copy4(int16_t *dst, const int8_t *src, int32_t n4, int32_t off)
{
    for (; n4 > 0; --n4, dst += TINYC_GROUP, src += 4) {
        tinyc_widen4(src, off, dst);
    }
}

static inline void tinyc_col_copy16(int16_t *dst, const int8_t *src, int32_t n4, int32_t off)
{
    tinyc_col_copy4(dst, src, n4, off);
}

static inline void tinyc_gemm2x3(tinyc_acc2x3 *acc, const int8_t *w, const int16_t *x,
                                 int32_t k4)
{
    int32_t k;
    int32_t j;
    for (k = 0; k < k4; k += 4, w += 8, x += TINYC_GROUP) {
        for (j = 0; j < 4; ++j) {
            const int32_t wa = w[j];
            const int32_t wb = w[4 + j];
            acc->a0 += wa * x[j];
            acc->a1 += wa * x[4 + j];
            acc->a2 += wa * x[8 + j];
            acc->b0 += wb * x[j];
            acc->b1 += wb * x[4 + j];
            acc->b2 += wb * x[8 + j];
        }
    }
}

static inline void tinyc_gemm6(tinyc_acc6 *acc, const int8_t *w, const int16_t *x,
                               int32_t k4)
{
    int32_t k;
    int32_t j;
    for (k = 0; k < k4; k += 4, w += 8, x += TINYC_GROUP) {
        for (j = 0; j < 4; ++j) {
            const int32_t wj = w[j];
            acc->a0 += wj * x[j];
            acc->a1 += wj * x[4 + j];
            acc->a2 += wj * x[8 + j];
            acc->a3 += wj * x[12 + j];
            acc->a4 += wj * x[16 + j];
            acc->a5 += wj * x[20 + j];
        }
    }
}

static inline void tinyc_k8_chan(const int8_t *w, int32_t b, const tinyc_rq **rq,
                                 const int16_t *x, int8_t *o, int32_t oc)
{
    const tinyc_rq r = tinyc_rq_next(rq);
    int32_t i;
    int32_t j;
    for (i = 0; i < TINYC_COLS; ++i, o += oc) {
        int32_t a = b;
        for (j = 0; j < 4; ++j) {
            a += w[j] * x[i * 4 + j] + w[8 + j] * x[TINYC_GROUP + i * 4 + j];
        }
        *o = (int8_t)tinyc_rq_apply3(a, r.m, r.h, r.e, 0);
    }
}

static inline void tinyc_st6_cols(int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4,
                                  int32_t a5, int8_t **o, int32_t oc)
{
    int8_t *out = (*o)++;
    out[0] = (int8_t)a0;
    out[oc] = (int8_t)a1;
    out[2 * oc] = (int8_t)a2;
    out[3 * oc] = (int8_t)a3;
    out[4 * oc] = (int8_t)a4;
    out[5 * oc] = (int8_t)a5;
}

#endif /* TINYC_CONV2D_FAST_C_H */
