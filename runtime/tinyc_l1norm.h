/*
 * tinyc_l1norm.h - int8 x / ||x||_1 over the last axis (ONNX LpNormalization p=1;
 * ir/ops/l1norm.py documents the arithmetic, bit-exact with l1_norm_int there).
 */
#ifndef TINYC_L1NORM_H
#define TINYC_L1NORM_H

#include <stdint.h>

typedef struct {
    int32_t in_offset;            /* -zp_in */
    int32_t out_offset;           /* zp_out */
    int32_t multiplier;           /* 1 / s_out = multiplier 2^(shift - 31) */
    int32_t shift;                /* in [-8, 30] */
} tinyc_l1norm_params;

void tinyc_l1norm_s8(const tinyc_l1norm_params *params, int32_t num_rows, int32_t row_size,
                     const int8_t *input, int8_t *output);

#endif /* TINYC_L1NORM_H */
