/*
 * tinyc_batch_matmul.h - int8 batched matrix product (TFLite BATCH_MATMUL, ONNX MatMul of two
 * activations), batch dims broadcast as numpy.
 */
#ifndef TINYC_BATCH_MATMUL_H
#define TINYC_BATCH_MATMUL_H

#include <stdint.h>

#include "tinyc_nn.h"

typedef struct {
    int32_t batch[3];           /* the output's batch dims (leading 1s for lower ranks) */
    int32_t a_batch[3];         /* a's element stride per batch dim (0: broadcast) */
    int32_t b_batch[3];         /* b's, the same */
    int32_t m;
    int32_t k;
    int32_t n;
    int32_t a_m;                /* a's element stride along m and along k (adj_x swaps them) */
    int32_t a_k;
    int32_t b_k;                /* b's along k and along n (adj_y swaps them) */
    int32_t b_n;
    int32_t a_offset;           /* -zero points */
    int32_t b_offset;
    int32_t out_offset;
    int32_t multiplier;
    int32_t shift;
    tinyc_activation activation;
} tinyc_batch_matmul_params;

/* out[batch][i][j] = clamp(requantize(sum_k (a[i][k] + a_offset) * (b[k][j] + b_offset))
 * + out_offset): TFLite Micro reference_ops::BatchMatMul (int8, int32 accumulator). */
void tinyc_batch_matmul_s8(const tinyc_batch_matmul_params *p, const int8_t *a,
                           const int8_t *b, int8_t *output);

#endif /* TINYC_BATCH_MATMUL_H */
