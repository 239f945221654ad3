/*
 * tinyc_conv2d_k8_fast_s8.c - tinyc_conv2d_fast_s8 for rows of eight k (k4 == 8: a 1x1 conv
 * with 5..8 input channels, e.g. vww's 8 -> 16), same arguments, scratch and results.
 *
 * The same six-pixel im2col blocks; then, instead of tinyc_conv_block's passes, one channel at
 * a time over the six pixels with its four weight words ({w0, w2}, {w1, w3} of both groups),
 * bias and requantization constants held in registers (tinyc_k8_chan: per pixel two LDRD,
 * four SMLAD, the requantization and a STRB).  A kernel of its own so that the code of
 * tinyc_conv2d_fast_s8 (every other layer) stays as it was.
 */
#include "tinyc_fast.h"
#include "tinyc_window.h"

#include "tinyc_conv2d_fast_loops.h"

/* All output channels of the block's six pixels: pixel i's outputs at o + i * oc_stride. */
static void tinyc_conv_block_k8(int32_t oc, const tinyc_rq *rq, const int8_t *filter,
                                const int32_t *bias, const int16_t *blk, int8_t *o,
                                int32_t oc_stride)
{
    const int8_t *w = filter;
    int32_t c;
    for (c = 0; c < oc; c += 2, w += 16) {      /* a channel pair per step: a at w, b at w + 4 */
        tinyc_k8_chan(w, bias[c], &rq, blk, o + c, oc_stride);
        if (c + 1 < oc) {
            tinyc_k8_chan(w + 4, bias[c + 1], &rq, blk, o + c + 1, oc_stride);
        }
    }
}

void tinyc_conv2d_k8_fast_s8(const tinyc_conv_fast_params *params, const tinyc_rq *rq,
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
                    tinyc_col_copy4(scratch + col * 4, image + q * p.input.c, 2, off);
                    continue;
                }
                tinyc_im2col(&p, image, scratch, col, q / p.output.w, q % p.output.w);
            }
            tinyc_conv_block_k8(p.output.c, rq, filter, bias, scratch, o, p.output.c);
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
