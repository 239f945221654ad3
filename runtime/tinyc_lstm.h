/*
 * tinyc_lstm.h - int8 unidirectional LSTM (TFLite Micro UNIDIRECTIONAL_SEQUENCE_LSTM, int8
 * activations and weights, int16 cell state; tinyc/ir/ops/lstm.py is the golden model).
 */
#ifndef TINYC_LSTM_H
#define TINYC_LSTM_H

#include <stdint.h>

#include "tinyc_requant.h"

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

/* Arena scratch: 5 * hidden int16 (gates, cell state) then the hidden state, hidden int8
 * (tinyc_lstm_s8) or int16 (tinyc_lstm_s16). */
#define TINYC_LSTM_SCRATCH_BYTES(hidden) (11 * (hidden))
#define TINYC_LSTM_S16_SCRATCH_BYTES(hidden) (12 * (hidden))

void tinyc_lstm_s8(const tinyc_lstm_params *params, const uint16_t *sigmoid_table,
                   const int8_t *input, const int8_t *const *in_weights,
                   const int8_t *const *rec_weights, const int32_t *const *biases,
                   int16_t *scratch, int8_t *output);

/* 16x8: int16 input, hidden state and output (zero points 0), int64 biases. */
void tinyc_lstm_s16(const tinyc_lstm_params *params, const uint16_t *sigmoid_table,
                    const int16_t *input, const int8_t *const *in_weights,
                    const int8_t *const *rec_weights, const int64_t *const *biases,
                    int16_t *scratch, int16_t *output);

static inline int16_t lstm_sat16(int32_t v)
{
    return (int16_t)(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
}

/* TFLite reference_integer_ops::Logistic on int16 Q3.12 (power-of-two case): Q0.15. */
static inline int16_t lstm_sigmoid(int32_t x, const uint16_t *table)
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

/* TFLite reference_integer_ops::Logistic on int16 with (multiplier, shift) (16x8 LOGISTIC):
 * Q0.15; lstm_sigmoid is the (3, 0) case. */
static inline int16_t lstm_sigmoid_scaled(int32_t x, int32_t mult, int32_t shift,
                                          const uint16_t *table)
{
    const int32_t round = (shift > 0) ? (int32_t)(1u << (shift - 1)) : 0;
    const int32_t v = tinyc_asr(x * mult + round, shift);
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
static inline int16_t lstm_tanh(int32_t x, int32_t mult, int32_t shift, const uint16_t *table)
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

/* The cell update and the output gate product of unit j: c = sat16(rq(f * c) + rq(i * g)),
 * clipped; returns rq(tanh(c) * o) (before the hidden zero point and clamp). */
static inline int32_t tinyc_lstm_cell(const tinyc_lstm_params *p, const int16_t *gates,
                                      int16_t *cell, int32_t n_h, int32_t j,
                                      const uint16_t *table)
{
    const int32_t i_g = gates[j];
    const int32_t f_g = gates[n_h + j];
    const int32_t c_g = gates[2 * n_h + j];
    const int32_t o_g = gates[3 * n_h + j];
    const int16_t fc = lstm_sat16(tinyc_requantize(f_g * (int32_t)cell[j], p->fc_mult,
                                                   p->fc_shift));
    const int16_t ic = lstm_sat16(tinyc_requantize(i_g * c_g, p->ic_mult, p->ic_shift));
    int32_t c = lstm_sat16((int32_t)fc + (int32_t)ic);
    if (p->cell_clip >= 0) {
        c = c > p->cell_clip ? p->cell_clip : (c < -p->cell_clip ? -p->cell_clip : c);
    }
    cell[j] = (int16_t)c;
    return tinyc_requantize((int32_t)lstm_tanh(c, p->tanh_mult, p->tanh_shift, table) * o_g,
                            p->h_mult, p->h_shift);
}

#endif /* TINYC_LSTM_H */
