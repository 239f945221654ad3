/*
 * tinyc_gru.h - int8 unidirectional GRU (ONNX GRU forward; tinyc/ir/ops/gru.py is the golden
 * model): int8 input, weights and output, int16 hidden state at 2^-15, the int8 LSTM's gate
 * arithmetic (tinyc_lstm.h: TFLite's int16 sigmoid / tanh).
 */
#ifndef TINYC_GRU_H
#define TINYC_GRU_H

#include <stdint.h>

#include "tinyc_lstm.h"

/* Gates in ONNX's order: 0 update (z), 1 reset (r), 2 candidate (h). */
typedef struct {
    int32_t batches;
    int32_t steps;
    int32_t features;
    int32_t hidden;
    int32_t time_major;          /* input [steps][batches][features], else [batches][steps][.] */
    int32_t linear_before_reset; /* candidate: r * (R_h h + rbh), else R_h (r * h) */
    int32_t in_offset;           /* -input zero point */
    int32_t in_mult[3];          /* input FC -> int16 at 2^-12, per gate */
    int32_t in_shift[3];
    int32_t rec_mult[3];         /* recurrent FC (h at 2^-15) -> int16 at 2^-12, per gate */
    int32_t rec_shift[3];
    int32_t y_mult;              /* hidden state (2^-15) -> output */
    int32_t y_shift;
    int32_t y_zp;
} tinyc_gru_params;

/* Arena scratch: 5 * hidden int16 (hidden state, z, r, r * h, candidate). */
#define TINYC_GRU_SCRATCH_BYTES(hidden) (10 * (hidden))

/* rbh: linear_before_reset's recurrent candidate bias (hidden int32, 2^-15 s_Rh units). */
void tinyc_gru_s8(const tinyc_gru_params *params, const uint16_t *sigmoid_table,
                  const int8_t *input, const int8_t *const *in_weights,
                  const int8_t *const *rec_weights, const int32_t *const *biases,
                  const int32_t *rbh, int16_t *scratch, int8_t *output);

#endif /* TINYC_GRU_H */
