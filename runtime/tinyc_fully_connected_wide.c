/*
 * tinyc_fully_connected_wide.c - int8 fully connected with the weights stored as int16
 * ("wide" weight format, backend_c/formats.py: storage="speed"), twice the flash of int8.
 *
 * The values are the layer's int8 weights; stored widened, SMLAD takes them as they are (no
 * SXTB16).  The input row is widened once to int16 (scratch, without its offset: the input
 * offset is folded into the bias at compile time); then four output channels at a time share
 * each load of four inputs.  Per four k of four channels: 2 input words + 8 weight words in
 * two runs of single loads, 8 SMLAD: 18 instructions, 20 est. Cortex-M4 cycles, 16 MACs.
 *
 * Layout (backend_c/fast.py fc_wide): [out4 / 4][k8 / 4][4 channels][4 int16], the four k of
 * a group in the lane order of the widened input (TINYC_LANE), zero padded.
 */
#include "tinyc_fast.h"
#include "tinyc_fully_connected_rq.h"

/* Halfword position, within a group of four k, of the weight of k offset j (the DSP lanes,
 * on every path: the array is the same). */
#define TINYC_WIDE_POS(j) (((j) & 1) * 2 + ((j) >> 1))

#if defined(TINYC_DSP)
#include "tinyc_fully_connected_wide_dsp.h"
#else
#include "tinyc_fully_connected_wide_c.h"
#endif

/* Four channels over `groups` groups of four k, then requantized to o[0..3]: the
 * accumulators start at the biases b[0..3]. */
static TINYC_ALWAYS_INLINE void tinyc_fc_wide_block(const int16_t *w, const int16_t *xs,
                                                    int32_t groups, const int32_t *b,
                                                    const tinyc_rq **rq, int8_t *o)
{
    int32_t acc[4];
    tinyc_fc_wide_sums(w, xs, groups, b, acc);
    tinyc_fc_rq4(acc[0], acc[1], acc[2], acc[3], rq, o);
}

void tinyc_fully_connected_wide(const tinyc_fc_fast_params *params, const tinyc_rq *rq,
                                const int8_t *input, const int16_t *filter,
                                const int32_t *bias, int16_t *scratch, int8_t *output)
{
    const int32_t groups = params->k4 >> 2;     /* k4: the depth rounded up to 8 */
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
        for (; o != end; o += 4, w += 16 * groups, bi += 4) {
            tinyc_fc_wide_block(w, scratch, groups, bi, &r, o);
        }
        if (out_c != out4) {    /* the last out_c % 4 channels: the arrays are padded to 4 */
            int8_t last[4];
            int32_t i;
            tinyc_fc_wide_block(w, scratch, groups, bi, &r, last);
            for (i = 0; i < out_c - out4; ++i) {
                o[i] = last[i];
            }
        }
    }
    tinyc_fast_activation(&params->activation, output, params->batches * out_c);
}
