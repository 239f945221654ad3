/*
 * tinyc_binary.h - int8 elementwise binary ops with numpy broadcasting beyond add and mul
 * (TFLite Micro reference kernels, bit for bit):
 *   sub                 add's arithmetic (left shift 20, both inputs rescaled), r1 - r2
 *   squared_difference  the same with left shift 7, (r1 - r2)^2 requantized
 *   minimum, maximum    of the raw int8 values (TFLM: both operands quantized as the output)
 *   prelu               x >= 0: (x + in1_offset) * M1; else (x + in1_offset) *
 *                       (alpha + in2_offset) * M2  (M1 = in1_multiplier / in1_shift,
 *                       M2 = out_multiplier / out_shift; in2_* multipliers unused)
 * Strides as tinyc_add_s8 (0 where an input is broadcast); the output may be an input that
 * has the output's shape (in-place).
 */
#ifndef TINYC_BINARY_H
#define TINYC_BINARY_H

#include <stdint.h>

#include "tinyc_nn.h"

void tinyc_sub_s8(const tinyc_add_params *params,
                  const tinyc_dims *in1_strides, const int8_t *in1,
                  const tinyc_dims *in2_strides, const int8_t *in2,
                  const tinyc_dims *output_dims, int8_t *output);

void tinyc_squared_difference_s8(const tinyc_add_params *params,
                                 const tinyc_dims *in1_strides, const int8_t *in1,
                                 const tinyc_dims *in2_strides, const int8_t *in2,
                                 const tinyc_dims *output_dims, int8_t *output);

void tinyc_prelu_s8(const tinyc_add_params *params,
                    const tinyc_dims *in1_strides, const int8_t *in1,
                    const tinyc_dims *in2_strides, const int8_t *in2,
                    const tinyc_dims *output_dims, int8_t *output);

void tinyc_minimum_s8(const tinyc_add_params *params,
                      const tinyc_dims *in1_strides, const int8_t *in1,
                      const tinyc_dims *in2_strides, const int8_t *in2,
                      const tinyc_dims *output_dims, int8_t *output);

void tinyc_maximum_s8(const tinyc_add_params *params,
                      const tinyc_dims *in1_strides, const int8_t *in1,
                      const tinyc_dims *in2_strides, const int8_t *in2,
                      const tinyc_dims *output_dims, int8_t *output);

#endif /* TINYC_BINARY_H */
