/*
 * tinyc_fully_connected_fast_s8.c - int8 fully connected, two kernels with int8 weights.
 *
 * Both widen the input row once to int16 (scratch), then four output channels at a time
 * share each 64-bit load of it; their weights were laid out at compile time so that one pass
 * reads them in order (backend_c/fast.py).
 *
 * tinyc_fully_connected_fast_s8: weights interleaved by 4 channels, the input offset added
 * while widening; per group of four k: 2 LDRD of weights, 4 x (2 SXTB16 + 2 SMLAD).
 *
 * tinyc_fully_connected_paired_fast_s8 ("pair-packed"): channels 2i and 2i+1 share int16 words
 * h = 256 * w[2i+1][k] + w[2i][k] (still one byte per weight).  One SMLAD of h with the
 * input gives A = 256 * S1 + S0, SXTB16 of h gives the low bytes w[2i][k], whose SMLAD gives
 * S0, and S1 = (A - S0) / 256 exactly when |S1| < 2^23 (checked at compile time; the sums
 * wrap modulo 2^32 on the way, their differences do not).  The input offset is folded into
 * the bias at compile time, so the input is widened as it is.  Per group of four k of four
 * channels: a run of six LDR + 4 x (SMLAD + SXTB16 + SMLAD): 18 instructions, 19 est. cycles.
 */
#include "tinyc_fast.h"
#include "tinyc_fully_connected_rq.h"

/* Halfword position, within a group of four k, of the pair-packed weights of k offset j: the
 * lane of the DSP widening ({x0, x2}, {x1, x3}), on every path (the array is the same). */
#define TINYC_PK_POS(j) (((j) & 1) * 2 + ((j) >> 1))

#if defined(TINYC_DSP)
#include "tinyc_fully_connected_fast_dsp.h"
#else
#include "tinyc_fully_connected_fast_c.h"
#endif

void tinyc_fully_connected_fast_s8(const tinyc_fc_fast_params *params, const tinyc_rq *rq,
                                   const int8_t *input, const int8_t *filter,
                                   const int32_t *bias, int16_t *scratch, int8_t *output)
{
    const tinyc_fc_fast_params p = *params;
    int32_t b;
    int32_t oc;
    int32_t i;
    for (b = 0; b < p.batches; ++b, input += p.depth, output += p.out_c) {
        const int8_t *w = filter;
        tinyc_fc_widen(input, p.depth, p.k4, p.input_offset, scratch);
        for (oc = 0; oc < p.out_c; oc += 4, w += 4 * p.k4) {
            int32_t acc[4];
            const int32_t n = p.out_c - oc < 4 ? p.out_c - oc : 4;
            acc[0] = bias[oc];
            acc[1] = bias[oc + 1];
            acc[2] = bias[oc + 2];
            acc[3] = bias[oc + 3];
            tinyc_fc_block(w, scratch, p.k4, acc);
            if (n == 4) {
                const tinyc_rq *r = rq + oc;
                tinyc_rq4_chans(acc[0], acc[1], acc[2], acc[3], &r, output + oc,
                                p.output_offset);
                continue;
            }
            for (i = 0; i < n; ++i) {
                output[oc + i] = (int8_t)tinyc_rq_apply(acc[i], rq + oc + i, p.output_offset);
            }
        }
    }
    tinyc_fast_activation(&p.activation, output - p.batches * p.out_c, p.batches * p.out_c);
}

/* -- pair-packed weights ------------------------------------------------------------------- */

/* Four channels (two pairs) over `groups` groups of four k, then requantized to o[0..3]:
 * the accumulators start at the biases b[0..3]. */
static TINYC_ALWAYS_INLINE void tinyc_fc_pk_block(const int16_t *w, const int16_t *xs,
                                                  int32_t groups, const int32_t *b,
                                                  const tinyc_rq **rq, int8_t *o, int32_t offset)
{
    int32_t acc[4];
    (void)offset;           /* folded into the requantization constants (tinyc_rq_x2) */
    tinyc_fc_pk_sums(w, xs, groups, b, acc);
    tinyc_fc_rq4(acc[0], acc[1], acc[2], acc[3], rq, o);
}

void tinyc_fully_connected_paired_fast_s8(const tinyc_fc_fast_params *params,
                                          const tinyc_rq *rq, const int8_t *input,
                                          const int16_t *filter, const int32_t *bias,
                                          int16_t *scratch, int8_t *output)
{
    const int32_t groups = params->k4 >> 2;
    const int32_t out_c = params->out_c;
    const int32_t out4 = out_c & ~3;
    int32_t b;
    for (b = 0; b < params->batches; ++b, input += params->depth) {
        const int16_t *w = filter;
        const int32_t *bi = bias;
        const tinyc_rq *r = rq;
        int8_t *o = output + b * out_c;
        int8_t *const end = o + out4;
        tinyc_fc_widen(input, params->depth, params->k4, 0, scratch);
        for (; o != end; o += 4, w += 8 * groups, bi += 4) {
            tinyc_fc_pk_block(w, scratch, groups, bi, &r, o, params->output_offset);
        }
        if (out_c != out4) {    /* the last out_c % 4 channels: the arrays are padded to 4 */
            int8_t last[4];
            int32_t i;
            tinyc_fc_pk_block(w, scratch, groups, bi, &r, last, params->output_offset);
            for (i = 0; i < out_c - out4; ++i) {
                o[i] = last[i];
            }
        }
    }
    tinyc_fast_activation(&params->activation, output, params->batches * out_c);
}
