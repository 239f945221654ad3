/*
 * tinyc_reduce_s16.h - 16x8 MEAN / SUM (TFLM QuantizedMeanOrSum<int16_t>): int32 window sum,
 * requantized, clamped to int16; params as tinyc_reduce_sum_s8's (tinyc_nn_move.h).
 */
#ifndef TINYC_REDUCE_S16_H
#define TINYC_REDUCE_S16_H

#include "tinyc_nn_move.h"

#ifdef __cplusplus
extern "C" {
#endif

void tinyc_reduce_sum_s16(const tinyc_reduce_params *params, const int16_t *input,
                          int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYC_REDUCE_S16_H */
