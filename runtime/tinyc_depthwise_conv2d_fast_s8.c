/*
 * tinyc_depthwise_conv2d_fast_s8.c - int8 depthwise convolution, channel multiplier 1,
 * channels a multiple of 4.  Per output pixel and group of four channels: each valid tap is one
 * 32-bit load of four inputs widened with the offset (SXTAB16), one 64-bit load of the four
 * int16 weights and four 16x16 MACs (SMLABB/SMLATT); the four outputs are requantized with
 * tinyc_rq.  Padded taps are skipped.  The filter was widened to int16 at compile time and laid
 * out per group: filter[(group * kh * kw + tap) * 4 + lane], lanes {c0, c2, c1, c3}; filter
 * and bias are scaled by 2 (2 w, 2 b), so the accumulators hold 2 acc, as SMMLAR wants them.
 * Windows of a 3x3 filter are straight-line code, one loop over pixels and channel groups per
 * window shape (interior, edges, corners); a whole window reads its inputs without the offset,
 * which bias_full holds: 2 (b + input_offset * sum w).  A tap is ACLE intrinsics and
 * one-instruction asm (a few operands each, so every register allocator can place them); the
 * portable tap has the same interface.
 */
#include <stddef.h>

#include "tinyc_fast.h"
#include "tinyc_window.h"

/* The lane of channel j of a group of four in the int16 filter (fixed, both paths). */
#define TINYC_W16_LANE(j) (((j) & 1) ? ((j) >> 1) + 2 : (j) >> 1)

/* The accumulators of a group of four channels. */
typedef struct {
    int32_t a0;
    int32_t a1;
    int32_t a2;
    int32_t a3;
} tinyc_acc4;

/* One tap of a group: a += (x[0..3] + offset) * w[lanes]; off is tinyc_widen_offset(offset).
 * TINYC_DW_TAP0 leaves the offset out (a whole window: bias_full holds it). */
#if defined(TINYC_DSP)
#include "tinyc_depthwise_conv2d_fast_dsp.h"
#else
#include "tinyc_depthwise_conv2d_fast_c.h"
#endif

/* What a pixel's loop over channel groups needs. */
typedef struct {
    const int8_t *x;            /* input at the first valid tap, channel 0 */
    const int16_t *w;           /* filter at the first valid tap, group 0 */
    const int32_t *bias;
    const tinyc_rq *rq;
    int8_t *out;
    int32_t groups;
    int32_t npix;               /* output pixels in a row with this window shape */
    int32_t x_step;             /* bytes between their inputs */
    int32_t w_step;             /* int16 between groups of the filter: 4 * taps */
    int32_t xc;                 /* bytes between columns */
    int32_t xr;                 /* bytes from a row's last valid tap to the next row's first */
    int32_t off;                /* tinyc_widen_offset(input offset) */
} tinyc_dw_job;

/* Rows of a 3-wide filter, at p (then p is at the row's last column): 3 or 2 taps from the
 * filter row at byte 24 r of w.  TAP is TINYC_DW_TAP or TINYC_DW_TAP0 (no offset). */
#define TINYC_DW_C3(TAP, r)                                                                \
    TAP(a, p, w, 24 * (r), off);                                                           \
    TAP(a, p + xc, w, 24 * (r) + 8, off);                                                  \
    p = tinyc_dw_step(p, xc);                                                              \
    TAP(a, p + xc, w, 24 * (r) + 16, off)
#define TINYC_DW_C2(TAP, r)                                                                \
    TAP(a, p, w, 24 * (r), off);                                                           \
    TAP(a, p + xc, w, 24 * (r) + 8, off)
#define TINYC_DW_NEXT p = tinyc_dw_step(p, xr)

/* One function per window shape of a 3-wide filter: the loop over pixels and channel groups
 * with the taps as straight-line code, and the requantization. */
