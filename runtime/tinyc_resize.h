/*
 * tinyc_resize.h - int8 general resize of H and W (NHWC), ONNX's Resize as separable tap
 * tables (ir/ops/resize.py documents the arithmetic; bit-exact with resize_int there).
 */
#ifndef TINYC_RESIZE_H
#define TINYC_RESIZE_H

#include <stdint.h>

#include "tinyc_nn.h"

typedef struct {
    tinyc_dims input_dims;
    int32_t out_h;
    int32_t out_w;
    int32_t kh;                   /* taps per output row */
    int32_t kw;                   /* taps per output column */
    int32_t in_offset;            /* -zp_in */
    int32_t out_offset;           /* zp_out */
    int32_t multiplier;           /* s_in / (s_out 2^16) */
    int32_t shift;
    int32_t extrapolation;        /* the int8 output of an extrapolated position */
} tinyc_resize_general_params;

/* h_index[i * kh + a], h_weight[i * kh + a]: the input rows of output row i and their Q16
 * weights (summing to 2^16); h_index[i * kh] < 0: row i is extrapolated. The same for the
 * columns (w_index, w_weight, kw). */
void tinyc_resize_s8(const tinyc_resize_general_params *params, const int32_t *h_index,
                     const int32_t *h_weight, const int32_t *w_index, const int32_t *w_weight,
                     const int8_t *input, int8_t *output);

#endif /* TINYC_RESIZE_H */
