/*
 * tinyc_conv2d_fast_loops.h - the loop helpers of the int8 fast convolution (im2col of six
 * pixels, channel-pair passes, requantized stores), included by tinyc_conv2d_fast_s8.c and by
 * tinyc_conv2d_packed_fast.c (the same loops over a decoded block of channels). Static
 * functions: each kernel's translation unit gets its own copy, as if written there, so the
 * compiler inlines them the same way in both.
 */
#ifndef TINYC_CONV2D_FAST_LOOPS_H
#define TINYC_CONV2D_FAST_LOOPS_H

#define TINYC_COLS 6
#define TINYC_GROUP (4 * TINYC_COLS)    /* int16 per group of four k */

/* The six accumulators of one output channel. */
typedef struct {
    int32_t a0;
    int32_t a1;
    int32_t a2;
    int32_t a3;
    int32_t a4;
    int32_t a5;
} tinyc_acc6;

/* Two channels (a, b) x three pixels: the accumulators of one GEMM pass. */
typedef struct {
    int32_t a0;
    int32_t a1;
    int32_t a2;
    int32_t b0;
    int32_t b1;
    int32_t b2;
} tinyc_acc2x3;

#if defined(TINYC_DSP)
#include "tinyc_conv2d_fast_dsp.h"
#else
#include "tinyc_conv2d_fast_c.h"
#endif

/* n zeros into column col from k on: single values up to a multiple of four k, then groups of
 * four, then single values. */
static void tinyc_run_zero(int16_t *blk, int32_t col, int32_t k, int32_t n)
{
    const int32_t end = k + n;
    for (; (k & 3) != 0 && k < end; ++k) {
        blk[(k >> 2) * TINYC_GROUP + col * 4 + TINYC_LANE(k & 3)] = 0;
    }
    if (end - k >= 4) {
        tinyc_col_zero4(blk + (k >> 2) * TINYC_GROUP + col * 4, (end - k) >> 2);
        k += (end - k) & ~3;
    }
    for (; k < end; ++k) {
        blk[(k >> 2) * TINYC_GROUP + col * 4 + TINYC_LANE(k & 3)] = 0;
    }
}

/* n input values (+ offset) into column col from k on, the same way (any source alignment). */
static void tinyc_run_copy(int16_t *blk, int32_t col, int32_t k, const int8_t *src, int32_t n,
                           int32_t offset)
{
    const int32_t end = k + n;
    for (; (k & 3) != 0 && k < end; ++k) {
        blk[(k >> 2) * TINYC_GROUP + col * 4 + TINYC_LANE(k & 3)] = (int16_t)(*src++ + offset);
    }
    if (end - k >= 4) {
        const int32_t n4 = (end - k) >> 2;
        tinyc_col_copy4(blk + (k >> 2) * TINYC_GROUP + col * 4, src, n4,
                        tinyc_widen_offset(offset));
        k += 4 * n4;
        src += 4 * n4;
    }
    for (; k < end; ++k) {
        blk[(k >> 2) * TINYC_GROUP + col * 4 + TINYC_LANE(k & 3)] = (int16_t)(*src++ + offset);
    }
}

/* The window of output pixel (oy, ox) into column col.  Inside the image (dilation 1): one
 * vector copy per filter row.  Otherwise, per filter row, the padded taps, then the valid ones
 * (one run when the columns are contiguous), then the padded ones again. */
