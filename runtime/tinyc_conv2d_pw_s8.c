/*
 * tinyc_conv2d_pw_s8.c - int8 1x1 convolution (no padding, any stride) with the weights stored
 * pre-widened to int16 in the order the inner loop reads them (weight format "pw",
 * storage="speed"; backend_c/pw.py; the stream's layout: tinyc_conv2d_pw.h).
 *
 * Three pixels at a time: their input channels are widened to int16 with the input offset
 * added, once, into the scratch as words [k-pair][pixel] (lanes {c0, c2}, {c1, c3} of each
 * group of four).  Then for each output channel pair one pass over the k-pairs: per k-pair the
 * two weight words and the three pixels' words (five loads) feed six SMLAD; the sums start
 * from the pair's doubled bias (the weights are doubled too: the sums are 2 acc, as
 * tinyc_rq_x2 takes them) and are requantized and stored right after the pass with the
 * constants that follow the pair's weights.  Same int32 sums as tinyc_conv2d_s8 (exact), same
 * requantization as the fast kernels (tinyc_rq), hence the same bits.
 *
 * One loop structure for both paths; the widening and the passes of one block come from
 * tinyc_conv2d_pw_dsp.h (SXTAB16, SMLAD, SMMLAR on cores with the DSP extension) or
 * tinyc_conv2d_pw_c.h (portable), which share one interface.
 */
#include "tinyc_conv2d_pw.h"
#include "tinyc_fast.h"

#define TINYC_PW_PIX 3          /* pixels per block (the passes keep 2 x 3 sums) */

#if defined(TINYC_DSP)
#include "tinyc_conv2d_pw_dsp.h"
#else
#include "tinyc_conv2d_pw_c.h"
#endif

/* The input channels of output pixel q (pixels counted over the batch) of a strided conv. */
static const int8_t *tinyc_pw_pixel(const tinyc_conv_pw_params *p, const int8_t *input,
                                    int32_t q)
{
    const int32_t per = p->out_hw.h * p->out_hw.w;
    const int32_t b = q / per;
    const int32_t oy = (q - b * per) / p->out_hw.w;
    return input + ((b * p->in_hw.h + oy * p->stride.h) * p->in_hw.w
                    + (q - b * per - oy * p->out_hw.w) * p->stride.w) * p->in_c;
}

void tinyc_conv2d_pw_s8(const tinyc_conv_pw_params *params, const int32_t *stream,
                        const int8_t *input, int16_t *scratch, int8_t *output)
{
    const tinyc_conv_pw_params p = *params;
    const int32_t oc = p.out_c;
    const int32_t odd = oc & 1;
    const int32_t os = oc + odd;        /* the tail's pixel stride: both channels of a pair */
    const int32_t off = tinyc_widen_offset(p.input_offset);
    const int32_t strided = p.stride.h != 1 || p.stride.w != 1;
    int32_t *x = (int32_t *)(void *)scratch;                   /* [in_c / 2][3] words */
    int8_t *tail = (int8_t *)(void *)(scratch + TINYC_PW_PIX * p.in_c);
    int32_t pix;
    for (pix = 0; pix < p.npix; pix += TINYC_PW_PIX) {
        const int32_t n = p.npix - pix < TINYC_PW_PIX ? p.npix - pix : TINYC_PW_PIX;
        /* a last, partial block repeats its last pixel and goes through the tail, as does
         * every block of an odd channel count (the last pair's second channel is not one) */
        const int8_t *x0 = input + pix * p.in_c;
        const int8_t *x1 = x0 + (n > 1 ? p.in_c : 0);
        const int8_t *x2 = x0 + (n > 2 ? 2 * p.in_c : (n - 1) * p.in_c);
        int8_t *o = n == TINYC_PW_PIX && !odd ? output + pix * oc : tail;
        if (strided) {
            x0 = tinyc_pw_pixel(&p, input, pix);
            x1 = tinyc_pw_pixel(&p, input, pix + (n > 1 ? 1 : 0));
            x2 = tinyc_pw_pixel(&p, input, pix + (n > 2 ? 2 : n - 1));
        }
        tinyc_pw_widen(x0, x1, x2, p.in_c >> 2, off, x);
        tinyc_pw_block(stream, x, p.in_c >> 1, os >> 1, o, o == tail ? os : oc);
        if (o == tail) {
            int32_t i;
            int32_t c;
            for (i = 0; i < n; ++i) {
                for (c = 0; c < oc; ++c) {
                    output[(pix + i) * oc + c] = tail[i * os + c];
                }
            }
        }
    }
    tinyc_fast_activation(&p.activation, output, p.npix * oc);
}
