/*
 * tinyc_fast_s16.h - the requantization of the 16x8 fast kernels (tinyc_conv2d_fast_s16.c,
 * tinyc_depthwise_conv2d_fast_s16.c): tinyc_requant_out_s16's bits, cheaper where the
 * generator proved that bias + sum fits int32.
 */
#ifndef TINYC_FAST_S16_H
#define TINYC_FAST_S16_H

#include <stdint.h>

#include "tinyc_nn_s16.h"
#include "tinyc_requant.h"

/* Inner loops inlined into each of their callers (two per kernel). */
#define TINYC_S16_INLINE inline __attribute__((always_inline))
/* Kernel entry points 16-byte aligned: their loops' branch targets keep the same alignment
 * whatever code the link puts before them (a 32-bit target at 2 mod 4 costs a cycle). */
#define TINYC_S16_ALIGN __attribute__((aligned(16)))

/* One channel's requantization, prepared once per call (acc32 layers): the bias as int32,
 * the Q15 multiplier, the total shift and the rounding 2^(total - 1) by halves.  When every
 * channel has 1 <= total <= 32 and R = reduced * 2^(32 - total) < 2^31 (tinyc_rq16_table's
 * result: 1), `reduced` holds R instead: floor((acc * reduced + 2^(total - 1)) / 2^total) ==
 * floor((acc * R + 2^31) / 2^32), the high word of one rounding 32x32 multiply (SMMULR). */
typedef struct {
    int32_t bias;
    int32_t reduced;
    int32_t total;
    uint32_t round_lo;
    uint32_t round_hi;
} tinyc_rq16;

static inline int32_t tinyc_rq16_table(tinyc_rq16 *t, const int64_t *bias,
                                       const tinyc_per_channel_quant_params *q, int32_t n)
{
    int32_t c;
    int32_t high = 1;
    for (c = 0; c < n; ++c) {
        const int32_t m = q->multiplier[c];
        const uint64_t round = (uint64_t)1 << (14 - q->shift[c]);
        t[c].bias = bias != 0 ? (int32_t)bias[c] : 0;
        t[c].reduced = (m < 0x7FFF0000) ? ((m >> 1) + 16384) >> 15 : 0x7FFF;
        t[c].total = 15 - q->shift[c];
        t[c].round_lo = (uint32_t)(round & 0xFFFFFFFFu);
        t[c].round_hi = (uint32_t)(round >> 32);
        if (t[c].total < 1 || t[c].total > 32 || t[c].reduced < 0
            || ((uint64_t)(uint32_t)t[c].reduced << (32 - t[c].total)) >= 0x80000000u) {
            high = 0;
        }
    }
    if (high) {
        for (c = 0; c < n; ++c) {
            t[c].reduced = tinyc_s32((uint32_t)t[c].reduced << (32 - t[c].total));
        }
    }
    return high;
}

/* tinyc_requantize_s64_32(sum + bias, ...) clamped to [lo, hi], from the channel's row. */
static inline int16_t tinyc_rq16_apply(int32_t sum, const tinyc_rq16 *r, int32_t lo, int32_t hi)
{
    const uint64_t round = ((uint64_t)r->round_hi << 32) | r->round_lo;
    const uint64_t u = (uint64_t)((int64_t)round + (int64_t)(sum + r->bias) * r->reduced);
    const uint32_t ul = (uint32_t)(u & 0xFFFFFFFFu);
    const uint32_t uh = (uint32_t)(u >> 32);
    int32_t y;
    if (r->total < 32) {
        y = tinyc_s32((ul >> r->total) | (uh << (32 - r->total)));
    } else {
        y = tinyc_asr(tinyc_s32(uh), r->total - 32);
    }
    y = y < lo ? lo : y;
    return (int16_t)(y > hi ? hi : y);
}

/* The high word of acc * R + 2^31 (SMMULR on DSP cores). */
static inline int32_t tinyc_rq16_smmulr(int32_t acc, int32_t rm)
{
#if defined(TINYC_DSP)
    int32_t y;
    __asm__("smmulr %0, %1, %2" : "=r"(y) : "r"(acc), "r"(rm));
    return y;
#else
    const uint64_t u = (uint64_t)((int64_t)acc * rm) + 0x80000000u;
    return tinyc_s32((uint32_t)(u >> 32));
#endif
}

/* y (the requantized int32) clamped to [lo, hi]: mode TINYC_RQ16_RELU (lo 0, hi 32767: one
 * USAT #15 on DSP cores), TINYC_RQ16_FULL (the int16 range: one SSAT #16), TINYC_RQ16_ANY. */
#define TINYC_RQ16_ANY 0
#define TINYC_RQ16_RELU 1
#define TINYC_RQ16_FULL 2

static TINYC_S16_INLINE int16_t tinyc_rq16_clamp(int32_t y, int32_t lo, int32_t hi,
                                                 int32_t mode)
{
#if defined(TINYC_DSP)
    int32_t r;
    if (mode == TINYC_RQ16_RELU) {
        __asm__("usat %0, #15, %1" : "=r"(r) : "r"(y));
        return (int16_t)r;
    }
    if (mode == TINYC_RQ16_FULL) {
        __asm__("ssat %0, #16, %1" : "=r"(r) : "r"(y));
        return (int16_t)r;
    }
#else
    (void)mode;
#endif
    y = y < lo ? lo : y;
    return (int16_t)(y > hi ? hi : y);
}

/* tinyc_rq16_apply's result from a row with R (tinyc_rq16_table returned 1). */
static inline int16_t tinyc_rq16_high(int32_t sum, int32_t bias, int32_t rm, int32_t lo,
                                      int32_t hi)
{
    int32_t y = tinyc_rq16_smmulr(sum + bias, rm);
    y = y < lo ? lo : y;
    return (int16_t)(y > hi ? hi : y);
}

#endif /* TINYC_FAST_S16_H */
