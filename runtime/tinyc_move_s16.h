/*
 * tinyc_move_s16.h - data-movement kernels for int16 activations (16x8 models): the same
 * strided gathers as the int8 ones, on int16 elements (strides and offsets in elements).
 */
#ifndef TINYC_MOVE_S16_H
#define TINYC_MOVE_S16_H

#include "tinyc_nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* output[n][h][w][c] = input[n * s.n + h * s.h + w * s.w + c * s.c], s = in_strides
 * (transpose, slice, strided slice). */
void tinyc_transpose_s16(const tinyc_transpose_params *params, const int16_t *input,
                         const tinyc_dims *output_dims, int16_t *output);

/* PAD of int16 values: params->pad_value (an int16 value) outside the input. */
void tinyc_pad_s16(const tinyc_pad_params *params,
                   const tinyc_dims *input_dims, const int16_t *input,
                   const tinyc_dims *output_dims, int16_t *output);

/* Element-wise minimum / maximum of the raw int16 values, numpy broadcasting (strides in
 * elements, 0 along a broadcast axis). */
void tinyc_minimum_s16(const tinyc_dims *in1_strides, const int16_t *in1,
                       const tinyc_dims *in2_strides, const int16_t *in2,
                       const tinyc_dims *output_dims, int16_t *output);
void tinyc_maximum_s16(const tinyc_dims *in1_strides, const int16_t *in1,
                       const tinyc_dims *in2_strides, const int16_t *in2,
                       const tinyc_dims *output_dims, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYC_MOVE_S16_H */
