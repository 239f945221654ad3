/*
 * tinyc_lstm_s8.c - int8 LSTM over a sequence, bit-exact with TFLite Micro's lstm_eval
 * (EvalLstm<int8_t, int8_t, int16_t, int32_t>):
 *   gate g = act(sat16(rq(W_g (x + in_offset) + b_g)) + sat16(rq(R_g (h + h_offset))))
 *            (int16 at 2^-12; sigmoid, the cell gate tanh: TFLite's int16 table functions)
 *   c = sat16(sat16(rq(f * c)) + sat16(rq(i * g)))   clipped to +-cell_clip when set
 *   h = clamp8(rq(tanh(c) * o) + h_zp)               written to the output at every step
 * Hidden state and cell state start at zero (h at its zero point) for each batch row; rows are
 * independent, so a time-major sequence runs row by row as well.
 */
#include "tinyc_lstm.h"

/* One FC row: rq(sum_k w[k] * (v[k] + offset) (+ bias)), saturated to int16. */
static int16_t lstm_fc(const int8_t *w, const int8_t *v, int32_t n, int32_t offset,
                       int32_t bias, int32_t mult, int32_t shift)
{
    int32_t acc = bias;
    int32_t k;
    for (k = 0; k < n; ++k) {
        acc += (int32_t)w[k] * ((int32_t)v[k] + offset);
    }
    return lstm_sat16(tinyc_requantize(acc, mult, shift));
}

void tinyc_lstm_s8(const tinyc_lstm_params *params, const uint16_t *sigmoid_table,
                   const int8_t *input, const int8_t *const *in_weights,
                   const int8_t *const *rec_weights, const int32_t *const *biases,
                   int16_t *scratch, int8_t *output)
{
    const int32_t n_b = params->batches;
    const int32_t n_t = params->steps;
    const int32_t n_in = params->features;
    const int32_t n_h = params->hidden;
    int16_t *gates = scratch;                     /* [4][hidden] */
    int16_t *cell = scratch + 4 * n_h;            /* [hidden] */
    int8_t *hid = (int8_t *)(void *)(scratch + 5 * n_h);   /* [hidden] */
    int32_t b;
    int32_t t;
    int32_t g;
    int32_t j;
    for (b = 0; b < n_b; ++b) {
        for (j = 0; j < n_h; ++j) {
            hid[j] = (int8_t)params->h_zp;
            cell[j] = 0;
        }
        for (t = 0; t < n_t; ++t) {
            const int32_t row = params->time_major ? t * n_b + b : b * n_t + t;
            const int8_t *x = input + row * n_in;
            int8_t *y = output + row * n_h;
            for (g = 0; g < 4; ++g) {
                for (j = 0; j < n_h; ++j) {
                    const int16_t from_x = lstm_fc(in_weights[g] + j * n_in, x, n_in,
                                                   params->in_offset, biases[g][j],
                                                   params->in_mult[g], params->in_shift[g]);
                    const int16_t from_h = lstm_fc(rec_weights[g] + j * n_h, hid, n_h,
                                                   params->h_offset, 0,
                                                   params->rec_mult[g], params->rec_shift[g]);
                    const int16_t pre = lstm_sat16((int32_t)from_x + (int32_t)from_h);
                    /* the cell gate: tanh of Q3.12 (TFLite Tanh multiplier 3, shift 0) */
                    gates[g * n_h + j] = (g == 2) ? lstm_tanh(pre, 3, 0, sigmoid_table)
                                                  : lstm_sigmoid(pre, sigmoid_table);
                }
            }
            for (j = 0; j < n_h; ++j) {
                const int32_t h = tinyc_lstm_cell(params, gates, cell, n_h, j, sigmoid_table) +
                                  params->h_zp;
                hid[j] = (int8_t)(h < -128 ? -128 : (h > 127 ? 127 : h));
                y[j] = hid[j];
            }
        }
    }
}