#define TINYC_DW_GROUPS(fn, code)                                                          \
    static void fn(const tinyc_dw_job *j)                                                  \
    {                                                                                      \
        const int8_t *xp = j->x;                                                           \
        int8_t *out = j->out;                                                              \
        const int32_t xc = j->xc;                                                          \
        const int32_t xr = j->xr;                                                          \
        const int32_t off = j->off;                                                        \
        const int32_t w_step = j->w_step;                                                  \
        int32_t n;                                                                         \
        (void)off;                                                                         \
        for (n = j->npix; n > 0; --n, xp += j->x_step) {                                   \
            const int8_t *x = xp;                                                          \
            const int16_t *w = j->w;                                                       \
            const int32_t *bias = j->bias;                                                 \
            const tinyc_rq *rq = j->rq;                                                    \
            int32_t g;                                                                     \
            for (g = j->groups; g > 0; --g, x += 4, w += w_step, bias += 4, out += 4) {    \
                const int8_t *p = x;                                                       \
                tinyc_acc4 a;                                                              \
                a.a0 = bias[0];                                                            \
                a.a1 = bias[1];                                                            \
                a.a2 = bias[2];                                                            \
                a.a3 = bias[3];                                                            \
                code;                                                                      \
                tinyc_rq4_chans_x2(a.a0, a.a1, a.a2, a.a3, &rq, out, 0);                   \
            }                                                                              \
        }                                                                                  \
    }

TINYC_DW_GROUPS(tinyc_dw_23, TINYC_DW_C3(TINYC_DW_TAP, 0); TINYC_DW_NEXT;
                TINYC_DW_C3(TINYC_DW_TAP, 1))
TINYC_DW_GROUPS(tinyc_dw_32, TINYC_DW_C2(TINYC_DW_TAP, 0); TINYC_DW_NEXT;
                TINYC_DW_C2(TINYC_DW_TAP, 1); TINYC_DW_NEXT; TINYC_DW_C2(TINYC_DW_TAP, 2))
TINYC_DW_GROUPS(tinyc_dw_22, TINYC_DW_C2(TINYC_DW_TAP, 0); TINYC_DW_NEXT;
                TINYC_DW_C2(TINYC_DW_TAP, 1))
TINYC_DW_GROUPS(tinyc_dw_33f, TINYC_DW_C3(TINYC_DW_TAP0, 0); TINYC_DW_NEXT;
                TINYC_DW_C3(TINYC_DW_TAP0, 1); TINYC_DW_NEXT; TINYC_DW_C3(TINYC_DW_TAP0, 2))

/* npix output pixels of one row that have the same window shape: x at input
 * (y0 + ky0 * dh, x0 + kx0 * dw) of the first, channel 0; taps [ky0, ky0 + nky) x
 * [kx0, kx0 + nkx); out at the first pixel's outputs. */
static void tinyc_dw_run(const tinyc_dw_fast_params *p, const tinyc_rq *rq,
                         const int8_t *x, const int16_t *w, const int32_t *bias,
                         const int32_t *bias_full, int32_t ky0, int32_t kx0, int32_t nky,
                         int32_t nkx, int32_t npix, int8_t *out)
{
    const int32_t ch = p->input.c;
    const int32_t taps = p->kernel.h * p->kernel.w;
    const int32_t x_col = p->dilation.w * ch;
    const int32_t x_row = p->dilation.h * p->input.w * ch;
    const int32_t x_step = p->stride.w * ch;
    const int32_t off = tinyc_widen_offset(p->input_offset);
    int32_t c;
    int32_t i;
    w += (ky0 * p->kernel.w + kx0) * 4;
    if (p->kernel.w == 3 && p->kernel.h == 3 && nkx >= 2 && nky >= 2) {
        static void (*const loops[2][2])(const tinyc_dw_job *) = {
            {tinyc_dw_22, tinyc_dw_32}, {tinyc_dw_23, tinyc_dw_33f}};
        tinyc_dw_job j;
        j.x = x;
        j.w = w;
        j.bias = nky == 3 && nkx == 3 ? bias_full : bias;   /* whole window: offset in bias */
        j.rq = rq;
        j.out = out;
        j.groups = ch >> 2;
        j.npix = npix;
        j.x_step = x_step;
        j.w_step = 4 * taps;
        j.xc = x_col;
        j.xr = nkx == 3 ? x_row - x_col : x_row;     /* from a row's last tap to the next */
        j.off = off;
        loops[nkx - 2][nky - 2](&j);
        return;
    }
    for (i = 0; i < npix; ++i, x += x_step, out += ch) {
        const int8_t *xg = x;
        const int16_t *wg = w;
        const int32_t *bg = bias;
        const tinyc_rq *r = rq;
        for (c = 0; c < ch; c += 4, xg += 4, wg += 4 * taps, bg += 4) {
            tinyc_acc4 a;
            int32_t ky;
            int32_t kx;
            a.a0 = bg[0];
            a.a1 = bg[1];
            a.a2 = bg[2];
            a.a3 = bg[3];
            for (ky = 0; ky < nky; ++ky) {
                for (kx = 0; kx < nkx; ++kx) {
                    TINYC_DW_TAP(a, xg + ky * x_row + kx * x_col,
                                 wg + (ky * p->kernel.w + kx) * 4, 0, off);
                }
            }
            tinyc_rq4_chans_x2(a.a0, a.a1, a.a2, a.a3, &r, out + c, p->output_offset);
        }
    }
}


