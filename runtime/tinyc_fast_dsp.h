/*
 * tinyc_fast_dsp.h - the DSP inner pieces shared by the fast kernels (included by tinyc_fast.h
 * when TINYC_DSP, tinyc_nn.h: Cortex-M4/M7/M33/M55).  tinyc_fast_c.h is the portable twin with
 * the same interface and the same results: unaligned word loads, the lane order of widened
 * data ({x0, x2}, {x1, x3}: what SXTAB16 gives), the int8 -> int16 widening with the input
 * offset, and the requantization of tinyc_rq (SMMLAR + ASR + SSAT).
 */
#ifndef TINYC_FAST_DSP_H
#define TINYC_FAST_DSP_H

#include <stdint.h>

#include "tinyc_dsp.h"
#include "tinyc_nn.h"
#include "tinyc_requant.h"

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

/* The widening addend of tinyc_widen4: the input offset in both int16 lanes. */
static inline int32_t tinyc_widen_offset(int32_t offset)
{
    return tinyc_offset2(offset);
}

/* x[0..3] + offset to int16 in lanes TINYC_LANE: two SXTAB16, two word stores
 * (off = tinyc_widen_offset(offset); dst 4-byte aligned). */
static inline void tinyc_widen4(const int8_t *x, int32_t off, int16_t *dst)
{
    const uint32_t v = tinyc_ld4(x);
    tinyc_u32a *d = (tinyc_u32a *)(void *)dst;
    d[0] = (uint32_t)__sxtab16(off, (int32_t)v);
    d[1] = (uint32_t)tinyc_sxtab16_ror8(off, v);
}

#endif /* TINYC_FAST_DSP_H */
