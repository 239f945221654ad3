/*
 * tinyc_fast_c.h - the portable inner pieces shared by the fast kernels (included by
 * tinyc_fast.h when not TINYC_DSP: Cortex-M0/M0+/M3, hosts, -O0).  Same interface and same
 * results as tinyc_fast_dsp.h; widened data in natural lane order.
 */
#ifndef TINYC_FAST_C_H
#define TINYC_FAST_C_H

#include <stdint.h>

#include "tinyc_nn.h"
#include "tinyc_requant.h"

#define TINYC_LANE(j) (j)
#define TINYC_ALWAYS_INLINE inline

/* The portable path takes the output offset from h = 2^(e-1) + offset * 2^e (a constant
 * channel, m = 0 and e = 1, has h = 1 + 2 c: its offset is its value c). */
static inline int32_t tinyc_rq_apply3(int32_t acc, int32_t m, int32_t h, int32_t e,
                                      int32_t offset)
{
    int32_t y;
    (void)offset;
    y = tinyc_requantize(acc, m, -e) + tinyc_asr(h - (int32_t)(UINT32_C(1) << (e - 1)), e);
    return y < -128 ? -128 : (y > 127 ? 127 : y);
}

static inline int32_t tinyc_rq_x2(int32_t a2, int32_t m, int32_t h, int32_t e)
{
    return tinyc_rq_apply3(a2 / 2, m, h, e, 0);
}

static inline tinyc_rq tinyc_rq_next(const tinyc_rq **rq)
{
    return *(*rq)++;
}

static inline int32_t tinyc_widen_offset(int32_t offset)
{
    return offset;
}

static inline void tinyc_widen4(const int8_t *x, int32_t off, int16_t *dst)
{
    dst[0] = (int16_t)(x[0] + off);
    dst[1] = (int16_t)(x[1] + off);
    dst[2] = (int16_t)(x[2] + off);
    dst[3] = (int16_t)(x[3] + off);
}

#endif /* TINYC_FAST_C_H */
