/*
 * tinyc_layer_norm.h - int8 LayerNormalization over the last axis, tinyc's fixed-point form
 * (ir/ops/norm.py documents the arithmetic; bit-exact with layer_norm_int there).
 */
#ifndef TINYC_LAYER_NORM_H
#define TINYC_LAYER_NORM_H

#include <stdint.h>

typedef struct {
    int32_t in_offset;            /* -zp_in */
    int32_t out_offset;           /* zp_out */
    int64_t eps_q;                /* round(n^2 epsilon / s_in^2) */
    const int32_t *multiplier;    /* per element: gamma / (s_out 2^16), sign kept */
    const int32_t *shift;         /* in [-31, 30] */
    const int32_t *bias;          /* per element: round(beta / s_out) */
} tinyc_layer_norm_params;

void tinyc_layer_norm_s8(const tinyc_layer_norm_params *params, int32_t num_rows,
                         int32_t row_size, const int8_t *input, int8_t *output);

#endif /* TINYC_LAYER_NORM_H */
