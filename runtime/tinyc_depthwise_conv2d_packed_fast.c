/*
 * tinyc_depthwise_conv2d_packed_fast.c - depthwise conv2d with s4 / cb / mask weights on the
 * dense fast kernel: the whole filter decoded into arena scratch as the dense kernel's doubled
 * int16 lanes, with its two biases (tinyc_packed_fast.h).
 */
#include <stddef.h>

#include "tinyc_packed_fast.h"

void tinyc_depthwise_conv2d_packed_fast(const tinyc_dw_fast_params *params, const tinyc_rq *rq,
                                        const int8_t *input, const tinyc_pk_weights *weights,
                                        const int32_t *bias, const int16_t *bias16,
                                        int16_t *scratch, int8_t *output)
{
    static const uint8_t lane[4] = {0u, 2u, 1u, 3u};   /* element j of 4 sits at lane[j] */
    const int32_t ch = params->input.c;
    const int32_t taps = params->kernel.h * params->kernel.w;
    int16_t *filt = scratch;
    int32_t *bias_x2 = (int32_t *)(void *)(scratch + taps * ch);
    int32_t *bias_full = bias_x2 + ch;
    int8_t *row = (int8_t *)(void *)(bias_full + ch);
    tinyc_pk_cursor cur;
    int32_t t;
    int32_t c;
    cur.pos = 0u;
    cur.value = weights->values;
    for (c = 0; c < ch; ++c) {
        bias_x2[c] = rq[c].m == 0 ? 0 : 2 * tinyc_bias_at(bias, bias16, c);
        bias_full[c] = bias_x2[c];
    }
    for (t = 0; t < taps; ++t) {
        tinyc_pk_read(weights, &cur, row, ch);
        for (c = 0; c < ch; ++c) {
            /* constant channels (m == 0): their sums do not matter, zero weights */
            const int32_t w2 = rq[c].m == 0 ? 0 : 2 * (int32_t)row[c];
            filt[((c >> 2) * taps + t) * 4 + lane[c & 3]] = (int16_t)w2;
            bias_full[c] += w2 * params->input_offset;
        }
    }
    tinyc_depthwise_conv2d_fast_s8(params, rq, input, filt, bias_x2, bias_full, NULL, NULL,
                                   output);   /* the per-tap path: no 3x3 ring here */
}