/* ---- 3x3, stride 1 or 2, dilation 1: each input row is widened once (+ offset, padding 0) into
 * int16 planes, one per channel, in a ring of three row slots (scratch: 3 * channels * pw int16,
 * pw = tinyc_dw3_width); per channel and four output pixels of a row, each filter row is SMLAD
 * over tap pairs.  A channel's constants are one record of TINYC_DW3_K words (one pointer):
 * {2 b, m, h, e, then per filter row the int16 {2 w0, 2 w1, 2 w1, 2 w2}}. */
#define TINYC_DW3_K 10

/* A word of the int16 scratch. */
typedef uint32_t tinyc_u32w __attribute__((may_alias, aligned(4)));

/* What widening a row needs, the same for every row of a layer (tinyc_dw3_geometry). */
typedef struct {
    int32_t ch;                 /* bytes between input columns */
    int32_t off;                /* tinyc_widen_offset(input offset) */
    int32_t pw;
    int32_t cb;                 /* channels of the block */
    int32_t left;               /* an odd first column at pad: 1, else 0 */
    int32_t right;              /* an odd last column at j1: 1, else 0 */
    int32_t j0;                 /* word-aligned columns [j0, j1) */
    int32_t n4;                 /* four-column steps from j0 */
    int32_t two;                /* a last two-column step: 1, else 0 */
    int32_t x0;                 /* bytes from the row to column j0's input */
    int32_t xr;                 /* ... and to column j1's */
} tinyc_dw3_geo;

static void tinyc_dw3_geometry(const tinyc_dw_fast_params *p, int32_t pw, int32_t cb,
                               tinyc_dw3_geo *g)
{
    const int32_t pad = p->padding.w;
    const int32_t end = p->input.w + pad < pw ? p->input.w + pad : pw;  /* columns [pad, end) */
    const int32_t j0 = (pad + 1) & ~1;
    const int32_t j1 = end > j0 ? j0 + ((end - j0) & ~1) : j0;
    g->ch = p->input.c;
    g->off = tinyc_widen_offset(p->input_offset);
    g->pw = pw;
    g->cb = cb;
    g->left = pad < j0 && pad < end;
    g->right = j1 < end;
    g->j0 = j0;
    g->n4 = (j1 - j0) >> 2;
    g->two = ((j1 - j0) & 2) != 0;
    g->x0 = (j0 - pad) * g->ch;
    g->xr = (j1 - pad) * g->ch;
}

/* Input row `row` (NULL: a padding row, zeros) to the planes at slot: the columns that hold
 * input, [pad, pad + in_w) within pw; the others were zeroed once (tinyc_dw3) and stay 0. */
