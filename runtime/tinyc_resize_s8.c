/*
 * tinyc_resize_s8.c - int8 general resize (ir/ops/resize.py): per output element
 * t_a = sum_b Ww[b] (x[hi[a]][wi[b]] - zp_in) (int32), acc = sum_a Wh[a] t_a (int64, exact),
 * y = clamp(zp_out + requantize(round_half_away(acc / 2^16), multiplier, shift)).
 */
#include "tinyc_resize.h"

#include "tinyc_requant.h"

void tinyc_resize_s8(const tinyc_resize_general_params *params, const int32_t *h_index,
                     const int32_t *h_weight, const int32_t *w_index, const int32_t *w_weight,
                     const int8_t *input, int8_t *output)
{
    const tinyc_dims *d = &params->input_dims;
    const int32_t row = d->w * d->c;
    const int32_t kh = params->kh;
    const int32_t kw = params->kw;
    int32_t n;
    int32_t i;
    int32_t j;
    int32_t c;
    int32_t a;
    int32_t b;
    for (n = 0; n < d->n; ++n) {
        const int8_t *image = input + (int64_t)n * d->h * row;
        for (i = 0; i < params->out_h; ++i) {
            const int32_t *hi = h_index + i * kh;
            const int32_t *hw = h_weight + i * kh;
            for (j = 0; j < params->out_w; ++j) {
                const int32_t *wi = w_index + j * kw;
                const int32_t *ww = w_weight + j * kw;
                if (hi[0] < 0 || wi[0] < 0) {
                    for (c = 0; c < d->c; ++c) {
                        *output++ = (int8_t)params->extrapolation;
                    }
                    continue;
                }
                for (c = 0; c < d->c; ++c) {
                    int64_t acc = 0;
                    uint64_t mag;
                    int32_t acc32;
                    for (a = 0; a < kh; ++a) {
                        const int8_t *src = image + hi[a] * row + c;
                        int32_t t = 0;
                        for (b = 0; b < kw; ++b) {
                            t += ww[b] * ((int32_t)src[wi[b] * d->c] + params->in_offset);
                        }
                        acc += (int64_t)hw[a] * t;
                    }
                    mag = (acc >= 0) ? (uint64_t)acc : (uint64_t)0 - (uint64_t)acc;
                    mag = (mag + (UINT64_C(1) << 15)) >> 16;
                    acc32 = (acc >= 0) ? (int32_t)mag : -(int32_t)mag;
                    *output++ = tinyc_clamp_s8(
                        tinyc_requantize(acc32, params->multiplier, params->shift),
                        params->out_offset, -128, 127);
                }
            }
        }
    }
}
