/*
 * tinyc_gru_s8.c - int8 GRU over a sequence (tinyc_gru.h), per batch row and step:
 *   z = sigmoid(sat16(rq(W_z (x + in_offset) + b_z) + rq(R_z h)))      (int16 at 2^-12)
 *   r = sigmoid(sat16(rq(W_r (x + in_offset) + b_r) + rq(R_r h)))
 *   n = tanh(sat16(rq(W_h (x + in_offset) + b_h) + rq(R_h q15(r h))))       or, linear
 *       before reset, tanh(sat16(rq(W_h (x + in_offset) + b_h) + q15(r sat16(rq(R_h h + rbh)))))
 *   h = sat16(q15((2^15 - z) n + z h));  y = clamp8(rq(h, y_mult, y_shift) + y_zp)
 * with q15(v) = (v + 2^14) >> 15 and the hidden state starting at zero for each row.
 */
#include "tinyc_gru.h"

/* One FC row: sat16(rq(sum_k w[k] * (v[k] + offset) + bias)). */
static int16_t gru_fc8(const int8_t *w, const int8_t *v, int32_t n, int32_t offset,
                       int32_t bias, int32_t mult, int32_t shift)
{
    int32_t acc = bias;
    int32_t k;
    for (k = 0; k < n; ++k) {
        acc += (int32_t)w[k] * ((int32_t)v[k] + offset);
    }
    return lstm_sat16(tinyc_requantize(acc, mult, shift));
}

/* A recurrent FC row on the int16 state: sat16(rq(sum_k w[k] * v[k] + bias)) (exact in int32
 * for hidden <= 256). */
static int16_t gru_fc16(const int8_t *w, const int16_t *v, int32_t n, int32_t bias,
                        int32_t mult, int32_t shift)
{
    int32_t acc = bias;
    int32_t k;
    for (k = 0; k < n; ++k) {
        acc += (int32_t)w[k] * (int32_t)v[k];
    }
    return lstm_sat16(tinyc_requantize(acc, mult, shift));
}

static int32_t gru_q15(int32_t v)
{
    return tinyc_asr(v + (1 << 14), 15);
}

void tinyc_gru_s8(const tinyc_gru_params *params, const uint16_t *sigmoid_table,
                  const int8_t *input, const int8_t *const *in_weights,
                  const int8_t *const *rec_weights, const int32_t *const *biases,
                  const int32_t *rbh, int16_t *scratch, int8_t *output)
{
    const int32_t n_b = params->batches;
    const int32_t n_t = params->steps;
    const int32_t n_in = params->features;
    const int32_t n_h = params->hidden;
    int16_t *hid = scratch;                       /* [hidden] the state, 2^-15 */
    int16_t *z = scratch + n_h;                   /* [hidden] Q0.15 */
    int16_t *r = scratch + 2 * n_h;               /* [hidden] Q0.15 */
    int16_t *rh = scratch + 3 * n_h;              /* [hidden] r * h, 2^-15 */
    int16_t *cand = scratch + 4 * n_h;            /* [hidden] the candidate n, Q0.15 */
    int32_t b;
    int32_t t;
    int32_t j;
    for (b = 0; b < n_b; ++b) {
        for (j = 0; j < n_h; ++j) {
            hid[j] = 0;
        }
        for (t = 0; t < n_t; ++t) {
            const int32_t row = params->time_major ? t * n_b + b : b * n_t + t;
            const int8_t *x = input + row * n_in;
            int8_t *y = output + row * n_h;
            for (j = 0; j < n_h; ++j) {
                int32_t g;
                for (g = 0; g < 2; ++g) {
                    const int16_t from_x = gru_fc8(in_weights[g] + j * n_in, x, n_in,
                                                   params->in_offset, biases[g][j],
                                                   params->in_mult[g], params->in_shift[g]);
                    const int16_t from_h = gru_fc16(rec_weights[g] + j * n_h, hid, n_h, 0,
                                                    params->rec_mult[g], params->rec_shift[g]);
                    const int16_t s = lstm_sigmoid(
                        lstm_sat16((int32_t)from_x + (int32_t)from_h), sigmoid_table);
                    if (g == 0) {
                        z[j] = s;
                    } else {
                        r[j] = s;
                    }
                }
            }
            if (!params->linear_before_reset) {
                for (j = 0; j < n_h; ++j) {
                    rh[j] = (int16_t)gru_q15((int32_t)r[j] * (int32_t)hid[j]);
                }
            }
            for (j = 0; j < n_h; ++j) {
                const int16_t from_x = gru_fc8(in_weights[2] + j * n_in, x, n_in,
                                               params->in_offset, biases[2][j],
                                               params->in_mult[2], params->in_shift[2]);
                int32_t from_h;
                if (params->linear_before_reset) {
                    const int16_t hr = gru_fc16(rec_weights[2] + j * n_h, hid, n_h, rbh[j],
                                                params->rec_mult[2], params->rec_shift[2]);
                    from_h = gru_q15((int32_t)r[j] * (int32_t)hr);
                } else {
                    from_h = gru_fc16(rec_weights[2] + j * n_h, rh, n_h, 0,
                                      params->rec_mult[2], params->rec_shift[2]);
                }
                /* tanh of Q3.12 (TFLite Tanh multiplier 3, shift 0) */
                cand[j] = lstm_tanh(lstm_sat16((int32_t)from_x + from_h), 3, 0, sigmoid_table);
            }
            for (j = 0; j < n_h; ++j) {
                const int32_t zj = z[j];
                hid[j] = lstm_sat16(gru_q15(((1 << 15) - zj) * (int32_t)cand[j]
                                            + zj * (int32_t)hid[j]));
                y[j] = tinyc_clamp_s8(tinyc_requantize(hid[j], params->y_mult, params->y_shift),
                                      params->y_zp, -128, 127);
            }
        }
    }
}
