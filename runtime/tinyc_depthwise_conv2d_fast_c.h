/*
 * tinyc_depthwise_conv2d_fast_c.h - the portable tap of tinyc_depthwise_conv2d_fast_s8.c
 * (not TINYC_DSP); interface and results as tinyc_depthwise_conv2d_fast_dsp.h.
 */
#ifndef TINYC_DEPTHWISE_CONV2D_FAST_C_H
#define TINYC_DEPTHWISE_CONV2D_FAST_C_H

#include "tinyc_fast.h"

static TINYC_ALWAYS_INLINE void tinyc_dw_tap(tinyc_acc4 *a, const int8_t *x, const int16_t *w,
                                             int32_t off)
{
    a->a0 += (x[0] + off) * w[TINYC_W16_LANE(0)];
    a->a1 += (x[1] + off) * w[TINYC_W16_LANE(1)];
    a->a2 += (x[2] + off) * w[TINYC_W16_LANE(2)];
    a->a3 += (x[3] + off) * w[TINYC_W16_LANE(3)];
}

#define TINYC_DW_TAP(a, x, w, ofs, off) tinyc_dw_tap(&(a), x, (w) + (ofs) / 2, off)
#define TINYC_DW_TAP0(a, x, w, ofs, off) tinyc_dw_tap(&(a), x, (w) + (ofs) / 2, 0)

static inline const int8_t *tinyc_dw_step(const int8_t *p, int32_t d)
{
    return p + d;
}


/* The 3x3 path's pieces (see tinyc_depthwise_conv2d_fast_dsp.h). */
static TINYC_ALWAYS_INLINE void tinyc_dw3_row_sn(tinyc_acc4 *a, const int16_t *x,
                                                 const int16_t *w, int32_t s)
{
    a->a0 += x[0] * w[0] + x[1] * w[1] + x[2] * w[3];
    a->a1 += x[s] * w[0] + x[s + 1] * w[1] + x[s + 2] * w[3];
    a->a2 += x[2 * s] * w[0] + x[2 * s + 1] * w[1] + x[2 * s + 2] * w[3];
    a->a3 += x[3 * s] * w[0] + x[3 * s + 1] * w[1] + x[3 * s + 2] * w[3];
}

#define tinyc_dw3_row_s1(a, x, w) tinyc_dw3_row_sn(a, x, w, 1)
#define tinyc_dw3_row_s2(a, x, w) tinyc_dw3_row_sn(a, x, w, 2)

static TINYC_ALWAYS_INLINE void tinyc_dw3_widen2(const int8_t *x, int32_t xc, int32_t off,
                                                 int16_t *d, int32_t pw)
{
    int32_t c;
    for (c = 0; c < 4; ++c) {
        d[c * pw] = (int16_t)(x[c] + off);
        d[c * pw + 1] = (int16_t)(x[xc + c] + off);
    }
}

static TINYC_ALWAYS_INLINE void tinyc_dw3_widen4(const int8_t *x, int32_t xc, int32_t off,
                                                 int16_t *d, int32_t pw)
{
    tinyc_dw3_widen2(x, xc, off, d, pw);
    tinyc_dw3_widen2(x + 2 * xc, xc, off, d + 2, pw);
}

static TINYC_ALWAYS_INLINE void tinyc_dw3_widen4_groups(const int8_t *x, int32_t xc, int32_t off,
                                                        int16_t *d, int32_t pw, int32_t n)
{
    for (; n > 0; --n, x += 4, d += 4 * pw) {
        tinyc_dw3_widen4(x, xc, off, d, pw);
    }
}

static TINYC_ALWAYS_INLINE void tinyc_dw3_widen4_cols(const int8_t *x, int32_t xc, int32_t off,
                                                      int16_t *d, int32_t pw, int32_t n)
{
    for (; n > 0; --n, x += 4 * xc, d += 4) {
        tinyc_dw3_widen4(x, xc, off, d, pw);
    }
}

static TINYC_ALWAYS_INLINE int32_t tinyc_dw3_dot3(int32_t a, const int16_t *x, const int16_t *w)
{
    return a + x[0] * w[0] + x[1] * w[1] + x[2] * w[3];
}

static inline const int16_t *tinyc_dw3_at(const int16_t *x, int32_t d)
{
    return (const int16_t *)(const void *)((const char *)x + d);
}

static TINYC_ALWAYS_INLINE void tinyc_dw3_widen1(const int8_t *x, int32_t off, int16_t *d,
                                                 int32_t pw)
{
    int32_t c;
    for (c = 0; c < 4; ++c) {
        d[c * pw] = (int16_t)(x[c] + off);
    }
}

static inline int8_t *tinyc_dw3_next(int8_t *o, int32_t d)
{
    return o + d;
}

static TINYC_ALWAYS_INLINE int32_t tinyc_dw3_row_s15(tinyc_acc4 *a, int32_t a4,
                                                     const int16_t *x, const int16_t *w)
{
    tinyc_dw3_row_sn(a, x, w, 1);
    return tinyc_dw3_dot3(a4, x + 4, w);
}

/* The five output pixels of a stride-1 row for one channel (see the DSP twin). */
static TINYC_ALWAYS_INLINE void tinyc_dw3_five_s1(const int16_t *x, int32_t d1, int32_t d2,
                                                  const int32_t *k, int8_t *o, int32_t ch)
{
    tinyc_acc4 a;
    int32_t a4 = k[0];
    a.a0 = a.a1 = a.a2 = a.a3 = k[0];
    a4 = tinyc_dw3_row_s15(&a, a4, x, (const int16_t *)(const void *)(k + 4));
    a4 = tinyc_dw3_row_s15(&a, a4, tinyc_dw3_at(x, d1), (const int16_t *)(const void *)(k + 6));
    a4 = tinyc_dw3_row_s15(&a, a4, tinyc_dw3_at(x, d2), (const int16_t *)(const void *)(k + 8));
    o[0] = (int8_t)tinyc_rq_x2(a.a0, k[1], k[2], k[3]);
    o[ch] = (int8_t)tinyc_rq_x2(a.a1, k[1], k[2], k[3]);
    o[2 * ch] = (int8_t)tinyc_rq_x2(a.a2, k[1], k[2], k[3]);
    o[3 * ch] = (int8_t)tinyc_rq_x2(a.a3, k[1], k[2], k[3]);
    o[4 * ch] = (int8_t)tinyc_rq_x2(a4, k[1], k[2], k[3]);
}

static TINYC_ALWAYS_INLINE int32_t tinyc_dw3_row_s25(tinyc_acc4 *a, int32_t a4,
                                                     const int16_t *x, const int16_t *w)
{
    tinyc_dw3_row_sn(a, x, w, 2);
    return tinyc_dw3_dot3(a4, x + 8, w);
}

#endif /* TINYC_DEPTHWISE_CONV2D_FAST_C_H */
