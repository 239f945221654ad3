/*
 * tinyc_fast.h - internal helpers of the fast kernels (conv2d_fast, depthwise_conv2d_fast,
 * fully_connected_fast, add_lut): the int8 -> int16 widening with the input offset, the lane
 * order of widened data, and the requantization of tinyc_rq.
 *
 * Two paths, same bits.  On cores with the DSP extension (__ARM_FEATURE_DSP) four int8 widen
 * with two SXTAB16 into the lanes {x0, x2} and {x1, x3} and a word of weights with two SXTB16
 * into {w0, w2} and {w1, w3}, so SMLAD pairs them without reordering anything; requantization
 * is SMMLAR + ASR + SSAT.  The portable path stores lanes in natural order and requantizes with
 * tinyc_requantize.  The path is chosen by TINYC_DSP (tinyc_nn.h); each inline asm is a few
 * instructions with few operands, so that any register allocator (gcc, clang, any -O, float
 * ABI, LTO) can satisfy it.
 */
#ifndef TINYC_FAST_H
#define TINYC_FAST_H

#include <stdint.h>

#include "tinyc_nn.h"
#include "tinyc_requant.h"

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) \
    && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#error "tinyc fast kernels: their int8/int16 constants are stored as little-endian words"
#endif

#include "tinyc_dsp.h"            /* SXTB16 / SXTAB16 with ROR #8 (the one set of wrappers) */

/* The inner pieces of the fast kernels, one header per path with the same interface. */
#if defined(TINYC_DSP)
#include "tinyc_fast_dsp.h"
#else
#include "tinyc_fast_c.h"
#endif

static inline int32_t tinyc_rq_apply(int32_t acc, const tinyc_rq *rq, int32_t offset)
{
    return tinyc_rq_apply3(acc, rq->m, rq->h, rq->e, offset);
}

/* Four channels' accumulators (rq[0..3], then rq advances by four) to o[0..3]. */
static inline void tinyc_rq4_chans(int32_t a0, int32_t a1, int32_t a2, int32_t a3,
                                   const tinyc_rq **rq, int8_t *o, int32_t offset)
{
    tinyc_rq c = tinyc_rq_next(rq);
    o[0] = (int8_t)tinyc_rq_apply3(a0, c.m, c.h, c.e, offset);
    c = tinyc_rq_next(rq);
    o[1] = (int8_t)tinyc_rq_apply3(a1, c.m, c.h, c.e, offset);
    c = tinyc_rq_next(rq);
    o[2] = (int8_t)tinyc_rq_apply3(a2, c.m, c.h, c.e, offset);
    c = tinyc_rq_next(rq);
    o[3] = (int8_t)tinyc_rq_apply3(a3, c.m, c.h, c.e, offset);
}

/* As tinyc_rq4_chans, for accumulators that are already scaled by 2 (2 acc). */
static inline void tinyc_rq4_chans_x2(int32_t a0, int32_t a1, int32_t a2, int32_t a3,
                                      const tinyc_rq **rq, int8_t *o, int32_t offset)
{
    tinyc_rq c = tinyc_rq_next(rq);
    (void)offset;
    o[0] = (int8_t)tinyc_rq_x2(a0, c.m, c.h, c.e);
    c = tinyc_rq_next(rq);
    o[1] = (int8_t)tinyc_rq_x2(a1, c.m, c.h, c.e);
    c = tinyc_rq_next(rq);
    o[2] = (int8_t)tinyc_rq_x2(a2, c.m, c.h, c.e);
    c = tinyc_rq_next(rq);
    o[3] = (int8_t)tinyc_rq_x2(a3, c.m, c.h, c.e);
}

/* The fully-connected kernels' input row, widened to int16 with `offset` added, k4 values
 * (zero padded after depth), in the lanes TINYC_LANE of each group of four. */
static inline void tinyc_fc_widen(const int8_t *x, int32_t depth, int32_t k4, int32_t offset,
                                  int16_t *xs)
{
    const int32_t off = tinyc_widen_offset(offset);
    const int32_t n4 = depth >> 2;
    int32_t g;
    int32_t i;
    for (g = 0; g < n4; ++g) {
        tinyc_widen4(x + 4 * g, off, xs + 4 * g);
    }
    for (i = 4 * n4; i < k4; ++i) {
        xs[(i & ~3) + TINYC_LANE(i & 3)] = (int16_t)(i < depth ? x[i] + offset : 0);
    }
}

/* The activation clamp after a kernel that saturated to [-128, 127]: only when narrower. */
static inline void tinyc_fast_activation(const tinyc_activation *act, int8_t *out, int32_t n)
{
    if (act->min > -128 || act->max < 127) {
        tinyc_clamp_s8_inplace(act, out, n);
    }
}

#endif /* TINYC_FAST_H */
