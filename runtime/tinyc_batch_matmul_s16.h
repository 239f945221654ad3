/*
 * tinyc_batch_matmul_s16.h - 16x8 BATCH_MATMUL (TFLite Micro reference_ops::BatchMatMul
 * <int16_t, int64_t>): int16 operands (zero points 0), int64 accumulator, the 64-bit
 * MultiplyByQuantizedMultiplier (tinyc_requantize_s64), clamped to int16.
 */
#ifndef TINYC_BATCH_MATMUL_S16_H
#define TINYC_BATCH_MATMUL_S16_H

#include "tinyc_batch_matmul.h"

void tinyc_batch_matmul_s16(const tinyc_batch_matmul_params *p, const int16_t *a,
                            const int16_t *b, int16_t *output);

#endif /* TINYC_BATCH_MATMUL_S16_H */
