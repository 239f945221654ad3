/*
 * tinyc_conv2d_pw.h - the int8 1x1 convolution (no padding, any stride) with pre-widened weights (weight
 * format "pw", storage="speed"; backend_c/pw.py, runtime/tinyc_conv2d_pw_s8.c).
 *
 * stream: per output channel pair (an odd last channel's partner is zero), int32 words
 *   {2 bias_a, 2 bias_b}, then for each k-pair j < in_c / 2 the two channels' doubled weights
 *   as int16 pairs {w_a, w_b} (input channels 4 (j / 2) + j % 2 and + 2: the lanes SXTAB16
 *   widens a word of four into), then {m, h, e}_a, {m, h, e}_b (tinyc_rq).
 * scratch: 6 in_c bytes (three pixels widened) + 3 * (out_c rounded up to even) bytes.
 */
#ifndef TINYC_CONV2D_PW_H
#define TINYC_CONV2D_PW_H

#include <stdint.h>

#include "tinyc_nn.h"

typedef struct {
    int32_t npix;               /* batch x output height x output width */
    int32_t in_c;               /* a multiple of 4 */
    int32_t out_c;
    int32_t input_offset;
    tinyc_activation activation;
    tinyc_tile in_hw;           /* input height, width */
    tinyc_tile out_hw;          /* output height, width */
    tinyc_tile stride;          /* output pixel (y, x) reads input pixel (y * h, x * w) */
} tinyc_conv_pw_params;

void tinyc_conv2d_pw_s8(const tinyc_conv_pw_params *params, const int32_t *stream,
                        const int8_t *input, int16_t *scratch, int8_t *output);

#endif /* TINYC_CONV2D_PW_H */
