/*
 * tinyc_rsqrt_s16.c - 16x8 RSQRT (TFLite Micro RsqrtEvalQuantized<int16_t>, zero points 0):
 * per value v, 1/sqrt(v) as GetInvSqrtQuantizedMultiplierExp with 20 extra bits, rescaled by
 * (mult, shift - 20) and clamped to int16; v <= 0 gives 32767 (v < 0 is a TFLM error).
 * Bit-exact with tinyc/ir/ops/rsqrt16.py (rsqrt16_int).
 */
#include "tinyc_nn_s16.h"
#include "tinyc_gemmlowp.h"
#include "tinyc_requant.h"

void tinyc_rsqrt_s16(int32_t mult, int32_t shift, int32_t size, const int16_t *input,
                     int16_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        const int32_t v = input[i];
        int32_t m;
        int32_t s;
        int32_t y;
        if (v <= 0) {
            output[i] = INT16_MAX;
            continue;
        }
        tinyc_inv_sqrt_multiplier_exp(v, &m, &s);
        y = tinyc_requantize(tinyc_requantize(1, m, s + 20), mult, shift - 20);
        output[i] = (int16_t)((y < INT16_MIN) ? INT16_MIN : ((y > INT16_MAX) ? INT16_MAX : y));
    }
}
