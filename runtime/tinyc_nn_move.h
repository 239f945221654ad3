/*
 * tinyc_nn_move.h - reductions (mean, sum, max over any axes), gather with constant
 * indices and nearest-neighbour resize, int8.  Kept in their own header so that models without them keep tinyc_nn.h as is.
 *
 * A reduction walks two 4-D index spaces over the input: the output's (out_dims, with the
 * input's stride along each output axis in out_strides) and, per output element, the reduced
 * one (red_dims, red_strides); the compiler collapses both from the IR's axes.
 */
#ifndef TINYC_NN_MOVE_H
#define TINYC_NN_MOVE_H

#include <stdint.h>

#include "tinyc_nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    tinyc_dims out_dims;
    tinyc_dims out_strides;
    tinyc_dims red_dims;
    tinyc_dims red_strides;
    int32_t in_offset;          /* -input zero point (sum, mean) */
    int32_t multiplier;         /* s_in / s_out (mean: with 1 / count folded in, TFLM's) */
    int32_t shift;
    int32_t out_offset;
} tinyc_reduce_params;

/* mean and sum (TFLite Micro's QuantizedMeanOrSum): per output element
 * clamp(requantize(sum + in_offset * count, multiplier, shift) + out_offset). */
void tinyc_reduce_sum_s8(const tinyc_reduce_params *params, const int8_t *input,
                         int8_t *output);

/* max: the largest input value (output quantized as the input). */
void tinyc_reduce_max_s8(const tinyc_reduce_params *params, const int8_t *input,
                         int8_t *output);

/* gather along one axis: input [outer][axis_len][inner] -> output [outer][count][inner],
 * output block j = input block indices[j]. */
typedef struct {
    int32_t outer;
    int32_t axis_len;
    int32_t inner;
    int32_t count;
} tinyc_gather_params;

void tinyc_gather_s8(const tinyc_gather_params *params, const int32_t *indices,
                     const int8_t *input, int8_t *output);

/* nearest-neighbour resize, NHWC: output[n][i][j] = input[n][h_index[i]][w_index[j]] (the
 * channels copied as raw bytes). */
typedef struct {
    tinyc_dims input_dims;
    int32_t out_h;
    int32_t out_w;
} tinyc_resize_params;

void tinyc_resize_nearest_s8(const tinyc_resize_params *params, const int32_t *h_index,
                             const int32_t *w_index, const int8_t *input, int8_t *output);

/* bilinear resize, NHWC, TFLite Micro's ResizeBilinearInteger: rows[3 i .. 3 i + 2] = (lower
 * row, upper row, weight of the upper row in 1/1024) of output row i, cols[] the same for the
 * columns (computed by the compiler); output = the 20-bit weighted sum of the four inputs,
 * rounded half away from zero. */
void tinyc_resize_bilinear_s8(const tinyc_resize_params *params, const int32_t *rows,
                              const int32_t *cols, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYC_NN_MOVE_H */
