/*
 * tinyc_conv2d_fast_s8.c - int8 convolution as im2col + GEMM.
 *
 * Six output pixels at a time: their input windows are widened to int16 with the input offset
 * added (padded taps are 0) into the scratch block, interleaved per group of four k:
 * block[(k / 4) * 24 + pixel * 4 + lane(k % 4)].  Then for each pair of output channels two
 * passes over their filter rows (interleaved per group of four k at compile time), each
 * feeding 2 channels x 3 pixels (one input load serves both channels), whose six sums are
 * requantized and stored right after the pass.  Same sums as
 * tinyc_conv2d_s8 (exact int32), same requantization (see tinyc_rq).
 *
 * One loop structure for both paths; the inner loops (column runs, the GEMM of one channel,
 * the strided stores) come from tinyc_conv2d_fast_dsp.h (SXTAB16 / SXTB16 / SMLAD, on cores
 * with the DSP extension) or tinyc_conv2d_fast_c.h (portable), which share one interface.
 */
#include "tinyc_fast.h"
#include "tinyc_window.h"

#include "tinyc_conv2d_fast_loops.h"

void tinyc_conv2d_fast_s8(const tinyc_conv_fast_params *params, const tinyc_rq *rq,
                          const int8_t *input, const int8_t *filter, const int32_t *bias,
                          int16_t *scratch, int8_t *output)
{
    const tinyc_conv_fast_params p = *params;
    const int32_t npix = p.output.h * p.output.w;
    const int32_t image_size = p.input.h * p.input.w * p.input.c;
    int8_t *tail = (int8_t *)(void *)(scratch + TINYC_COLS * p.k4);
    const int32_t pointwise = p.kernel.h == 1 && p.kernel.w == 1 && p.stride.h == 1
                              && p.stride.w == 1 && p.padding.h == 0 && p.padding.w == 0
                              && (p.input.c & 3) == 0 && p.input.h == p.output.h
                              && p.input.w == p.output.w;
    const int32_t off = tinyc_widen_offset(p.input_offset);
    int32_t b;
    int32_t pix;
    int32_t col;
    tinyc_zero_row_pads(&p, scratch);
    for (b = 0; b < p.output.n; ++b) {
        const int8_t *image = input + b * image_size;
        int8_t *out = output + b * npix * p.output.c;
        for (pix = 0; pix < npix; pix += TINYC_COLS) {
            const int32_t n = npix - pix < TINYC_COLS ? npix - pix : TINYC_COLS;
            /* a last, partial block repeats its last pixel and goes through the scratch */
            int8_t *o = n == TINYC_COLS ? out + pix * p.output.c : tail;
            for (col = 0; col < TINYC_COLS; ++col) {
                const int32_t q = pix + (col < n ? col : n - 1);
                if (pointwise) {    /* 1x1, stride 1, no padding: the pixel's channels */
                    tinyc_col_copy16(scratch + col * 4, image + q * p.input.c, p.input.c >> 2,
                                     off);
                    continue;
                }
                tinyc_im2col(&p, image, scratch, col, q / p.output.w, q % p.output.w);
            }
            if (n <= 3) {       /* the pairs' second pass would have no pixels */
                tinyc_conv_block3(&p, rq, filter, bias, scratch, o, p.output.c);
            } else {
                tinyc_conv_block(&p, rq, filter, bias, scratch, o, p.output.c);
            }
            if (n < TINYC_COLS) {
                int32_t i;
                for (i = 0; i < n * p.output.c; ++i) {
                    out[pix * p.output.c + i] = tail[i];
                }
            }
        }
    }
    tinyc_fast_activation(&p.activation, output, p.output.n * npix * p.output.c);
}
