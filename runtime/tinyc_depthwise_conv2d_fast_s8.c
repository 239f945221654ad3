/*
 * tinyc_depthwise_conv2d_fast_s8.c - int8 depthwise convolution, channel multiplier 1,
 * channels a multiple of 4.  Per output pixel and group of four channels: each valid tap is one
 * 32-bit load of four inputs widened with the offset (SXTAB16), one 64-bit load of the four
 * int16 weights and four 16x16 MACs (SMLABB/SMLATT); the four outputs are requantized with
 * tinyc_rq.  Padded taps are skipped.  The filter was widened to int16 at compile time and laid
 * out per group: filter[(group * kh * kw + tap) * 4 + lane], lanes {c0, c2, c1, c3}; filter
 * and bias are scaled by 2 (2 w, 2 b), so the accumulators hold 2 acc, as SMMLAR wants them.
 * Windows of a 3-wide filter are straight-line asm, one loop over pixels and channel groups per
 * window shape (interior, edges, corners); a whole 3x3 window (76 instructions per group) reads
 * its inputs without the offset, which bias_full holds: 2 (b + input_offset * sum w).
 */
#if defined(__clang__)
#define TINYC_NO_FAST_DSP 1     /* clang cannot allocate the 3x3 window asm's registers */
#endif
#include "tinyc_fast.h"
#include "tinyc_window.h"

/* The lane of channel j of a group of four in the int16 filter (fixed, both paths). */
#define TINYC_W16_LANE(j) (((j) & 1) ? ((j) >> 1) + 2 : (j) >> 1)

#if defined(TINYC_FAST_DSP)

#define TINYC_DW_MAC(wofs)                                                                 \
    "sxtab16 %[xe], %[off2], %[xv]\n\t"                                                    \
    "sxtab16 %[xv], %[off2], %[xv], ror #8\n\t"                                            \
    "ldrd %[we], %[wo], [%[w], #" wofs "]\n\t"                                             \
    "smlabb %[a0], %[xe], %[we], %[a0]\n\t"                                                \
    "smlatt %[a2], %[xe], %[we], %[a2]\n\t"                                                \
    "smlabb %[a1], %[xv], %[wo], %[a1]\n\t"                                                \
    "smlatt %[a3], %[xv], %[wo], %[a3]\n\t"

#define TINYC_DW_OUTS                                                                      \
    [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [xv] "=&r"(xv),             \
    [xe] "=&r"(xe), [we] "=&r"(we), [wo] "=&r"(wo)

/* A window of a 3-wide filter: nky rows (1..3) of nkx taps (2 or 3), x at the first tap,
 * xc bytes between columns, xr bytes from the row's last tap to the next row's first; the
 * filter rows are 24 bytes apart. */
#define TINYC_DW_C3(w0, w1, w2) "ldr %[xv], [%[x]]\n\t" TINYC_DW_MAC(w0)                \
    "ldr %[xv], [%[x], %[xc]]\n\t" TINYC_DW_MAC(w1)                                        \
    "add %[x], %[x], %[xc]\n\t"                                                            \
    "ldr %[xv], [%[x], %[xc]]\n\t" TINYC_DW_MAC(w2)
#define TINYC_DW_C2(w0, w1) "ldr %[xv], [%[x]]\n\t" TINYC_DW_MAC(w0)                      \
    "ldr %[xv], [%[x], %[xc]]\n\t" TINYC_DW_MAC(w1)
#define TINYC_DW_NEXT "add %[x], %[x], %[xr]\n\t"
/* A full window whose input offset was folded into the bias: SXTB16 instead of SXTAB16. */
#define TINYC_DW_MACF(wofs)                                                                \
    "sxtb16 %[xe], %[xv]\n\t"                                                               \
    "sxtb16 %[xv], %[xv], ror #8\n\t"                                                       \
    "ldrd %[we], %[wo], [%[w], #" wofs "]\n\t"                                             \
    "smlabb %[a0], %[xe], %[we], %[a0]\n\t"                                                \
    "smlatt %[a2], %[xe], %[we], %[a2]\n\t"                                                \
    "smlabb %[a1], %[xv], %[wo], %[a1]\n\t"                                                \
    "smlatt %[a3], %[xv], %[wo], %[a3]\n\t"
#define TINYC_DW_C3F(w0, w1, w2) "ldr %[xv], [%[x]]\n\t" TINYC_DW_MACF(w0)              \
    "ldr %[xv], [%[x], %[xc]]\n\t" TINYC_DW_MACF(w1)                                       \
    "add %[x], %[x], %[xc]\n\t"                                                            \
    "ldr %[xv], [%[x], %[xc]]\n\t" TINYC_DW_MACF(w2)
#define TINYC_DW_ASMF(code)                                                                \
    __asm__(code : TINYC_DW_OUTS, [x] "+r"(x)                                              \
            : [xc] "r"(xc), [xr] "r"(xr), [w] "r"(w),                                      \
              "m"(*(const int16_t(*)[36])w), "m"(*x))
#define TINYC_DW_ASM(code)                                                                 \
    __asm__(code : TINYC_DW_OUTS, [x] "+r"(x)                                              \
            : [xc] "r"(xc), [xr] "r"(xr), [w] "r"(w), [off2] "r"(off2),                    \
              "m"(*(const int16_t(*)[36])w), "m"(*x))

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
    int32_t off2;               /* the input offset in both 16-bit lanes */
} tinyc_dw_job;