static void tinyc_dw3_widen_row(const tinyc_dw3_geo *geo, const int8_t *row, int16_t *slot)
{
    const int32_t ch = geo->ch;
    const int32_t off = geo->off;
    const int32_t pw = geo->pw;
    const int32_t cb = geo->cb;
    const int32_t j0 = geo->j0;
    const int32_t n4 = geo->n4;
    int32_t g;
    if (row == NULL) {
        int32_t j;
        for (j = 0; j < cb * pw; j += 2) {
            *(tinyc_u32w *)(void *)(slot + j) = 0;
        }
        return;
    }
    if (geo->left) {                                 /* an odd column at either edge */
        const int8_t *x = row;
        int16_t *d = slot + j0 - 1;
        for (g = cb >> 2; g > 0; --g, x += 4, d += 4 * pw) {
            tinyc_dw3_widen1(x, off, d, pw);
        }
    }
    if (geo->right) {
        const int8_t *x = row + geo->xr;
        int16_t *d = slot + j0 + 4 * n4 + 2 * geo->two;
        for (g = cb >> 2; g > 0; --g, x += 4, d += 4 * pw) {
            tinyc_dw3_widen1(x, off, d, pw);
        }
    }
    if (4 * n4 + 2 * geo->two > (cb >> 1)) {     /* four (two) columns, four channels a step: */
        for (g = 0; g < cb; g += 4) {          /* the longer loop inside */
            const int8_t *x = row + geo->x0 + g;
            int16_t *d = slot + g * pw + j0;
            if (n4 > 0) {
                tinyc_dw3_widen4_cols(x, ch, off, d, pw, n4);
            }
            if (geo->two) {
                tinyc_dw3_widen2(x + 4 * n4 * ch, ch, off, d + 4 * n4, pw);
            }
        }
    } else {
        const int8_t *x = row + geo->x0;
        int16_t *d = slot + j0;
        for (g = n4; g > 0; --g, x += 4 * ch, d += 4) {
            tinyc_dw3_widen4_groups(x, ch, off, d, pw, cb >> 2);
        }
        if (geo->two) {
            for (g = cb >> 2; g > 0; --g, x += 4, d += 4 * pw) {
                tinyc_dw3_widen2(x, ch, off, d, pw);
            }
        }
    }
}

#if defined(__GNUC__)
#define TINYC_NOINLINE __attribute__((noinline))
#else
#define TINYC_NOINLINE
#endif

/* What a row's loop over channels needs. */
typedef struct {
    const int16_t *x;           /* channel 0's plane in the first row's slot */
    const int32_t *k;           /* channel 0's record */
    int8_t *out;                /* the output row, channel 0 */
    int32_t d1;                 /* bytes from the first row's slot to the second's */
    int32_t d2;                 /* ... and to the third's */
    int32_t ch;                 /* bytes between output pixels */
    int32_t cb;                 /* channels of the block (the ring's planes) */
    int32_t pw;
    int32_t full;               /* passes of four output pixels */
    int32_t tail;               /* output pixels after them (0..3) */
} tinyc_dw3_job;

/* The four outputs of a pass to o, o + ch, o + 2 ch, o + 3 ch. */
static TINYC_ALWAYS_INLINE void tinyc_dw3_out4(const tinyc_acc4 *a, tinyc_rq q, int8_t *o,
                                               int32_t ch)
{
    *o = (int8_t)tinyc_rq_x2(a->a0, q.m, q.h, q.e);
    o = tinyc_dw3_next(o, ch);
    *o = (int8_t)tinyc_rq_x2(a->a1, q.m, q.h, q.e);
    o = tinyc_dw3_next(o, ch);
    *o = (int8_t)tinyc_rq_x2(a->a2, q.m, q.h, q.e);
    o = tinyc_dw3_next(o, ch);
    *o = (int8_t)tinyc_rq_x2(a->a3, q.m, q.h, q.e);
}

/* Row r's int16 filter {2 w0, 2 w1, 2 w1, 2 w2} of the record k. */
#define TINYC_DW3_W(k, r) ((const int16_t *)(const void *)((k) + 4 + 2 * (r)))

/* The requantization {m, h, e} of the record k. */
static TINYC_ALWAYS_INLINE tinyc_rq tinyc_dw3_rq(const int32_t *k)
{
    tinyc_rq q;
    q.m = k[1];
    q.h = k[2];
    q.e = k[3];
    return q;
}

/* One output pixel: a += the window at x (int16 at any even or odd position). */
static TINYC_ALWAYS_INLINE int32_t tinyc_dw3_one(int32_t a, const int16_t *x, int32_t d1,
                                                 int32_t d2, const int16_t *w)
{
    a = tinyc_dw3_dot3(a, x, w);
    a = tinyc_dw3_dot3(a, tinyc_dw3_at(x, d1), w + 4);
    return tinyc_dw3_dot3(a, tinyc_dw3_at(x, d2), w + 8);
}

