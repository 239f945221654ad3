/*
 * tinyc_conv2d_packed_fast.c - conv2d with s4 / cb / mask weights on the dense fast kernel:
 * blocks of output channels decoded into arena scratch in the dense fast layout (channel
 * pairs interleaved per four k, rows padded to row4), each run over every pixel
 * (tinyc_conv2d_fast_s8_chans) before the next block is decoded (tinyc_packed_fast.h).
 */
#include "tinyc_packed_fast.h"
#include "tinyc_window.h"

/* the dense fast kernel's loops, over a block of channels below */
#include "tinyc_conv2d_fast_loops.h"

/* Output channels [c0, c0 + n) of every pixel (tinyc_conv2d_fast_s8's loop over one block of
 * channels, decoded by the packed kernel below): filter holds those n channels in the
 * layout above (pairs from c0, c0 even), rq and bias are the layer's (indexed from c0);
 * scratch: 12 * k4 bytes of im2col block + 6 * n of tail.  The activation clamp is left to the
 * caller (once, after the last block). */
static void tinyc_conv2d_fast_s8_chans(const tinyc_conv_fast_params *params,
                                       const tinyc_rq *rq, const int8_t *input,
                                       const int8_t *filter, const int32_t *bias,
                                       int16_t *scratch, int8_t *output, int32_t c0, int32_t n)
{
    tinyc_conv_fast_params p = *params;
    const int32_t oc = p.output.c;
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
    p.output.c = n;
    tinyc_zero_row_pads(&p, scratch);
    for (b = 0; b < p.output.n; ++b) {
        const int8_t *image = input + b * image_size;
        int8_t *out = output + b * npix * oc + c0;
        for (pix = 0; pix < npix; pix += TINYC_COLS) {
            const int32_t m = npix - pix < TINYC_COLS ? npix - pix : TINYC_COLS;
            for (col = 0; col < TINYC_COLS; ++col) {
                const int32_t q = pix + (col < m ? col : m - 1);
                if (pointwise) {
                    tinyc_col_copy16(scratch + col * 4, image + q * p.input.c, p.input.c >> 2,
                                     off);
                    continue;
                }
                tinyc_im2col(&p, image, scratch, col, q / p.output.w, q % p.output.w);
            }
            if (m == TINYC_COLS) {
                tinyc_conv_block(&p, rq + c0, filter, bias + c0, scratch, out + pix * oc, oc);
            } else {    /* a last, partial block through the scratch (its last pixel repeated) */
                int32_t i;
                int32_t c;
                tinyc_conv_block(&p, rq + c0, filter, bias + c0, scratch, tail, n);
                for (i = 0; i < m; ++i) {
                    for (c = 0; c < n; ++c) {
                        out[(pix + i) * oc + c] = tail[i * n + c];
                    }
                }
            }
        }
    }
}

/* ---- the packed kernel ------------------------------------------------------------------- */


void tinyc_conv2d_packed_fast(const tinyc_conv_fast_params *params, const tinyc_rq *rq,
                              const int8_t *input, const tinyc_pk_weights *weights,
                              const int32_t *bias, const int16_t *bias16, int32_t block,
                              int16_t *scratch, int8_t *output)
{
    const int32_t oc = params->output.c;
    const int32_t k4 = params->k4;
    const int32_t row4 = params->row4;
    const int32_t row_len = params->kernel.w * params->input.c;
    const int32_t rows = params->kernel.h;
    int8_t *filt = (int8_t *)(void *)scratch + 12 * k4 + tinyc_pk_align4(6 * block);
    int8_t *row = filt + ((block + 1) & ~1) * k4;
    int8_t *space = row + k4;
    const int32_t *b32 = bias != 0 ? bias : tinyc_bias32(space, bias, bias16, oc);
    tinyc_pk_cursor cur;
    int32_t c0;
    cur.pos = 0u;
    cur.value = weights->values;
    for (c0 = 0; c0 < oc; c0 += block) {
        const int32_t n = oc - c0 < block ? oc - c0 : block;
        int32_t c;
        int32_t g;
        int32_t ky;
        for (c = 0; c < n; ++c) {      /* channel c0 + c: its padded row, then into its pair */
            int8_t *dst = filt + (c >> 1) * 2 * k4 + (c & 1) * 4;
            for (ky = 0; ky < rows; ++ky) {
                tinyc_pk_read(weights, &cur, row + ky * row4, row_len);
                tinyc_pk_zero(row + ky * row4 + row_len, row4 - row_len);
            }
            tinyc_pk_zero(row + rows * row4, k4 - rows * row4);
            for (g = 0; g < k4; g += 4) {
                tinyc_pk_copy4(dst + 2 * g, row + g);
            }
        }
        if (n & 1) {                     /* the partner of an odd last channel: zeros */
            int8_t *dst = filt + (n >> 1) * 2 * k4 + 4;
            for (g = 0; g < k4; g += 4) {
                tinyc_pk_zero(dst + 2 * g, 4);
            }
        }
        tinyc_conv2d_fast_s8_chans(params, rq, input, filt, b32, scratch, output, c0, n);
    }
    tinyc_fast_activation(&params->activation, output,
                          params->output.n * params->output.h * params->output.w * oc);
}
