/*
 * tinyc_svdf_s8.c - int8 SVDF with int16 or int8 state, TFLite Micro's integer path on a fresh
 * state: per filter f the state's newest slot is
 *   s[f] = T(clamp_T(requantize(sum_i wf[f][i] * (x[i] + in_offset), mult1, shift1))
 *            + state_offset)   (T = the state type, int16 or int8; the sum wraps),
 * the time sum is wt[f][M-1] * (s[f] - state_offset) (the older slots hold the reset value,
 * the zero point: they add 0), and output unit u is
 *   y[u] = clamp_int8(requantize(bias[u] + sum_r time(u * rank + r), mult2, shift2) + out_offset).
 * Bit-exact with tinyc/ir/ops/svdf.py (svdf_int), which runs TFLM's algorithm step by step.
 */
#include "tinyc_svdf.h"
#include "tinyc_requant.h"

void tinyc_svdf_s8(const tinyc_svdf_params *p, const int8_t *input,
                   const int8_t *weights_feature, const int16_t *time_last,
                   const int32_t *bias, int8_t *output)
{
    int32_t b, u, r, i;
    for (b = 0; b < p->n_batch; ++b) {
        const int8_t *x = input + b * p->n_input;
        for (u = 0; u < p->n_unit; ++u) {
            int32_t acc = (bias != 0) ? bias[u] : 0;
            for (r = 0; r < p->rank; ++r) {
                const int32_t f = u * p->rank + r;
                const int8_t *w = weights_feature + f * p->n_input;
                int32_t dot = 0;
                int32_t s;
                for (i = 0; i < p->n_input; ++i) {
                    dot += (int32_t)w[i] * ((int32_t)x[i] + p->in_offset);
                }
                s = tinyc_requantize(dot, p->mult1, p->shift1);
                s = (s < p->state_min) ? p->state_min : ((s > p->state_max) ? p->state_max : s);
                s = p->state_offset + s;        /* stored as the state type: wraps */
                if (s > p->state_max) {
                    s -= p->state_max - p->state_min + 1;
                } else if (s < p->state_min) {
                    s += p->state_max - p->state_min + 1;
                }
                acc += (int32_t)time_last[f] * (s - p->state_offset);
            }
            output[b * p->n_unit + u] =
                tinyc_clamp_s8(tinyc_requantize(acc, p->mult2, p->shift2), p->out_offset,
                               -128, 127);
        }
    }
}