/* Four output pixels from xg for each of the block's channels: STORE writes the sums a,
 * requantized with the channel's q, to o. */
#define TINYC_DW3_CHANNELS(ROW, S, STORE)                                                  \
    do {                                                                                   \
        const int16_t *x = xg;                                                             \
        const int16_t *x1 = tinyc_dw3_at(xg, d1);                                          \
        const int16_t *x2 = tinyc_dw3_at(xg, d2);                                          \
        const int32_t *k = j->k;                                                           \
        int8_t *o = og;                                                                    \
        for (c = cb; c > 0; --c, x += pw, x1 += pw, x2 += pw, k += TINYC_DW3_K, ++o) {     \
            tinyc_acc4 a;                                                                  \
            tinyc_rq q;                                                                    \
            a.a0 = a.a1 = a.a2 = a.a3 = k[0];                                              \
            ROW(&a, x, TINYC_DW3_W(k, 0));                                                 \
            ROW(&a, (S) == 1 ? x1 : tinyc_dw3_at(x, d1), TINYC_DW3_W(k, 1));               \
            ROW(&a, (S) == 1 ? x2 : tinyc_dw3_at(x, d2), TINYC_DW3_W(k, 2));               \
            q = tinyc_dw3_rq(k);                                                           \
            STORE;                                                                         \
        }                                                                                  \
    } while (0)

/* The last two or three output pixels (LAST, a constant: the unused accumulators and their
 * inputs drop out) as four of which the others are not stored. */
#define TINYC_DW3_TAIL(ROW, S, LAST)                                                       \
    TINYC_DW3_CHANNELS(ROW, S, {                                                           \
        o[0] = (int8_t)tinyc_rq_x2(a.a0, q.m, q.h, q.e);                                   \
        o[ch] = (int8_t)tinyc_rq_x2(a.a1, q.m, q.h, q.e);                                  \
        if ((LAST) == 3) {                                                                 \
            o[2 * ch] = (int8_t)tinyc_rq_x2(a.a2, q.m, q.h, q.e);                          \
        }                                                                                  \
    })

/* The five output pixels of a stride-2 row for one channel, stored to o, o + ch, ...
 * (stride 1: tinyc_dw3_five_s1, on DSP cores one asm). */
static TINYC_ALWAYS_INLINE void tinyc_dw3_five_s2(const int16_t *x, int32_t d1, int32_t d2,
                                                  const int32_t *k, int8_t *o, int32_t ch)
{
    tinyc_acc4 a;
    int32_t a4 = k[0];
    tinyc_rq q;
    a.a0 = a.a1 = a.a2 = a.a3 = k[0];
    a4 = tinyc_dw3_row_s25(&a, a4, x, TINYC_DW3_W(k, 0));
    a4 = tinyc_dw3_row_s25(&a, a4, tinyc_dw3_at(x, d1), TINYC_DW3_W(k, 1));
    a4 = tinyc_dw3_row_s25(&a, a4, tinyc_dw3_at(x, d2), TINYC_DW3_W(k, 2));
    q = tinyc_dw3_rq(k);
    o[4 * ch] = (int8_t)tinyc_rq_x2(a4, q.m, q.h, q.e);
    tinyc_dw3_out4(&a, q, o, ch);
}

#define tinyc_dw3_row_s1_five tinyc_dw3_five_s1
#define tinyc_dw3_row_s2_five tinyc_dw3_five_s2

/* One output row: per four output pixels a loop over channels (ROW is tinyc_dw3_row_s1 or
 * _s2, S the stride); a last pixel after them (tail 1) is done with the last four, two or
 * three (tail 2, 3) as four of which the last ones are not stored (the planes are wide
 * enough: tinyc_dw3_width). */
