/*
 * tinyc_softmax_s16.c - 16x8 SOFTMAX over the last axis (TFLite Micro reference_ops::SoftmaxInt16,
 * zero points 0, output scale 2^-15). Per row: each x - max rescaled by (mult, shift) onto the
 * exp table's [-10, 0] (+ 32767, saturated), exp from the 513-entry int16 table (kept in the
 * output row), their sum normalised by its leading zeros onto the 1/(1 + x) table, and each exp
 * times that reciprocal rounded right by 31 - clz(sum), clamped to [0, 32767].
 * Bit-exact with tinyc/ir/ops/softmax16.py (softmax16_int).
 */
#include "tinyc_nn_s16.h"
#include "tinyc_requant.h"

/* TFLM LUTLookup(int16_t, const int16_t *): 9-bit index, 7-bit interpolation. */
static int16_t softmax_lut16(int16_t value, const int16_t *lut)
{
    const int32_t index = 256 + tinyc_asr((int32_t)value, 7);
    const int32_t offset = (int32_t)value & 0x7f;
    const int32_t base = lut[index];
    const int32_t slope = (int32_t)(int16_t)(lut[index + 1] - lut[index]);
    return (int16_t)(base + tinyc_asr(slope * offset + 64, 7));
}

static int16_t softmax_sat16(int32_t v)
{
    return (int16_t)((v < -32768) ? -32768 : ((v > 32767) ? 32767 : v));
}

static int32_t softmax_clz32(uint32_t v)
{
    int32_t n = 0;
    if (v == 0u) {
        return 32;
    }
    while ((v & 0x80000000u) == 0u) {
        v <<= 1;
        ++n;
    }
    return n;
}

void tinyc_softmax_s16(int32_t rows, int32_t depth, int32_t mult, int32_t shift,
                       const int16_t *exp_lut, const int16_t *recip_lut,
                       const int16_t *input, int16_t *output)
{
    int32_t i, c;
    for (i = 0; i < rows; ++i) {
        const int16_t *x = input + i * depth;
        int16_t *y = output + i * depth;
        int16_t max_in_row = INT16_MIN;
        int32_t sum = 0;
        int32_t hp1, shifted, right;
        int16_t recip;
        int64_t round;
        for (c = 0; c < depth; ++c) {
            max_in_row = (x[c] > max_in_row) ? x[c] : max_in_row;
        }
        for (c = 0; c < depth; ++c) {
            const int32_t diff = (int32_t)x[c] - (int32_t)max_in_row;
            const int32_t scaled = tinyc_requantize(diff, mult, shift);
            y[c] = softmax_lut16(softmax_sat16(scaled + 32767), exp_lut);
            sum += y[c];
        }
        hp1 = softmax_clz32((uint32_t)sum);
        shifted = (int32_t)((((int64_t)sum << (hp1 - 1)) + (1 << 13)) >> 14);
        recip = softmax_lut16(softmax_sat16(shifted - ((1 << 15) + (1 << 16))), recip_lut);
        right = 31 - hp1;
        round = (int64_t)1 << (right - 1);
        for (c = 0; c < depth; ++c) {
            const int32_t r = (int32_t)(((int64_t)y[c] * (int64_t)recip + round) >> right);
            y[c] = (int16_t)((r < 0) ? 0 : ((r > 32767) ? 32767 : r));
        }
    }
}
