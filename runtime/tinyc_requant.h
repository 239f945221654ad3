/*
 * tinyc_requant.h - fixed-point helpers shared by every tinyc int8 kernel.
 *
 * Bit-exact with TFLite Micro's MultiplyByQuantizedMultiplier (double rounding,
 * gemmlowp SaturatingRoundingDoublingHighMul + RoundingDivideByPOT), i.e. with
 * CMSIS-NN's arm_nn_requantize, and with tinyc/ir/qmath.py.
 *
 * Portable C99 without undefined or implementation-defined behaviour: no signed
 * overflow, no shifts of negative values; wrapping arithmetic goes through uint32_t
 * and back with tinyc_s32(). Every compiler we use folds these idioms to single
 * instructions (ADD, LSL, ASR).
 */
#ifndef TINYC_REQUANT_H
#define TINYC_REQUANT_H

#include <stdint.h>

#include "tinyc_nn.h"

/* The int32_t whose two's-complement bits are u (no implementation-defined cast). */
static inline int32_t tinyc_s32(uint32_t u)
{
    if (u <= (uint32_t)INT32_MAX) {
        return (int32_t)u;
    }
    return (int32_t)(u - 0x80000000u) + INT32_MIN;
}

/* a + b modulo 2^32. */
static inline int32_t tinyc_add_wrap(int32_t a, int32_t b)
{
    return tinyc_s32((uint32_t)a + (uint32_t)b);
}

/* a * 2^n modulo 2^32, n in [0, 31]. */
static inline int32_t tinyc_shl_wrap(int32_t a, int32_t n)
{
    return tinyc_s32((uint32_t)a << n);
}

/* floor(x / 2^n), n in [0, 31]: an arithmetic shift right, defined for negative x. */
static inline int32_t tinyc_asr(int32_t x, int32_t n)
{
    return (x >= 0) ? (x >> n) : ~((~x) >> n);
}

/* gemmlowp SaturatingRoundingDoublingHighMul: round(a * b / 2^31), saturating. */
static inline int32_t tinyc_srdhm(int32_t a, int32_t b)
{
    int64_t ab;
    int64_t nudge;
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    ab = (int64_t)a * (int64_t)b;
    nudge = (ab >= 0) ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero, exponent in [0, 31]. */
static inline int32_t tinyc_rdbpot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)((UINT32_C(1) << exponent) - 1u);
    const int32_t remainder = (int32_t)((uint32_t)x & (uint32_t)mask);
    const int32_t threshold = (mask >> 1) + ((x < 0) ? 1 : 0);
    return tinyc_asr(x, exponent) + ((remainder > threshold) ? 1 : 0);
}

/*
 * TFLite MultiplyByQuantizedMultiplier / CMSIS-NN arm_nn_requantize:
 * acc * multiplier * 2^(shift - 31) with double rounding, shift in [-31, 30].
 */
static inline int32_t tinyc_requantize(int32_t acc, int32_t multiplier, int32_t shift)
{
    const int32_t left = (shift > 0) ? shift : 0;
    const int32_t right = (shift > 0) ? 0 : -shift;
    return tinyc_rdbpot(tinyc_srdhm(tinyc_shl_wrap(acc, left), multiplier), right);
}

/* The common tail of every int8 kernel: add the output offset and clamp to [lo, hi]. */
static inline int8_t tinyc_clamp_s8(int32_t value, int32_t out_offset, int32_t lo, int32_t hi)
{
    int64_t y = (int64_t)value + (int64_t)out_offset;
    if (y < lo) {
        y = lo;
    }
    if (y > hi) {
        y = hi;
    }
    return (int8_t)y;
}

/* The tail of the per-channel kernels (conv, depthwise, fully connected) for output channel
 * oc: acc + bias (wrapping, as the int32 accumulator does), requantized with the channel's
 * multiplier and shift, plus the output offset, clamped to the activation. */
static inline int8_t tinyc_requant_out_s8(int32_t acc, int32_t bias,
                                          const tinyc_per_channel_quant_params *q, int32_t oc,
                                          int32_t out_offset, const tinyc_activation *act)
{
    acc = tinyc_requantize(tinyc_add_wrap(acc, bias), q->multiplier[oc], q->shift[oc]);
    return tinyc_clamp_s8(acc, out_offset, act->min, act->max);
}

#endif /* TINYC_REQUANT_H */