#define TINYC_DW3_LOOP(fn, ROW, S)                                                         \
    static TINYC_NOINLINE void fn(const tinyc_dw3_job *j)                                  \
    {                                                                                      \
        const int32_t ch = j->ch;                                                          \
        const int32_t cb = j->cb;                                                          \
        const int32_t d1 = j->d1;                                                          \
        const int32_t d2 = j->d2;                                                          \
        const int32_t pw = j->pw;                                                          \
        const int16_t *xg = j->x;                                                          \
        int8_t *og = j->out;                                                               \
        int32_t n;                                                                         \
        int32_t c;                                                                         \
        for (n = j->full - (j->tail == 1); n > 0; --n, xg += 4 * (S), og += 4 * ch) {      \
            TINYC_DW3_CHANNELS(ROW, S, tinyc_dw3_out4(&a, q, o, ch));                      \
        }                                                                                  \
        if (j->tail == 1 && j->full > 0) {          /* the last five pixels */               \
            const int16_t *x = xg;                                                         \
            const int32_t *k = j->k;                                                       \
            int8_t *o = og;                                                                \
            for (c = cb; c > 0; --c, x += pw, k += TINYC_DW3_K, ++o) {                     \
                ROW##_five(x, d1, d2, k, o, ch);                                           \
            }                                                                              \
        } else if (j->tail == 2) {                  /* two or three: four, not all stored */ \
            TINYC_DW3_TAIL(ROW, S, 2);                                                     \
        } else if (j->tail == 3) {                                                         \
            TINYC_DW3_TAIL(ROW, S, 3);                                                     \
        } else if (j->tail == 1) {                  /* one output pixel in all */          \
            const int16_t *x = xg;                                                         \
            const int32_t *k = j->k;                                                       \
            for (c = 0; c < cb; ++c, x += pw, k += TINYC_DW3_K) {                          \
                const tinyc_rq q = tinyc_dw3_rq(k);                                        \
                og[c] = (int8_t)tinyc_rq_x2(tinyc_dw3_one(k[0], x, d1, d2,                 \
                                                          TINYC_DW3_W(k, 0)),              \
                                            q.m, q.h, q.e);                                \
            }                                                                              \
        }                                                                                  \
    }

TINYC_DW3_LOOP(tinyc_dw3_s1, tinyc_dw3_row_s1, 1)
TINYC_DW3_LOOP(tinyc_dw3_s2, tinyc_dw3_row_s2, 2)

/* Input row iy of the image (NULL: a padding row). */
static inline const int8_t *tinyc_dw3_in_row(const tinyc_dw_fast_params *p, const int8_t *image,
                                             int32_t iy)
{
    return iy >= 0 && iy < p->input.h ? image + iy * p->input.w * p->input.c : NULL;
}

/* The ring holds the planes of a block of cb channels (p->ring_c; 0: all of them): per block
 * every output row, its input rows widened once per block (the same work as one block).  The
 * three slots rotate: r0, r1, r2 hold input rows iy, iy + 1, iy + 2 of output row oy; the next
 * output row keeps the rows it shares and widens the stride's new ones into the freed slots. */
