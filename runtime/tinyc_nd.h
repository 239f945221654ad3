/*
 * tinyc_nd.h - int8 3-D convolution and pooling (ONNX Conv / MaxPool / AveragePool on
 * [N, C, D, H, W]), NDHWC activations, ODHWI filters: plain loops, no scratch. The 2-D pooling
 * variants TFLite has no form of (dilation, count_include_pad) run here with D = 1.
 */
#ifndef TINYC_ND_H
#define TINYC_ND_H

#include <stdint.h>

#include "tinyc_nn.h"

/* A 5-D shape {n, d, h, w, c}; a 3-D window parameter {d, h, w}. */
typedef struct {
    int32_t n;
    int32_t d;
    int32_t h;
    int32_t w;
    int32_t c;
} tinyc_dims5;

typedef struct {
    int32_t d;
    int32_t h;
    int32_t w;
} tinyc_dhw;

typedef struct {
    int32_t input_offset;       /* -input zero point */
    int32_t output_offset;      /* +output zero point */
    tinyc_dhw stride;
    tinyc_dhw padding;          /* front, top, left */
    tinyc_dhw dilation;
    tinyc_activation activation;
} tinyc_conv3d_params;

/* output[n][od][oh][ow][o] = clamp(requantize(bias[o] + sum over the taps inside the input of
 * sum_c (x + input_offset) * w[o][kd][kh][kw][c]) + output_offset): conv2d's arithmetic
 * (TFLite Micro's reference Conv) over a 3-D window. filter_dims: {O, KD, KH, KW, C}; bias
 * may be NULL. */
void tinyc_conv3d_s8(const tinyc_conv3d_params *params,
                     const tinyc_per_channel_quant_params *quant,
                     const tinyc_dims5 *input_dims, const int8_t *input,
                     const tinyc_dims5 *filter_dims, const int8_t *filter,
                     const int32_t *bias,
                     const tinyc_dims5 *output_dims, int8_t *output);

typedef struct {
    tinyc_dhw kernel;
    tinyc_dhw stride;
    tinyc_dhw padding;          /* front, top, left */
    tinyc_dhw dilation;
    tinyc_dhw count_begin;      /* average: taps at positions in [-count_begin, */
    tinyc_dhw count_end;        /*   size + count_end) count (ONNX count_include_pad) */
    int32_t pad_value;          /* what a counted tap outside the input adds (input zero point) */
    tinyc_activation activation;
} tinyc_pool3d_params;

/* The average of the counted taps (those inside the input, and those in the counted padding,
 * which add pad_value), rounded half away from zero as TFLite Micro's AveragePool; a window
 * with no counted tap gives 0; then the activation clamp. The output quantization equals the
 * input's. */
void tinyc_avg_pool3d_s8(const tinyc_pool3d_params *params,
                         const tinyc_dims5 *input_dims, const int8_t *input,
                         const tinyc_dims5 *output_dims, int8_t *output);

/* The maximum of the taps inside the input (a window wholly in the padding gives
 * activation.min), clamped. */
void tinyc_max_pool3d_s8(const tinyc_pool3d_params *params,
                         const tinyc_dims5 *input_dims, const int8_t *input,
                         const tinyc_dims5 *output_dims, int8_t *output);

#endif /* TINYC_ND_H */
