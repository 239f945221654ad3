/*
 * tinyc_conv2d_fewch_s8.c - int8 convolution for layers with few input channels (a network's
 * first conv: 1-3 channels), where im2col per pixel and rows padded to four taps dominate the
 * GEMM kernel.
 *
 * Per output row, the input columns of up to `chunk` output pixels are widened once to int16
 * (padded taps: -input_offset, the zero point; the input offset times the filter's sum is in
 * the bias, backend_c/fewch.py) into the scratch as [column][kh][in_c]: the
 * window of a pixel is then one contiguous run of k = kw * kh * in_c values, and the window of
 * the next pixel starts stride.w columns later.  The filter is widened and reordered to the
 * same tap order at compile time (padded with zero taps to k4).  Each pass feeds two pixels x
 * four output channels (one loaded input word serves four channels, one weight word two
 * pixels) and requantizes the eight sums with tinyc_rq; on DSP cores a 3x3x3 filter (k4 = 28,
 * stride 1 or 2: tinyc_fewch_mode) takes unrolled passes of three pixels x two channels
 * instead (tinyc_fewch_triples; the two-pixel passes only where fewer than three pixels are
 * left); a 10x4 filter on one channel with stride 2 (k4 = 40, kws) takes passes of five
 * pixels x one channel (tinyc_fewch_fives, on every core).  A model's copy of this file compiles only the unrolled
 * passes its layers run (TINYC_FEWCH_*, defined at its top by backend_c/fewch.py).  Same sums
 * as tinyc_conv2d_s8 (exact
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

/* Columns [lo, hi) of one input row (src: its column lo) widened into d (column lo), the
 * columns `col` int16 apart; n = in_c (1..3, a constant after inlining).  Two columns a step:
 * their 2 n bytes are loaded first (TINYC_FEWCH_HOLD keeps the loads together: on the M4 they
 * pipeline, one cycle each after the first), then widened and stored. */
static TINYC_ALWAYS_INLINE void tinyc_fewch_row(const int8_t *src, int16_t *d, int32_t count,
                                                int32_t col, int32_t n)
{
    int32_t i;
    for (i = 0; i + 1 < count; i += 2) {
        int32_t s0 = src[0];
        int32_t s1 = n > 1 ? src[1] : 0;
        int32_t s2 = n > 2 ? src[2] : 0;
        int32_t t0 = src[n];
        int32_t t1 = n > 1 ? src[n + 1] : 0;
        int32_t t2 = n > 2 ? src[n + 2] : 0;
        TINYC_FEWCH_HOLD(s0, s1, s2, t0, t1, t2);
        d[0] = (int16_t)s0;
        d[col] = (int16_t)t0;
        if (n > 1) {
            d[1] = (int16_t)s1;
            d[col + 1] = (int16_t)t1;
        }
        if (n > 2) {
            d[2] = (int16_t)s2;
            d[col + 2] = (int16_t)t2;
        }
        src += 2 * n;
        d += 2 * col;
    }
    if (i < count) {
        d[0] = (int16_t)src[0];
        if (n > 1) {
            d[1] = (int16_t)src[1];
        }
        if (n > 2) {
            d[2] = (int16_t)src[2];
        }
    }
}

/* count columns of pad (n = in_c int16 each, `col` int16 apart) from d. */
static void tinyc_fewch_zero(int16_t *d, int32_t count, int32_t col, int32_t n, int16_t pad)
{
    int32_t i;
    int32_t c;
    for (i = 0; i < count; ++i) {
        for (c = 0; c < n; ++c) {
            d[c] = pad;
        }
        d += col;
    }
}

/* The input columns x_start .. x_start + ncols - 1 of rows iy0 .. iy0 + kh - 1 (image of
 * h x w x c) widened into s[column][kh][c]; outside the image the zero point (-offset). */
