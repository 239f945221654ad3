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

#endif /* TINYC_DEPTHWISE_CONV2D_FAST_C_H */
