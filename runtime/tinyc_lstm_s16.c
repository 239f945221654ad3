/*
 * tinyc_lstm_s16.c - the 16x8 LSTM (TFLite Micro EvalLstm<int16_t, int8_t, int16_t, int64_t>):
 * tinyc_lstm_s8's arithmetic with int16 input and hidden state (zero points 0), int64 biases
 * and accumulators requantized by the 64-bit MultiplyByQuantizedMultiplier.
 */
#include "tinyc_lstm.h"
#include "tinyc_nn_s16.h"

/* One FC row: rq64(sum_k w[k] * v[k] (+ bias)), saturated to int16. */
static int16_t lstm_fc_s16(const int8_t *w, const int16_t *v, int32_t n, int64_t bias,
                           int32_t mult, int32_t shift)
{
    int64_t acc = bias;
    int32_t k;
    for (k = 0; k < n; ++k) {
        acc += (int64_t)((int32_t)w[k] * (int32_t)v[k]);
    }
    return lstm_sat16(tinyc_requantize_s64(acc, mult, shift));
}

void tinyc_lstm_s16(const tinyc_lstm_params *params, const uint16_t *sigmoid_table,
                    const int16_t *input, const int8_t *const *in_weights,
                    const int8_t *const *rec_weights, const int64_t *const *biases,
                    int16_t *scratch, int16_t *output)
{
    const int32_t n_b = params->batches;
    const int32_t n_t = params->steps;
    const int32_t n_in = params->features;
    const int32_t n_h = params->hidden;
    int16_t *gates = scratch;                     /* [4][hidden] */
    int16_t *cell = scratch + 4 * n_h;            /* [hidden] */
    int16_t *hid = scratch + 5 * n_h;             /* [hidden] */
    int32_t b;
    int32_t t;
    int32_t g;
    int32_t j;
    for (b = 0; b < n_b; ++b) {
        for (j = 0; j < n_h; ++j) {
            hid[j] = 0;
            cell[j] = 0;
        }
        for (t = 0; t < n_t; ++t) {
            const int32_t row = params->time_major ? t * n_b + b : b * n_t + t;
            const int16_t *x = input + row * n_in;
            int16_t *y = output + row * n_h;
            for (g = 0; g < 4; ++g) {
                for (j = 0; j < n_h; ++j) {
                    const int16_t from_x = lstm_fc_s16(in_weights[g] + j * n_in, x, n_in,
                                                       biases[g][j], params->in_mult[g],
                                                       params->in_shift[g]);
                    const int16_t from_h = lstm_fc_s16(rec_weights[g] + j * n_h, hid, n_h, 0,
                                                       params->rec_mult[g],
                                                       params->rec_shift[g]);
                    const int16_t pre = lstm_sat16((int32_t)from_x + (int32_t)from_h);
                    gates[g * n_h + j] = (g == 2) ? lstm_tanh(pre, 3, 0, sigmoid_table)
                                                  : lstm_sigmoid(pre, sigmoid_table);
                }
            }
            for (j = 0; j < n_h; ++j) {
                hid[j] = lstm_sat16(tinyc_lstm_cell(params, gates, cell, n_h, j,
                                                    sigmoid_table));
                y[j] = hid[j];
            }
        }
    }
}
