/*
 * tinyc_lstm_peep_s8.c - int8 LSTM with peephole weights (tinyc_lstm_peep.h):
 *   pre_g = sat16(sat16(rq(W_g (x + in_offset) + b_g)) + sat16(rq(R_g (h + h_offset))))
 *   i = sigmoid(sat16(pre_i + rq(P_i c))), f = sigmoid(sat16(pre_f + rq(P_f c))), g = tanh(pre_c)
 *   c = sat16(sat16(rq(f * c)) + sat16(rq(i * g)))   clipped to +-cell_clip when set
 *   o = sigmoid(sat16(pre_o + rq(P_o c)))              (the updated cell)
 *   h = clamp8(rq(tanh(c) * o) + h_zp)
 * as tinyc_lstm_s8 otherwise (zero start state, rows independent).
 */
#include "tinyc_lstm_peep.h"

static int16_t peep_fc(const int8_t *w, const int8_t *v, int32_t n, int32_t offset,
                       int32_t bias, int32_t mult, int32_t shift)
{
    int32_t acc = bias;
    int32_t k;
    for (k = 0; k < n; ++k) {
        acc += (int32_t)w[k] * ((int32_t)v[k] + offset);
    }
    return lstm_sat16(tinyc_requantize(acc, mult, shift));
}

static int16_t peep_add(const tinyc_lstm_peephole *peep, int32_t gate, int32_t pre,
                        int32_t cell, int32_t j)
{
    const int32_t prod = (int32_t)peep->w[gate][j] * cell;
    return lstm_sat16(pre + tinyc_requantize(prod, peep->mult[gate], peep->shift[gate]));
}

void tinyc_lstm_peep_s8(const tinyc_lstm_params *params, const tinyc_lstm_peephole *peep,
                        const uint16_t *sigmoid_table, const int8_t *input,
                        const int8_t *const *in_weights, const int8_t *const *rec_weights,
                        const int32_t *const *biases, int16_t *scratch, int8_t *output)
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
                    const int16_t from_x = peep_fc(in_weights[g] + j * n_in, x, n_in,
                                                   params->in_offset, biases[g][j],
                                                   params->in_mult[g], params->in_shift[g]);
                    const int16_t from_h = peep_fc(rec_weights[g] + j * n_h, hid, n_h,
                                                   params->h_offset, 0,
                                                   params->rec_mult[g], params->rec_shift[g]);
                    const int32_t pre = lstm_sat16((int32_t)from_x + (int32_t)from_h);
                    if (g == 2) {
                        gates[g * n_h + j] = lstm_tanh(pre, 3, 0, sigmoid_table);
                    } else if (g == 3) {
                        gates[g * n_h + j] = (int16_t)pre;    /* after the cell update */
                    } else {
                        gates[g * n_h + j] = lstm_sigmoid(peep_add(peep, g, pre, cell[j], j),
                                                          sigmoid_table);
                    }
                }
            }
            for (j = 0; j < n_h; ++j) {
                const int32_t i_g = gates[j];
                const int32_t f_g = gates[n_h + j];
                const int32_t c_g = gates[2 * n_h + j];
                const int16_t fc = lstm_sat16(tinyc_requantize(f_g * (int32_t)cell[j],
                                                               params->fc_mult, params->fc_shift));
                const int16_t ic = lstm_sat16(tinyc_requantize(i_g * c_g, params->ic_mult,
                                                               params->ic_shift));
                int32_t c = lstm_sat16((int32_t)fc + (int32_t)ic);
                int32_t o_g;
                int32_t h;
                if (params->cell_clip >= 0) {
                    c = c > params->cell_clip ? params->cell_clip
                                              : (c < -params->cell_clip ? -params->cell_clip : c);
                }
                cell[j] = (int16_t)c;
                o_g = lstm_sigmoid(peep_add(peep, 2, gates[3 * n_h + j], c, j), sigmoid_table);
                h = tinyc_requantize((int32_t)lstm_tanh(c, params->tanh_mult, params->tanh_shift,
                                                        sigmoid_table) * o_g,
                                     params->h_mult, params->h_shift) + params->h_zp;
                hid[j] = (int8_t)(h < -128 ? -128 : (h > 127 ? 127 : h));
                y[j] = hid[j];
            }
        }
    }
}