static void tinyc_fewch_fill(const tinyc_conv_fewch_params *p, const int8_t *image,
                             int32_t iy0, int32_t x_start, int32_t ncols, int16_t *s)
{
    const int32_t cin = p->input.c;
    const int32_t kh = p->kernel.h;
    const int32_t col = kh * cin;
    const int16_t pad = (int16_t)-p->input_offset;
    int32_t lo = x_start < 0 ? -x_start : 0;                    /* first column inside */
    int32_t hi = p->input.w - x_start < ncols ? p->input.w - x_start : ncols;
    int32_t r;
    if (hi < lo) {
        hi = lo;
    }
    if (lo > ncols) {
        lo = hi = ncols;
    }
    for (r = 0; r < kh; ++r) {
        const int32_t iy = iy0 + r;
        int16_t *d = s + r * cin;
        const int8_t *src = image + (iy * p->input.w + x_start + lo) * cin;
        if (iy < 0 || iy >= p->input.h) {
            tinyc_fewch_zero(d, ncols, col, cin, pad);
            continue;
        }
        tinyc_fewch_zero(d, lo, col, cin, pad);
        tinyc_fewch_zero(d + hi * col, ncols - hi, col, cin, pad);
        if (cin == 1) {
            tinyc_fewch_row(src, d + lo * col, hi - lo, col, 1);
        } else if (cin == 2) {
            tinyc_fewch_row(src, d + lo * col, hi - lo, col, 2);
        } else {
            tinyc_fewch_row(src, d + lo * col, hi - lo, col, 3);
        }
    }
}

/* The eight sums of a pass (acc[2 c + pixel], doubled: the filter and bias are) requantized
 * to o[c] and o[oc + c]. */
static TINYC_ALWAYS_INLINE void tinyc_fewch_out2(const int32_t acc[8], const tinyc_rq *r,
                                                 int8_t *o, int32_t oc, int32_t offset)
{
    tinyc_rq q = tinyc_rq_next(&r);
    (void)offset;               /* folded into h (tinyc_rq_x2) */
    o[0] = (int8_t)tinyc_rq_x2(acc[0], q.m, q.h, q.e);
    o[oc] = (int8_t)tinyc_rq_x2(acc[1], q.m, q.h, q.e);
    q = tinyc_rq_next(&r);
    o[1] = (int8_t)tinyc_rq_x2(acc[2], q.m, q.h, q.e);
    o[oc + 1] = (int8_t)tinyc_rq_x2(acc[3], q.m, q.h, q.e);
    q = tinyc_rq_next(&r);
    o[2] = (int8_t)tinyc_rq_x2(acc[4], q.m, q.h, q.e);
    o[oc + 2] = (int8_t)tinyc_rq_x2(acc[5], q.m, q.h, q.e);
    q = tinyc_rq_next(&r);
    o[3] = (int8_t)tinyc_rq_x2(acc[6], q.m, q.h, q.e);
    o[oc + 3] = (int8_t)tinyc_rq_x2(acc[7], q.m, q.h, q.e);
}

/* The two-pixel passes of the first n & ~1 pixels of a chunk (scratch: their widened
 * columns), o: their outputs; returns o past them. */
static TINYC_ALWAYS_INLINE int8_t *tinyc_fewch_pairs(const int16_t *scratch, int32_t n,
                                                     int32_t step, const int16_t *filter,
                                                     const int32_t *bias, const tinyc_rq *rq,
                                                     int32_t nq, int32_t oc, int32_t offset,
                                                     int8_t *o)
{
    int32_t i;
    int32_t g;
    for (i = 0; i + 1 < n; i += 2) {
        const int16_t *x0 = scratch + i * step;
        const int16_t *w = filter;
        for (g = 0; g < oc; g += 4) {
            const int32_t b0 = bias[g];
            const int32_t b1 = bias[g + 1];
            const int32_t b2 = bias[g + 2];
            const int32_t b3 = bias[g + 3];
            int32_t acc[8];
            acc[0] = b0; acc[1] = b0; acc[2] = b1; acc[3] = b1;
            acc[4] = b2; acc[5] = b2; acc[6] = b3; acc[7] = b3;
            tinyc_fewch_dot(x0, x0 + step, w, nq, acc);
            tinyc_fewch_out2(acc, rq + g, o + g, oc, offset);
            w += 16 * nq;
        }
        o += 2 * oc;
    }
    return o;
}

