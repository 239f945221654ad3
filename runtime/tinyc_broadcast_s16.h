/*
 * tinyc_broadcast_s16.h - the broadcasting loop of the int16 elementwise binary kernels
 * (add, sub, mul, squared_difference): output[i] = one(params, in1[i1], in2[i2]) over the
 * output's NHWC index space, strides as tinyc_add_s8 (0 where an input is broadcast).
 * Each kernel passes its own element function (a constant: the compiler inlines it).
 */
#ifndef TINYC_BROADCAST_S16_H
#define TINYC_BROADCAST_S16_H

#include <stdint.h>

#include "tinyc_nn_s16.h"

typedef int16_t (*tinyc_binary16_fn)(const tinyc_add_params *p, int32_t x1, int32_t x2);

static inline void tinyc_broadcast_s16(const tinyc_add_params *params,
                                       const tinyc_dims *s1, const int16_t *in1,
                                       const tinyc_dims *s2, const int16_t *in2,
                                       const tinyc_dims *output_dims, int16_t *output,
                                       tinyc_binary16_fn one)
{
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
    for (n = 0; n < output_dims->n; ++n) {
        for (h = 0; h < output_dims->h; ++h) {
            for (w = 0; w < output_dims->w; ++w) {
                const int16_t *a = in1 + n * s1->n + h * s1->h + w * s1->w;
                const int16_t *b = in2 + n * s2->n + h * s2->h + w * s2->w;
                for (c = 0; c < output_dims->c; ++c) {
                    output[c] = one(params, a[c * s1->c], b[c * s2->c]);
                }
                output += output_dims->c;
            }
        }
    }
}

#endif /* TINYC_BROADCAST_S16_H */