static void tinyc_im2col(const tinyc_conv_fast_params *p, const int8_t *image, int16_t *blk,
                         int32_t col, int32_t oy, int32_t ox)
{
    const int8_t *image_end = image + p->input.h * p->input.w * p->input.c;
    const int32_t c = p->input.c;
    const int32_t row_len = p->kernel.w * c;     /* taps of a row; row4 apart in k */
    const int32_t y0 = oy * p->stride.h - p->padding.h;
    const int32_t off = tinyc_widen_offset(p->input_offset);
    int32_t ky;
    int32_t kx;
    int32_t k = 0;
    tinyc_window win;
    {
        const int32_t x0 = ox * p->stride.w - p->padding.w;
        const int32_t n4 = (row_len + 3) >> 2;
        if (p->dilation.h == 1 && p->dilation.w == 1 && y0 >= 0 && x0 >= 0
            && y0 + p->kernel.h <= p->input.h && x0 + p->kernel.w <= p->input.w
            && 4 * n4 <= p->row4) {
            const int32_t in_row = p->input.w * c;
            const int8_t *row = image + (y0 * p->input.w + x0) * c;
            int16_t *dst = blk + col * 4;
            for (ky = 0; ky < p->kernel.h; ++ky, row += in_row) {
                if (4 * n4 != row_len && row + 4 * n4 > image_end) {
                    tinyc_run_copy(blk, col, ky * p->row4, row, row_len, p->input_offset);
                    continue;
                }
                if (n4 >= 4) {
                    tinyc_col_copy16(dst + (ky * p->row4 >> 2) * TINYC_GROUP, row, n4, off);
                } else {
                    tinyc_col_copy4(dst + (ky * p->row4 >> 2) * TINYC_GROUP, row, n4, off);
                }
            }
            return;
        }
    }
    tinyc_window_cols(&win, ox, p->stride.w, p->padding.w, p->dilation.w, p->kernel.w,
                      p->input.w);
    for (ky = 0; ky < p->kernel.h; ++ky, k += p->row4) {
        const int32_t y = y0 + ky * p->dilation.h;
        const int8_t *row;
        if (y < 0 || y >= p->input.h || win.kx0 >= win.kx1) {
            tinyc_run_zero(blk, col, k, row_len);
            continue;
        }
        row = image + (y * p->input.w + win.x0 + win.kx0 * p->dilation.w) * c;
        if (win.kx0 > 0) {
            tinyc_run_zero(blk, col, k, win.kx0 * c);
        }
        if (p->dilation.w == 1) {
            const int32_t k0 = k + win.kx0 * c;
            const int32_t n = (win.kx1 - win.kx0) * c;
            /* The common cases, straight to the vector copy: a whole group-aligned run, or a
             * whole filter row rounded up into its zero-weight padding (row4 > row_len) when
             * the bytes read past it are still inside the image. */
            const int32_t n4 = (n + 3) & ~3;
            if ((k0 & 3) == 0 && (n4 == n || (win.kx0 == 0 && n4 <= p->row4
                                              && row + n4 <= image_end))) {
                if (n4 >= 16) {
                    tinyc_col_copy16(blk + (k0 >> 2) * TINYC_GROUP + col * 4, row, n4 >> 2, off);
                } else {
                    tinyc_col_copy4(blk + (k0 >> 2) * TINYC_GROUP + col * 4, row, n4 >> 2, off);
                }
            } else {
                tinyc_run_copy(blk, col, k0, row, n, p->input_offset);
            }
        } else {
            for (kx = win.kx0; kx < win.kx1; ++kx, row += p->dilation.w * c) {
                tinyc_run_copy(blk, col, k + kx * c, row, c, p->input_offset);
            }
        }
        if (win.kx1 < p->kernel.w) {
            tinyc_run_zero(blk, col, k + win.kx1 * c, (p->kernel.w - win.kx1) * c);
        }
    }
}

/* Six accumulators of one channel (*rq, then rq advances) to o + i * oc; o advances by 1. */
static inline void tinyc_rq6_cols(const tinyc_acc6 *a, const tinyc_rq **rq, int8_t **o,
                                  int32_t oc, int32_t offset)
{
    const tinyc_rq r = tinyc_rq_next(rq);
    tinyc_st6_cols(tinyc_rq_apply3(a->a0, r.m, r.h, r.e, offset),
                   tinyc_rq_apply3(a->a1, r.m, r.h, r.e, offset),
                   tinyc_rq_apply3(a->a2, r.m, r.h, r.e, offset),
                   tinyc_rq_apply3(a->a3, r.m, r.h, r.e, offset),
                   tinyc_rq_apply3(a->a4, r.m, r.h, r.e, offset),
                   tinyc_rq_apply3(a->a5, r.m, r.h, r.e, offset), o, oc);
}

/* The three pixels' sums of channels a and b (rq[0], rq[1]) to o + i * oc and, when has_b,
 * o + 1 + i * oc. */
static inline void tinyc_rq2x3_cols(const tinyc_acc2x3 *h, const tinyc_rq *rq, int8_t *o,
                                    int32_t oc, int32_t has_b, int32_t offset)
{
    const tinyc_rq *r = rq;
    tinyc_rq c = tinyc_rq_next(&r);
    o[0] = (int8_t)tinyc_rq_apply3(h->a0, c.m, c.h, c.e, offset);
    o[oc] = (int8_t)tinyc_rq_apply3(h->a1, c.m, c.h, c.e, offset);
    o[2 * oc] = (int8_t)tinyc_rq_apply3(h->a2, c.m, c.h, c.e, offset);
    if (has_b) {
        c = tinyc_rq_next(&r);
        o[1] = (int8_t)tinyc_rq_apply3(h->b0, c.m, c.h, c.e, offset);
        o[1 + oc] = (int8_t)tinyc_rq_apply3(h->b1, c.m, c.h, c.e, offset);
        o[1 + 2 * oc] = (int8_t)tinyc_rq_apply3(h->b2, c.m, c.h, c.e, offset);
    }
}

/* Channels c and c + 1 (bias ba, bb) over the three pixels of x: w at the pair's weights. */
static TINYC_ALWAYS_INLINE void tinyc_pass2x3(tinyc_acc2x3 *h, int32_t ba, int32_t bb,
                                              const int8_t *w, const int16_t *x, int32_t k4)
{
    h->a0 = ba;
    h->a1 = ba;
    h->a2 = ba;
    h->b0 = bb;
    h->b1 = bb;
    h->b2 = bb;
    tinyc_gemm2x3(h, w, x, k4);
}

