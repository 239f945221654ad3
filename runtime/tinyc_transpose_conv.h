/*
 * tinyc_transpose_conv.h - int8 transposed convolution (TFLite TRANSPOSE_CONV, ONNX
 * ConvTranspose), NHWC input, OHWI filter, per-channel requantization.
 */
#ifndef TINYC_TRANSPOSE_CONV_H
#define TINYC_TRANSPOSE_CONV_H

#include <stdint.h>

#include "tinyc_nn.h"

typedef struct {
    int32_t input_offset;       /* -input zero point */
    int32_t output_offset;      /* +output zero point */
    tinyc_tile stride;
    tinyc_tile padding;         /* top, left: the output's origin on the scattered canvas */
    tinyc_activation activation;
} tinyc_transpose_conv_params;

/* output[n][oy][ox][o] = clamp(requantize(bias[o] + sum over the input pixels (iy, ix) and
 * filter taps (fy, fx) with iy * stride.h + fy == oy + padding.h (and the same for x) of
 * sum_c (x[n][iy][ix][c] + input_offset) * w[o][fy][fx][c]) + output_offset): TFLite Micro's
 * reference_integer_ops::TransposeConv, gathered per output instead of scattered into an
 * int32 scratch (the sums are exact: same bits, no scratch). bias may be NULL. */
void tinyc_transpose_conv_s8(const tinyc_transpose_conv_params *params,
                             const tinyc_per_channel_quant_params *quant,
                             const tinyc_dims *input_dims, const int8_t *input,
                             const tinyc_dims *filter_dims, const int8_t *filter,
                             const int32_t *bias,
                             const tinyc_dims *output_dims, int8_t *output);

/* 16x8: int16 input and output (offsets 0), int8 filter, int64 bias (may be NULL), an int64
 * sum requantized by the 64-bit MultiplyByQuantizedMultiplier (TFLM's 16x8 TransposeConv). */
void tinyc_transpose_conv_s16(const tinyc_transpose_conv_params *params,
                              const tinyc_per_channel_quant_params *quant,
                              const tinyc_dims *input_dims, const int16_t *input,
                              const tinyc_dims *filter_dims, const int8_t *filter,
                              const int64_t *bias,
                              const tinyc_dims *output_dims, int16_t *output);

#endif /* TINYC_TRANSPOSE_CONV_H */
