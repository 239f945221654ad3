/*
 * tinyc_reduce_s16.c - 16x8 MEAN / SUM over any axes (TFLite Micro's
 * QuantizedMeanOrSum<int16_t, int32_t>): the int32 sum of one output element's window,
 * requantized (mean: 1/count folded into the multiplier), clamped to int16.
 */
#include "tinyc_reduce_s16.h"
#include "tinyc_nn_s16.h"
#include "tinyc_requant.h"

static int32_t tinyc_reduce_window_s16(const tinyc_reduce_params *p, const int16_t *in)
{
    const tinyc_dims *d = &p->red_dims;
    const tinyc_dims *s = &p->red_strides;
    int32_t acc = 0;
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
    for (n = 0; n < d->n; ++n) {
        for (h = 0; h < d->h; ++h) {
            for (w = 0; w < d->w; ++w) {
                const int16_t *row = in + n * s->n + h * s->h + w * s->w;
                for (c = 0; c < d->c; ++c) {
                    acc += row[c * s->c];
                }
            }
        }
    }
    return acc;
}

void tinyc_reduce_sum_s16(const tinyc_reduce_params *params, const int16_t *input,
                          int16_t *output)
{
    const tinyc_dims *d = &params->out_dims;
    const tinyc_dims *s = &params->out_strides;
    const int32_t count = params->red_dims.n * params->red_dims.h * params->red_dims.w *
                          params->red_dims.c;
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
    for (n = 0; n < d->n; ++n) {
        for (h = 0; h < d->h; ++h) {
            for (w = 0; w < d->w; ++w) {
                const int16_t *row = input + n * s->n + h * s->h + w * s->w;
                for (c = 0; c < d->c; ++c) {
                    const int32_t acc = tinyc_reduce_window_s16(params, row + c * s->c);
                    *output++ = tinyc_clamp_s16(
                        tinyc_requantize(acc + params->in_offset * count, params->multiplier,
                                         params->shift), params->out_offset, INT16_MIN,
                        INT16_MAX);
                }
            }
        }
    }
}