/* One function per window shape of a 3-wide filter: the loop over channel groups with the
 * taps as straight-line code (asm taken as argument) and the requantization. */
#define TINYC_DW_GROUPS(fn, asm, code)                                                     \
    static void fn(const tinyc_dw_job *j)                                                  \
    {                                                                                      \
        const int8_t *xp = j->x;                                                           \
        int8_t *out = j->out;                                                              \
        const int32_t xc = j->xc;                                                          \
        const int32_t xr = j->xr;                                                          \
        const int32_t off2 = j->off2;                                                      \
        const int32_t w_step = j->w_step;                                                  \
        int32_t n;                                                                         \
        (void)off2;                                                                        \
        for (n = j->npix; n > 0; --n, xp += j->x_step) {                                   \
            const int8_t *xg = xp;                                                         \
            const int16_t *w = j->w;                                                       \
            const int32_t *bias = j->bias;                                                 \
            const tinyc_rq *rq = j->rq;                                                    \
            int32_t g;                                                                     \
            for (g = j->groups; g > 0; --g, xg += 4, w += w_step, bias += 4, out += 4) {   \
                const int8_t *x = xg;                                                      \
                int32_t a0 = bias[0];                                                      \
                int32_t a1 = bias[1];                                                      \
                int32_t a2 = bias[2];                                                      \
                int32_t a3 = bias[3];                                                      \
                int32_t xv;                                                                \
                int32_t xe;                                                                \
                int32_t we;                                                                \
                int32_t wo;                                                                \
                asm(code);                                                                 \
                tinyc_rq4_chans_x2(a0, a1, a2, a3, &rq, out, 0);                           \
            }                                                                              \
        }                                                                                  \
    }

TINYC_DW_GROUPS(tinyc_dw_23, TINYC_DW_ASM, TINYC_DW_C3("0", "8", "16") TINYC_DW_NEXT
                TINYC_DW_C3("24", "32", "40"))
TINYC_DW_GROUPS(tinyc_dw_32, TINYC_DW_ASM, TINYC_DW_C2("0", "8") TINYC_DW_NEXT
                TINYC_DW_C2("24", "32")
                TINYC_DW_NEXT TINYC_DW_C2("48", "56"))
TINYC_DW_GROUPS(tinyc_dw_22, TINYC_DW_ASM, TINYC_DW_C2("0", "8") TINYC_DW_NEXT
                TINYC_DW_C2("24", "32"))
TINYC_DW_GROUPS(tinyc_dw_33f, TINYC_DW_ASMF, TINYC_DW_C3F("0", "8", "16") TINYC_DW_NEXT
                TINYC_DW_C3F("24", "32", "40") TINYC_DW_NEXT TINYC_DW_C3F("48", "56", "64"))

