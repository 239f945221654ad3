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
#include "tinyc_requant.h"

static int16_t lstm_sat16(int32_t v)
{
    return (int16_t)(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
}

/* TFLite reference_integer_ops::Logistic on int16 Q3.12 (power-of-two case): Q0.15. */
static int16_t lstm_sigmoid(int32_t x, const uint16_t *table)
{
    const int32_t v = x * 3;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 9;
    uint32_t r;
    if (uh >= 255u) {
        r = 0x7FFFu << 10;
    } else {
        const uint32_t ua = table[uh];
        const uint32_t ub = table[uh + 1u];
        r = (ua << 9) + (a & 0x1FFu) * (ub - ua);
    }
    r = (v >= 0) ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    return (int16_t)(r >> 10);
}

/* TFLite reference_integer_ops::Tanh on int16 with (multiplier, shift): Q0.15. */
static int16_t lstm_tanh(int32_t x, int32_t mult, int32_t shift, const uint16_t *table)
{
    const int32_t round = (shift > 0) ? (int32_t)(1u << (shift - 1)) : 0;
    const int32_t v = tinyc_asr(x * mult + round, shift);
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 8;
    int32_t r;
    if (uh >= 255u) {
        r = 0xFFFF << 8;
    } else {
        const uint32_t ua = table[uh];
        const uint32_t ub = table[uh + 1u];
        r = (int32_t)((ua << 8) + (a & 0xFFu) * (ub - ua));
    }
    r = (v >= 0) ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    return (int16_t)tinyc_asr(r, 8);
}

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
                    gates[g * n_h + j] = (g == 2) ? lstm_tanh(pre, 3, 0, sigmoid_table)
                                                  : lstm_sigmoid(pre, sigmoid_table);
                }
            }
            for (j = 0; j < n_h; ++j) {
                const int32_t i_g = gates[j];
                const int32_t f_g = gates[n_h + j];
                const int32_t c_g = gates[2 * n_h + j];
                const int32_t o_g = gates[3 * n_h + j];
                const int16_t fc = lstm_sat16(tinyc_requantize(f_g * (int32_t)cell[j],
                                                               params->fc_mult,
                                                               params->fc_shift));
                const int16_t ic = lstm_sat16(tinyc_requantize(i_g * c_g, params->ic_mult,
                                                               params->ic_shift));
                int32_t c = lstm_sat16((int32_t)fc + (int32_t)ic);
                int32_t h;
                if (params->cell_clip >= 0) {
                    c = c > params->cell_clip ? params->cell_clip :
                        (c < -params->cell_clip ? -params->cell_clip : c);
                }
                cell[j] = (int16_t)c;
                h = tinyc_requantize((int32_t)lstm_tanh(c, params->tanh_mult,
                                                        params->tanh_shift, sigmoid_table) * o_g,
                                     params->h_mult, params->h_shift) + params->h_zp;
                hid[j] = (int8_t)(h < -128 ? -128 : (h > 127 ? 127 : h));
                y[j] = hid[j];
            }
        }
    }
}