#if defined(TINYC_FEWCH_K28_S9) || defined(TINYC_FEWCH_K28_S18)
/* The 3-pixel x 2-channel passes of an unrolled mode (1, 2) over the first n / 3 * 3 pixels
 * of a chunk (scratch: their widened columns, o: their outputs); returns the pixels done.
 * (A last pass over pixels n - 3 .. n - 1 where two are left, recomputing one, measured
 * slower than the two-pixel pass: more spills in this loop.) */
static TINYC_ALWAYS_INLINE int32_t tinyc_fewch_triples(const int16_t *scratch, int32_t n,
                                                       int32_t step, const int16_t *filter,
                                                       const int32_t *bias,
                                                       const tinyc_rq *rq, int32_t nq,
                                                       int32_t oc, int8_t *o, int32_t mode)
{
    int32_t i;
    int32_t g;
    for (i = 0; i + 2 < n; i += 3) {
        const int16_t *x0 = scratch + i * step;
        int8_t *op = o + i * oc;
        const int16_t *w = filter;
        const tinyc_rq *r = rq;
        for (g = 0; g < oc; g += 2) {
            tinyc_rq q;
            int32_t acc[6];
            acc[0] = bias[g]; acc[1] = acc[0]; acc[2] = acc[0];
            acc[3] = bias[g + 1]; acc[4] = acc[3]; acc[5] = acc[3];
            tinyc_fewch_dot3(x0, step, w + (g & 2) * 4, nq, acc, mode);
            q = tinyc_rq_next(&r);
            op[g] = (int8_t)tinyc_rq_x2(acc[0], q.m, q.h, q.e);
            op[oc + g] = (int8_t)tinyc_rq_x2(acc[1], q.m, q.h, q.e);
            op[2 * oc + g] = (int8_t)tinyc_rq_x2(acc[2], q.m, q.h, q.e);
            q = tinyc_rq_next(&r);
            op[g + 1] = (int8_t)tinyc_rq_x2(acc[3], q.m, q.h, q.e);
            op[oc + g + 1] = (int8_t)tinyc_rq_x2(acc[4], q.m, q.h, q.e);
            op[2 * oc + g + 1] = (int8_t)tinyc_rq_x2(acc[5], q.m, q.h, q.e);
            if (g & 2) {
                w += 16 * nq;
            }
        }
    }
    return i;
}
#endif

#if defined(TINYC_FEWCH_K40_S20)
/* The 5-pixel x 1-channel passes of mode 3 (k4 40, windows 20 int16 apart) over the first
 * n / 5 * 5 pixels of a chunk (scratch: their widened columns, o: their outputs); returns the
 * pixels done.  One channel's five sums share its bias and requantization constants. */
