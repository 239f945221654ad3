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

#if defined(TINYC_DSP)
/* 32-bit words that may alias the int8 arena. */
typedef uint32_t tinyc_u32a __attribute__((may_alias, aligned(4)));
typedef uint32_t tinyc_u32u __attribute__((may_alias, aligned(1)));

static inline uint32_t tinyc_ld4(const int8_t *p)
{
    return *(const tinyc_u32u *)(const void *)p;
}

/* Lane of element j (0..3) of a group of four widened values. */
#define TINYC_LANE(j) (((j) & 1) ? ((j) >> 1) + 2 : (j) >> 1)

/* An asm loop that must be inlined at each of its (few) calls: its operands stay in registers. */
#define TINYC_ALWAYS_INLINE inline __attribute__((always_inline))

/* requantize(acc, m, -e) + offset, saturated to int8 (|acc| < 2^29, e >= 1), from a2 = 2 acc;
 * the output offset is folded into h at compile time: h = 2^(e-1) + offset * 2^e. */
static inline int32_t tinyc_rq_x2(int32_t a2, int32_t m, int32_t h, int32_t e)
{
    int32_t t;
    __asm__("add %[t], %[h], %[a], asr #31\n\t"
            "smmlar %[a], %[a], %[m], %[t]\n\t"
            "asr %[a], %[a], %[e]\n\t"
            "ssat %[a], #8, %[a]"
            : [a] "+r"(a2), [t] "=&r"(t)
            : [m] "r"(m), [h] "r"(h), [e] "r"(e));
    return a2;
}

static inline int32_t tinyc_rq_apply3(int32_t acc, int32_t m, int32_t h, int32_t e,
                                      int32_t offset)
{
    (void)offset;
    return tinyc_rq_x2(acc * 2, m, h, e);
}

/* The constants of *rq (then rq advances by one): LDRD with writeback + LDR. */
static inline tinyc_rq tinyc_rq_next(const tinyc_rq **rq)
{
    const tinyc_rq *r = *rq;
    tinyc_rq c;
    __asm__("ldrd %[m], %[h], [%[r]], #12\n\t"
            "ldr %[e], [%[r], #-4]"
            : [m] "=&r"(c.m), [h] "=&r"(c.h), [e] "=r"(c.e), [r] "+r"(r)
            : "m"(*r));
    *rq = r;
    return c;
}

#else

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
    int32_t i = 0;
#if defined(TINYC_DSP)
    const int32_t off2 = (int32_t)(((uint32_t)offset & 0xFFFFu) * 0x10001u);
    tinyc_u32a *dst = (tinyc_u32a *)(void *)xs;
    for (; i + 4 <= depth; i += 4) {
        const uint32_t v = tinyc_ld4(x + i);
        dst[0] = (uint32_t)__sxtab16(off2, (int32_t)v);
        dst[1] = (uint32_t)tinyc_sxtab16_ror8(off2, v);
        dst += 2;
    }
#endif
    for (; i < k4; ++i) {
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
