/*
 * tinyc_layer_norm_s8.c - int8 LayerNormalization over the last axis (ir/ops/norm.py):
 * per row, S1 = sum d, S2 = sum d^2 (d = x - zp_in), W = n S2 - S1^2 + eps_q,
 * r = isqrt(W) normalised to [2^15, 2^16), inv = 2^31 / r (one 32-bit division per row),
 * z = (n d - S1) inv in Q16, y = z * multiplier / 2^(31 - shift) + bias + zp_out, clamped.
 */
#include "tinyc_layer_norm.h"

/* floor(sqrt(v)), exact (bit by bit). */
static uint32_t tinyc_ln_isqrt(uint64_t v)
{
    uint64_t res = 0;
    uint64_t bit = (uint64_t)1 << 62;
    while (bit > v) {
        bit >>= 2;
    }
    while (bit != 0) {
        if (v >= res + bit) {
            v -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    return (uint32_t)res;
}

/* v / 2^k rounded half away from zero, k in [0, 62]. */
static int64_t tinyc_ln_round_shift(int64_t v, int32_t k)
{
    uint64_t m;
    if (k == 0) {
        return v;
    }
    m = (v >= 0) ? (uint64_t)v : (uint64_t)0 - (uint64_t)v;
    m = (m + ((uint64_t)1 << (k - 1))) >> k;
    return (v >= 0) ? (int64_t)m : -(int64_t)m;
}

void tinyc_layer_norm_s8(const tinyc_layer_norm_params *params, int32_t num_rows,
                         int32_t row_size, const int8_t *input, int8_t *output)
{
    int32_t row;
    for (row = 0; row < num_rows; ++row) {
        const int8_t *x = input + (int64_t)row * row_size;
        int8_t *y = output + (int64_t)row * row_size;
        int32_t s1 = 0;
        int32_t s2 = 0;
        int32_t i;
        int64_t w;
        uint32_t r;
        uint32_t rn;
        uint32_t inv = 0;
        int32_t sh = 0;
        for (i = 0; i < row_size; ++i) {
            const int32_t d = (int32_t)x[i] + params->in_offset;
            s1 += d;
            s2 += d * d;
        }
        w = (int64_t)row_size * s2 - (int64_t)s1 * s1 + params->eps_q;
        r = tinyc_ln_isqrt((uint64_t)w);
        if (r != 0u) {
            rn = r;
            while (rn < (UINT32_C(1) << 15)) {
                rn <<= 1;
                ++sh;
            }
            while (rn >= (UINT32_C(1) << 16)) {
                rn >>= 1;
                --sh;
            }
            inv = (UINT32_C(1) << 31) / rn;
        }
        for (i = 0; i < row_size; ++i) {
            int64_t v = 0;
            if (r != 0u) {
                const int32_t d = (int32_t)x[i] + params->in_offset;
                const int64_t t = (int64_t)row_size * d - s1;
                const int64_t z = tinyc_ln_round_shift(t * (int64_t)inv, 15 - sh);
                v = tinyc_ln_round_shift(z * params->multiplier[i], 31 - params->shift[i]);
            }
            v += (int64_t)params->bias[i] + params->out_offset;
            y[i] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
        }
    }
}