static void tinyc_dw3(const tinyc_dw_fast_params *p, const int8_t *input,
                      const int32_t *filter3, int16_t *scratch, int8_t *output)
{
    const int32_t ch = p->input.c;
    const int32_t sh = p->stride.h;
    const int32_t sw = p->stride.w;
    const int32_t ow = p->output.w;
    const int32_t pw = tinyc_dw3_width(p);
    const int32_t image_size = p->input.h * p->input.w * ch;
    const int32_t ring_c = p->ring_c > 0 && p->ring_c < ch ? p->ring_c : ch;
    int32_t b;
    int32_t c0;
    int32_t oy;
    int32_t k;
    tinyc_dw3_job j;
    j.ch = ch;
    j.pw = pw;
    j.full = ow >> 2;
    j.tail = ow & 3;
    for (k = 0; k < 3 * ring_c * pw; k += 2) {    /* pw is even: whole words */
        *(tinyc_u32w *)(void *)(scratch + k) = 0;
    }
    for (c0 = 0; c0 < ch; c0 += ring_c) {
        const int32_t cb = ch - c0 < ring_c ? ch - c0 : ring_c;
        int8_t *out = output + c0;
        tinyc_dw3_geo geo;
        tinyc_dw3_geometry(p, pw, cb, &geo);
        j.cb = cb;
        j.k = filter3 + TINYC_DW3_K * c0;
        for (b = 0; b < p->output.n; ++b) {
            const int8_t *image = input + b * image_size + c0;
            int16_t *r0 = scratch;
            int16_t *r1 = scratch + ring_c * pw;
            int16_t *r2 = scratch + 2 * ring_c * pw;
            int32_t iy = -p->padding.h;
            tinyc_dw3_widen_row(&geo, tinyc_dw3_in_row(p, image, iy), r0);
            tinyc_dw3_widen_row(&geo, tinyc_dw3_in_row(p, image, iy + 1), r1);
            tinyc_dw3_widen_row(&geo, tinyc_dw3_in_row(p, image, iy + 2), r2);
            for (oy = 0; oy < p->output.h; ++oy, out += ow * ch) {
                if (oy > 0) {
                    int16_t *t = r0;
                    iy += sh;
                    if (sh == 1) {                  /* keeps iy, iy + 1: one new row */
                        r0 = r1;
                        r1 = r2;
                        r2 = t;
                    } else {                        /* keeps iy: two new rows */
                        r0 = r2;
                        r2 = r1;
                        r1 = t;
                        tinyc_dw3_widen_row(&geo, tinyc_dw3_in_row(p, image, iy + 1), r1);
                    }
                    tinyc_dw3_widen_row(&geo, tinyc_dw3_in_row(p, image, iy + 2), r2);
                }
                j.x = r0;
                j.d1 = 2 * (int32_t)(r1 - r0);
                j.d2 = 2 * (int32_t)(r2 - r0);
                j.out = out;
                if (sw == 1) {
                    tinyc_dw3_s1(&j);
                } else {
                    tinyc_dw3_s2(&j);
                }
            }
        }
    }
    tinyc_fast_activation(&p->activation, output, p->output.n * p->output.h * ow * ch);
}

void tinyc_depthwise_conv2d_fast_s8(const tinyc_dw_fast_params *params, const tinyc_rq *rq,
                                    const int8_t *input, const int16_t *filter,
                                    const int32_t *bias, const int32_t *bias_full,
                                    const int32_t *filter3, int16_t *scratch, int8_t *output)
{
    const tinyc_dw_fast_params p = *params;
    const int32_t ch = p.input.c;
    const int32_t image_size = p.input.h * p.input.w * ch;
    int32_t b;
    int32_t oy;
    int32_t ox;
    tinyc_window win;
    int8_t *out = output;
    if (filter3 != NULL) {
        tinyc_dw3(&p, input, filter3, scratch, output);
        return;
    }
    for (b = 0; b < p.output.n; ++b) {
        const int8_t *image = input + b * image_size;
        for (oy = 0; oy < p.output.h; ++oy) {
            tinyc_window_rows(&win, oy, p.stride.h, p.padding.h, p.dilation.h, p.kernel.h,
                              p.input.h);
            for (ox = 0; ox < p.output.w;) {
                int32_t y = 0;
                int32_t x = 0;
                int32_t n = 1;
                int32_t nky = win.ky1 - win.ky0;
                int32_t nkx;
                tinyc_window next;
                tinyc_window_cols(&win, ox, p.stride.w, p.padding.w, p.dilation.w, p.kernel.w,
                                  p.input.w);
                nkx = win.kx1 - win.kx0;
                if (nky <= 0 || nkx <= 0) {
                    nky = 0;                    /* no valid tap: the bias alone */
                    nkx = 0;
                } else {
                    y = win.y0 + win.ky0 * p.dilation.h;
                    x = win.x0 + win.kx0 * p.dilation.w;
                    next = win;                 /* the run of pixels with this window shape */
                    while (ox + n < p.output.w) {
                        tinyc_window_cols(&next, ox + n, p.stride.w, p.padding.w,
                                          p.dilation.w, p.kernel.w, p.input.w);
                        if (next.kx0 != win.kx0 || next.kx1 != win.kx1) {
                            break;
                        }
                        ++n;
                    }
                }
                tinyc_dw_run(&p, rq, image + (y * p.input.w + x) * ch, filter, bias, bias_full,
                             nky ? win.ky0 : 0, nky ? win.kx0 : 0, nky, nkx, n, out);
                ox += n;
                out += n * ch;
            }
        }
    }
    tinyc_fast_activation(&p.activation, output, p.output.n * p.output.h * p.output.w * ch);
}
