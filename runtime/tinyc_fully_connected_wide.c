/*
 * tinyc_fully_connected_wide.c - int8 fully connected with the weights stored as int16
 * ("wide" weight format, backend_c/formats.py: storage="speed"), twice the flash of int8.
 *
 * The values are the layer's int8 weights; stored widened, SMLAD takes them as they are (no
 * SXTB16).  The input row is widened once to int16 (scratch, without its offset: the input
 * offset is folded into the bias at compile time); then two output channels at a time share
 * each load of eight inputs.  Per eight k of two channels: LDM 4 input words, LDM 4 weight
 * words + 4 SMLAD per channel: 11 instructions for 16 MACs.
 *
 * Layout (backend_c/fast.py fc_wide): [out4 / 2][k8 / 8][2 channels][8 int16], the eight k of
 * a chunk in the lane order of the widened input (TINYC_LANE per group of four), zero padded.
 */
#include "tinyc_fast.h"

/* Halfword position, within a group of four k, of the weight of k offset j (the DSP lanes). */
#define TINYC_WIDE_POS(j) (((j) & 1) * 2 + ((j) >> 1))

#if defined(TINYC_DSP)
#include "tinyc_fully_connected_wide_dsp.h"
#else
#include "tinyc_fully_connected_wide_c.h"
#endif

/* Four channels (two pairs) over `chunks` chunks of eight k, then requantized to o[0..3]:
 * the accumulators start at the biases b[0..3]. */
static TINYC_ALWAYS_INLINE void tinyc_fc_wide_block(const int16_t *w, const int16_t *xs,
                                                    int32_t chunks, const int32_t *b,
                                                    const tinyc_rq **rq, int8_t *o,
                                                    int32_t offset)
{
    int32_t a0 = b[0];
    int32_t a1 = b[1];
    int32_t a2 = b[2];
    int32_t a3 = b[3];
    tinyc_fc_wide_pair(w, xs, chunks, &a0, &a1);
    tinyc_fc_wide_pair(w + 16 * chunks, xs, chunks, &a2, &a3);
    tinyc_rq4_chans(a0, a1, a2, a3, rq, o, offset);
}

void tinyc_fully_connected_wide(const tinyc_fc_fast_params *params, const tinyc_rq *rq,
                                const int8_t *input, const int16_t *filter,
                                const int32_t *bias, int16_t *scratch, int8_t *output)
{
    const int32_t chunks = params->k4 >> 3;     /* k4: the depth rounded up to 8 */
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
        for (; o != end; o += 4, w += 32 * chunks, bi += 4) {
            tinyc_fc_wide_block(w, scratch, chunks, bi, &r, o, params->output_offset);
        }
        if (out_c != out4) {    /* the last out_c % 4 channels: the arrays are padded to 4 */
            int8_t last[4];
            int32_t i;
            tinyc_fc_wide_block(w, scratch, chunks, bi, &r, last, params->output_offset);
            for (i = 0; i < out_c - out4; ++i) {
                o[i] = last[i];
            }
        }
    }
    tinyc_fast_activation(&params->activation, output, params->batches * out_c);
}
