/*
 * tinyc_lstm.h - int8 unidirectional LSTM (TFLite Micro UNIDIRECTIONAL_SEQUENCE_LSTM, int8
 * activations and weights, int16 cell state; tinyc/ir/ops/lstm.py is the golden model).
 */
#ifndef TINYC_LSTM_H
#define TINYC_LSTM_H

#include <stdint.h>

/* Gates in TFLite's order: 0 input, 1 forget, 2 cell, 3 output. */
typedef struct {
    int32_t batches;
    int32_t steps;
    int32_t features;
    int32_t hidden;
    int32_t time_major;          /* input [steps][batches][features], else [batches][steps][.] */
    int32_t in_offset;           /* -input zero point */
    int32_t h_offset;            /* -hidden state zero point */
    int32_t h_zp;                /* hidden state (= output) zero point */
    int32_t in_mult[4];          /* input FC -> int16 at 2^-12, per gate */
    int32_t in_shift[4];
    int32_t rec_mult[4];         /* recurrent FC -> int16 at 2^-12, per gate */
    int32_t rec_shift[4];
    int32_t fc_mult;             /* forget * cell -> cell */
    int32_t fc_shift;
    int32_t ic_mult;             /* input * cell gate -> cell */
    int32_t ic_shift;
    int32_t h_mult;              /* output gate * tanh(cell) -> hidden */
    int32_t h_shift;
    int32_t tanh_mult;           /* tanh of the cell state (TFLite's int16 Tanh parameters) */
    int32_t tanh_shift;
    int32_t cell_clip;           /* |cell| <= cell_clip, or < 0: no clipping */
} tinyc_lstm_params;

/* Arena scratch: 5 * hidden int16 (gates, cell state) then hidden int8 (hidden state). */
#define TINYC_LSTM_SCRATCH_BYTES(hidden) (11 * (hidden))

void tinyc_lstm_s8(const tinyc_lstm_params *params, const uint16_t *sigmoid_table,
                   const int8_t *input, const int8_t *const *in_weights,
                   const int8_t *const *rec_weights, const int32_t *const *biases,
                   int16_t *scratch, int8_t *output);

#endif /* TINYC_LSTM_H */
