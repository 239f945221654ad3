/*
 * tinyc_lstm_peep.h - the int8 LSTM with peephole (cell-to-gate) weights: TFLite's integer
 * LSTM (lstm_eval.cc, CalculateLstmGateInteger8x8_16 with use_peephole); TFLite Micro's LSTM
 * has none, so TFLite imports never run it. tinyc/ir/ops/lstm.py is the golden model.
 */
#ifndef TINYC_LSTM_PEEP_H
#define TINYC_LSTM_PEEP_H

#include <stdint.h>

#include "tinyc_lstm.h"

/* Gates 0 input, 1 forget, 2 output: int16 weights [hidden], multiplier 2^cell_power * s_w
 * / 2^-12 each; a gate adds sat16(pre + rq(w[j] * cell[j])) before its sigmoid. */
typedef struct {
    const int16_t *w[3];
    int32_t mult[3];
    int32_t shift[3];
} tinyc_lstm_peephole;

void tinyc_lstm_peep_s8(const tinyc_lstm_params *params, const tinyc_lstm_peephole *peep,
                        const uint16_t *sigmoid_table, const int8_t *input,
                        const int8_t *const *in_weights, const int8_t *const *rec_weights,
                        const int32_t *const *biases, int16_t *scratch, int8_t *output);

#endif /* TINYC_LSTM_PEEP_H */