static TINYC_ALWAYS_INLINE int32_t tinyc_fewch_fives(const int16_t *scratch, int32_t n,
                                                     int32_t step, const int16_t *filter,
                                                     const int32_t *bias, const tinyc_rq *rq,
                                                     int32_t nq, int32_t oc, int8_t *o)
{
    int32_t i;
    int32_t g;
    for (i = 0; i + 4 < n; i += 5) {
        const int16_t *x0 = scratch + i * step;
        int8_t *op = o + i * oc;
        const int16_t *w = filter;
        const tinyc_rq *r = rq;
        for (g = 0; g < oc; ++g) {
            tinyc_rq q;
            int32_t acc[5];
            tinyc_fewch_dot5(x0, step, w + (g & 3) * 4, nq, bias[g], acc);
            q = tinyc_rq_next(&r);
            tinyc_fewch_store5(op + g, oc, tinyc_rq_x2(acc[0], q.m, q.h, q.e),
                               tinyc_rq_x2(acc[1], q.m, q.h, q.e),
                               tinyc_rq_x2(acc[2], q.m, q.h, q.e),
                               tinyc_rq_x2(acc[3], q.m, q.h, q.e),
                               tinyc_rq_x2(acc[4], q.m, q.h, q.e));
            if ((g & 3) == 3) {
                w += 16 * nq;
            }
        }
    }
    return i;
}
#endif

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
    const int32_t mode = tinyc_fewch_mode(nq, step);
    int32_t b;
    int32_t oy;
    int32_t ox0;
    int32_t i;
    int32_t g;
    for (b = 0; b < p.output.n; ++b) {
        const int8_t *image = input + b * image_size;
        for (oy = 0; oy < p.output.h; ++oy) {
            const int32_t iy0 = oy * p.stride.h - p.padding.h;
            for (ox0 = 0; ox0 < p.output.w; ox0 += p.chunk) {
                const int32_t n = p.output.w - ox0 < p.chunk ? p.output.w - ox0 : p.chunk;
                const int32_t ncols = (n - 1) * p.stride.w + p.kernel.w;
                int8_t *o = output + ((b * p.output.h + oy) * p.output.w + ox0) * oc;
                tinyc_fewch_fill(&p, image, iy0, ox0 * p.stride.w - p.padding.w, ncols,
                                 scratch);
                for (i = ncols * col; i < ncols * col + p.k4 - k; ++i) {
                    scratch[i] = 0;             /* the zero taps of the last window */
                }
                i = 0;
                (void)mode;
                /* The pass loop once per unrolled pass, chosen once per call; only the passes
                 * this model runs are compiled (TINYC_FEWCH_*: tinyc_fewch_mode). */
#if defined(TINYC_FEWCH_K28_S9)
                if (mode == 1) {
                    i = tinyc_fewch_triples(scratch, n, step, filter, bias, rq, nq, oc, o, 1);
                }
#endif
#if defined(TINYC_FEWCH_K28_S18)
                if (mode == 2) {
                    i = tinyc_fewch_triples(scratch, n, step, filter, bias, rq, nq, oc, o, 2);
                }
#endif
#if defined(TINYC_FEWCH_K40_S20)
                if (mode == 3) {
                    i = tinyc_fewch_fives(scratch, n, step, filter, bias, rq, nq, oc, o);
                }
#endif
                o += i * oc;                /* the rest: two-pixel passes, a single pixel */
                o = tinyc_fewch_pairs(scratch + i * step, n - i, step, filter, bias, rq, nq,
                                      oc, p.output_offset, o);
                i = n - ((n - i) & 1);
                if (i < n) {                                /* a last single pixel */
                    const int16_t *x0 = scratch + i * step;
                    const int16_t *w = filter;
                    for (g = 0; g < oc; g += 4) {
                        const tinyc_rq *r = rq + g;
                        int32_t acc[4];
                        tinyc_rq q;
                        acc[0] = bias[g]; acc[1] = bias[g + 1];
                        acc[2] = bias[g + 2]; acc[3] = bias[g + 3];
                        tinyc_fewch_dot1(x0, w, nq, acc);
                        q = tinyc_rq_next(&r);
                        o[g] = (int8_t)tinyc_rq_x2(acc[0], q.m, q.h, q.e);
                        q = tinyc_rq_next(&r);
                        o[g + 1] = (int8_t)tinyc_rq_x2(acc[1], q.m, q.h, q.e);
                        q = tinyc_rq_next(&r);
                        o[g + 2] = (int8_t)tinyc_rq_x2(acc[2], q.m, q.h, q.e);
                        q = tinyc_rq_next(&r);
                        o[g + 3] = (int8_t)tinyc_rq_x2(acc[3], q.m, q.h, q.e);
                        w += 16 * nq;
                    }
                }
            }
        }
    }
    tinyc_fast_activation(&p.activation, output,
                          p.output.n * p.output.h * p.output.w * p.output.c);
}