/* Below this k4 the per-pass costs of the pairs outweigh their cheaper MACs (vww's 1x1
 * convs with 8 and 16 input channels). */
#define TINYC_PAIR_K4 32

/* All output channels of the block's six pixels: pixel i's outputs at o + i * oc_stride.
 * Channels in pairs (an odd last channel's partner has zero weights and is not stored); rows
 * shorter than TINYC_PAIR_K4 one channel at a time over all six pixels.  (Unused in
 * tinyc_conv2d_k8_fast_s8.c, which has its own.) */
static __attribute__((unused)) void tinyc_conv_block(const tinyc_conv_fast_params *p,
                                                     const tinyc_rq *rq, const int8_t *filter,
                                                     const int32_t *bias, const int16_t *blk,
                                                     int8_t *o, int32_t oc_stride)
{
    const int32_t oc = p->output.c;
    const int32_t k4 = p->k4;
    const int8_t *w = filter;
    int32_t c;
    if (k4 < TINYC_PAIR_K4) {       /* short rows: one channel x six pixels per pass */
        for (c = 0; c < oc; c += 2, w += 2 * k4) {     /* a channel pair per step */
            int32_t b = bias[c];
            tinyc_acc6 a;
            a.a0 = b;
            a.a1 = b;
            a.a2 = b;
            a.a3 = b;
            a.a4 = b;
            a.a5 = b;
            tinyc_gemm6(&a, w, blk, k4);
            tinyc_rq6_cols(&a, &rq, &o, oc_stride, p->output_offset);
            if (c + 1 == oc) {
                break;
            }
            b = bias[c + 1];
            a.a0 = b;
            a.a1 = b;
            a.a2 = b;
            a.a3 = b;
            a.a4 = b;
            a.a5 = b;
            tinyc_gemm6(&a, w + 4, blk, k4);
            tinyc_rq6_cols(&a, &rq, &o, oc_stride, p->output_offset);
        }
        return;
    }
    for (c = 0; c < oc; c += 2, w += 2 * k4) {
        const int32_t ba = bias[c];
        const int32_t bb = c + 1 < oc ? bias[c + 1] : 0;
        tinyc_acc2x3 h;
        /* pixels 0..2, then 3..5: each pass's six sums are requantized and stored at once
         * (no accumulators kept over the other pass) */
        tinyc_pass2x3(&h, ba, bb, w, blk, k4);
        tinyc_rq2x3_cols(&h, rq + c, o + c, oc_stride, c + 1 < oc, p->output_offset);
        tinyc_pass2x3(&h, ba, bb, w, blk + 12, k4);
        tinyc_rq2x3_cols(&h, rq + c, o + c + 3 * oc_stride, oc_stride, c + 1 < oc,
                         p->output_offset);
    }
}

/* tinyc_conv_block for a last block of at most three pixels (0..2): the channel pairs' first
 * pass only (pixels 3..5 repeat pixel n - 1 and are never copied out). */
static __attribute__((noinline, unused)) void tinyc_conv_block3(const tinyc_conv_fast_params *p,
                                                                const tinyc_rq *rq,
                                                                const int8_t *filter,
                                                                const int32_t *bias,
                                                                const int16_t *blk, int8_t *o,
                                                                int32_t oc_stride)
{
    const int32_t oc = p->output.c;
    const int32_t k4 = p->k4;
    const int8_t *w = filter;
    int32_t c;
    for (c = 0; c < oc; c += 2, w += 2 * k4) {
        tinyc_acc2x3 h;
        tinyc_pass2x3(&h, bias[c], c + 1 < oc ? bias[c + 1] : 0, w, blk, k4);
        tinyc_rq2x3_cols(&h, rq + c, o + c, oc_stride, c + 1 < oc, p->output_offset);
    }
}

/* The k between a filter row's taps and the next row (row4 > kw * in_c) and past the last row
 * hold zero weights; im2col never writes them, so they are zeroed once per call. */
static void tinyc_zero_row_pads(const tinyc_conv_fast_params *p, int16_t *blk)
{
    const int32_t used = p->kernel.w * p->input.c;
    int32_t ky;
    int32_t col;
    for (col = 0; col < TINYC_COLS; ++col) {
        for (ky = 0; ky < p->kernel.h; ++ky) {
            tinyc_run_zero(blk, col, ky * p->row4 + used, p->row4 - used);
        }
        tinyc_run_zero(blk, col, p->kernel.h * p->row4, p->k4 - p->kernel.h * p->row4);
    }
}

#endif /* TINYC_CONV2D_FAST_LOOPS_H */
