/*
 * tinyc_reduce_s8.c - int8 reductions over any axes (tinyc_nn_move.h): sum / mean with
 * TFLite Micro's integer requantization, and max.
 */
#include "tinyc_nn_move.h"
#include "tinyc_requant.h"

/* The sum (mode 0) or the max (mode 1) of one output element's reduced window. */
static int32_t tinyc_reduce_window(const tinyc_reduce_params *p, const int8_t *in, int32_t mode)
{
    const tinyc_dims *d = &p->red_dims;
    const tinyc_dims *s = &p->red_strides;
    int32_t acc = mode ? -128 : 0;
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
    for (n = 0; n < d->n; ++n) {
        for (h = 0; h < d->h; ++h) {
            for (w = 0; w < d->w; ++w) {
                const int8_t *row = in + n * s->n + h * s->h + w * s->w;
                for (c = 0; c < d->c; ++c) {
                    const int32_t v = row[c * s->c];
                    if (mode) {
                        acc = (v > acc) ? v : acc;
                    } else {
                        acc += v;
                    }
                }
            }
        }
    }
    return acc;
}

static void tinyc_reduce_s8(const tinyc_reduce_params *p, const int8_t *input, int8_t *output,
                            int32_t mode)
{
    const tinyc_dims *d = &p->out_dims;
    const tinyc_dims *s = &p->out_strides;
    const int32_t count = p->red_dims.n * p->red_dims.h * p->red_dims.w * p->red_dims.c;
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
    for (n = 0; n < d->n; ++n) {
        for (h = 0; h < d->h; ++h) {
            for (w = 0; w < d->w; ++w) {
                const int8_t *row = input + n * s->n + h * s->h + w * s->w;
                for (c = 0; c < d->c; ++c) {
                    const int32_t acc = tinyc_reduce_window(p, row + c * s->c, mode);
                    if (mode) {
                        *output++ = (int8_t)acc;
                    } else {
                        *output++ = tinyc_clamp_s8(
                            tinyc_requantize(acc + p->in_offset * count, p->multiplier,
                                             p->shift), p->out_offset, -128, 127);
                    }
                }
            }
        }
    }
}

void tinyc_reduce_sum_s8(const tinyc_reduce_params *params, const int8_t *input,
                         int8_t *output)
{
    tinyc_reduce_s8(params, input, output, 0);
}

void tinyc_reduce_max_s8(const tinyc_reduce_params *params, const int8_t *input,
                         int8_t *output)
{
    tinyc_reduce_s8(params, input, output, 1);
}
