/*
 * tinyc_conv2d_fewch_s8.c - int8 convolution for layers with few input channels (a network's
 * first conv: 1-3 channels), where im2col per pixel and rows padded to four taps dominate the
 * GEMM kernel.
 *
 * Per output row, the input columns of up to `chunk` output pixels are widened once to int16
 * with the input offset added (padded taps 0) into the scratch as [column][kh][in_c]: the
 * window of a pixel is then one contiguous run of k = kw * kh * in_c values, and the window of
 * the next pixel starts stride.w columns later.  The filter is widened and reordered to the
 * same tap order at compile time (padded with zero taps to k4).  Each pass feeds two pixels x
 * four output channels (one loaded input word serves four channels, one weight word two
 * pixels) and requantizes the eight sums with tinyc_rq.  Same sums as tinyc_conv2d_s8 (exact
 * int32: backend_c/fast.py's accumulator bound), same requantization.
 *
 * One loop structure for both paths; the dot product of a pass comes from
 * tinyc_conv2d_fewch_dsp.h (SMLAD) or tinyc_conv2d_fewch_c.h (portable).
 */
#include "tinyc_fast.h"

#if defined(TINYC_DSP)
#include "tinyc_conv2d_fewch_dsp.h"
#else
#include "tinyc_conv2d_fewch_c.h"
#endif

/* The input columns x_start .. x_start + ncols - 1 of rows iy0 .. iy0 + kh - 1 (image of
 * h x w x c), plus offset, into s[column][kh][c]; outside the image 0. */
static void tinyc_fewch_fill(const tinyc_conv_fewch_params *p, const int8_t *image,
                             int32_t iy0, int32_t x_start, int32_t ncols, int16_t *s)
{
    const int32_t cin = p->input.c;
    const int32_t kh = p->kernel.h;
    const int32_t off = p->input_offset;
    int32_t r;
    int32_t i;
    int32_t c;
    for (r = 0; r < kh; ++r) {
        const int32_t iy = iy0 + r;
        int16_t *d = s + r * cin;
        if (iy < 0 || iy >= p->input.h) {
            for (i = 0; i < ncols; ++i) {
                for (c = 0; c < cin; ++c) {
                    d[i * kh * cin + c] = 0;
                }
            }
            continue;
        }
        for (i = 0; i < ncols; ++i) {
            const int32_t ix = x_start + i;
            const int8_t *src = image + (iy * p->input.w + ix) * cin;
            int16_t *dd = d + i * kh * cin;
            if (ix < 0 || ix >= p->input.w) {
                for (c = 0; c < cin; ++c) {
                    dd[c] = 0;
                }
                continue;
            }
            for (c = 0; c < cin; ++c) {
                dd[c] = (int16_t)(src[c] + off);
            }
        }
    }
}

void tinyc_conv2d_fewch_s8(const tinyc_conv_fewch_params *params, const tinyc_rq *rq,
                           const int8_t *input, const int16_t *filter, const int32_t *bias,
                           int16_t *scratch, int8_t *output)
{
    const tinyc_conv_fewch_params p = *params;
    const int32_t col = p.kernel.h * p.input.c;          /* int16 per scratch column */
    const int32_t k = p.kernel.w * col;
    const int32_t step = p.stride.w * col;               /* window of the next pixel */
    const int32_t nq = p.k4 >> 2;
    const int32_t oc = p.output.c;
    const int32_t image_size = p.input.h * p.input.w * p.input.c;
    int32_t b;
    int32_t oy;
    int32_t ox0;
    int32_t i;
    int32_t g;
    int32_t c;
    for (b = 0; b < p.output.n; ++b) {
        const int8_t *image = input + b * image_size;
        for (oy = 0; oy < p.output.h; ++oy) {
            const int32_t iy0 = oy * p.stride.h - p.padding.h;
            for (ox0 = 0; ox0 < p.output.w; ox0 += p.chunk) {
                const int32_t n = p.output.w - ox0 < p.chunk ? p.output.w - ox0 : p.chunk;
                const int32_t ncols = (n - 1) * p.stride.w + p.kernel.w;
                tinyc_fewch_fill(&p, image, iy0, ox0 * p.stride.w - p.padding.w, ncols,
                                 scratch);
                for (i = ncols * col; i < ncols * col + p.k4 - k; ++i) {
                    scratch[i] = 0;             /* the zero taps of the last window */
                }
                for (i = 0; i < n; i += 2) {
                    const int16_t *x0 = scratch + i * step;
                    const int16_t *x1 = i + 1 < n ? x0 + step : x0;
                    int8_t *o = output + ((b * p.output.h + oy) * p.output.w + ox0 + i) * oc;
                    const tinyc_rq *r = rq;
                    const int16_t *w = filter;
                    for (g = 0; g < oc; g += 4) {
                        int32_t acc[8];
                        for (c = 0; c < 4; ++c) {
                            acc[2 * c] = bias[g + c];
                            acc[2 * c + 1] = bias[g + c];
                        }
                        tinyc_fewch_dot(x0, x1, w, nq, acc);
                        for (c = 0; c < 4; ++c) {
                            const tinyc_rq q = tinyc_rq_next(&r);
                            o[c] = (int8_t)tinyc_rq_apply3(acc[2 * c], q.m, q.h, q.e,
                                                           p.output_offset);
                            if (i + 1 < n) {
                                o[oc + c] = (int8_t)tinyc_rq_apply3(acc[2 * c + 1], q.m, q.h,
                                                                    q.e, p.output_offset);
                            }
                        }
                        w += 16 * nq;
                        o += 4;
                    }
                }
            }
        }
    }
    tinyc_fast_activation(&p.activation, output,
                          p.output.n * p.output.h * p.output.w * p.output.c);
}