/* Taps (0, 0), (0, 1) [and (0, 2)] of one filter row. */
static inline void tinyc_dw_row(const int8_t *x, int32_t xc, const int16_t *w, int32_t off2,
                                int32_t n, int32_t acc[4])
{
    int32_t a0 = acc[0];
    int32_t a1 = acc[1];
    int32_t a2 = acc[2];
    int32_t a3 = acc[3];
    int32_t xv;
    int32_t xe;
    int32_t we;
    int32_t wo;
    if (n == 3) {
        __asm__("ldr %[xv], [%[x]]\n\t" TINYC_DW_MAC("0")
                "ldr %[xv], [%[x], %[xc]]\n\t" TINYC_DW_MAC("8")
                "add %[x], %[x], %[xc]\n\t"
                "ldr %[xv], [%[x], %[xc]]\n\t" TINYC_DW_MAC("16")
                : TINYC_DW_OUTS, [x] "+r"(x)
                : [xc] "r"(xc), [w] "r"(w), [off2] "r"(off2),
                  "m"(*(const int16_t(*)[12])w), "m"(*x));
    } else if (n == 2) {
        __asm__("ldr %[xv], [%[x]]\n\t" TINYC_DW_MAC("0")
                "ldr %[xv], [%[x], %[xc]]\n\t" TINYC_DW_MAC("8")
                : TINYC_DW_OUTS
                : [x] "r"(x), [xc] "r"(xc), [w] "r"(w), [off2] "r"(off2),
                  "m"(*(const int16_t(*)[8])w), "m"(*x));
    } else {
        for (; n > 0; --n, x += xc, w += 4) {
            __asm__("ldr %[xv], [%[x]]\n\t" TINYC_DW_MAC("0")
                    : TINYC_DW_OUTS
                    : [x] "r"(x), [w] "r"(w), [off2] "r"(off2),
                      "m"(*(const int16_t(*)[4])w), "m"(*x));
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

#else

static inline void tinyc_dw_row(const int8_t *x, int32_t xc, const int16_t *w, int32_t offset,
                                int32_t n, int32_t acc[4])
{
    int32_t a0 = acc[0];
    int32_t a1 = acc[1];
    int32_t a2 = acc[2];
    int32_t a3 = acc[3];
    for (; n > 0; --n, x += xc, w += 4) {
        a0 += (x[0] + offset) * w[TINYC_W16_LANE(0)];
        a1 += (x[1] + offset) * w[TINYC_W16_LANE(1)];
        a2 += (x[2] + offset) * w[TINYC_W16_LANE(2)];
        a3 += (x[3] + offset) * w[TINYC_W16_LANE(3)];
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

#endif

/* One output pixel, all channel groups: x at input (y0 + ky0 * dh, x0 + kx0 * dw), channel 0;
 * taps [ky0, ky0 + nky) x [kx0, kx0 + nkx). */
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
    const int32_t zp = p->output_offset;
    const int32_t win3 = p->kernel.w == 3 && p->kernel.h == 3 && nkx >= 2 && nky >= 2;
    const int32_t x_next = nkx == 3 ? x_row - x_col : x_row;
#if defined(TINYC_FAST_DSP)
    const int32_t off = (int32_t)(((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u);
#else
    const int32_t off = p->input_offset;
#endif
    int32_t c;
    int32_t i;
    w += (ky0 * p->kernel.w + kx0) * 4;
#if defined(TINYC_FAST_DSP)
    if (win3) {
        static void (*const loops[2][2])(const tinyc_dw_job *) = {
            {tinyc_dw_22, tinyc_dw_32}, {tinyc_dw_23, tinyc_dw_33f}};
        tinyc_dw_job j;
        j.x = x;
        j.w = w;
        j.bias = bias;
        j.rq = rq;
        j.out = out;
        j.groups = ch >> 2;
        j.npix = npix;
        j.x_step = x_step;
        j.w_step = 4 * taps;
        j.xc = x_col;
        j.xr = x_next;
        j.off2 = off;
        if (nky == 3 && nkx == 3) {                 /* the whole window: offset in the bias */
            j.bias = bias_full;
        }
        loops[nkx - 2][nky - 2](&j);
        return;
    }
#endif
    (void)bias_full;
    (void)win3;
    (void)x_next;
    for (i = 0; i < npix; ++i, x += x_step, out += ch) {
        const int8_t *xg = x;
        const int16_t *wg = w;
        const int32_t *bg = bias;
        const tinyc_rq *r = rq;
        for (c = 0; c < ch; c += 4, xg += 4, wg += 4 * taps, bg += 4) {
            int32_t acc[4];
            int32_t ky;
            acc[0] = bg[0];
            acc[1] = bg[1];
            acc[2] = bg[2];
            acc[3] = bg[3];
            for (ky = 0; ky < nky; ++ky) {
                tinyc_dw_row(xg + ky * x_row, x_col, wg + ky * p->kernel.w * 4, off, nkx, acc);
            }
            tinyc_rq4_chans_x2(acc[0], acc[1], acc[2], acc[3], &r, out + c, zp);
        }
    }
}

void tinyc_depthwise_conv2d_fast_s8(const tinyc_dw_fast_params *params, const tinyc_rq *rq,
                                    const int8_t *input, const int16_t *filter,
                                    const int32_t *bias, const int32_t *bias_full,
                                    int8_t *output)
{
    const tinyc_dw_fast_params p = *params;
    const int32_t ch = p.input.c;
    const int32_t image_size = p.input.h * p.input.w * ch;
    int32_t b;
    int32_t oy;
    int32_t ox;
    tinyc_window win;
    int8_t *out = output;
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
