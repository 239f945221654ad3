/*
 * tinyc_packed.c - the shared loops of the packed-weight conv2d kernels (tinyc_conv2d_s4.c,
 * _cb.c, _sparse.c "mask"), compiled once: the output channel of a conv2d whose filter is
 * unpacked to int8 (tinyc_pk_conv_channel) and its DSP path, blocks of four or two output
 * pixels sharing each word of weights (TINYC_PACKED_DSP, tinyc_packed.h).
 */
#include "tinyc_packed.h"

/* One output channel of a conv2d at every output pixel, its filter w already unpacked to
 * int8; bias, mult, shift are the channel's; output points at the channel's first value
 * (the next pixel's is output_dims->c further). */
static inline void tinyc_conv_channel(const tinyc_conv_params *p, int32_t bias, int32_t mult,
                                      int32_t shift, const tinyc_dims *in_dims,
                                      const int8_t *input, const tinyc_dims *f_dims,
                                      const int8_t *w, const tinyc_dims *out_dims,
                                      int8_t *output)
{
    tinyc_pixels px;
    tinyc_pixels_init(&px, &p->stride, &p->padding, &p->dilation, in_dims, f_dims, out_dims);
    while (tinyc_pixels_next(&px)) {
        int32_t acc = tinyc_conv_window(p, in_dims, input + px.image, f_dims, w, &px.win);
        acc = tinyc_requantize(tinyc_add_wrap(acc, bias), mult, shift);
        output[px.out] = tinyc_clamp_s8(acc, p->output_offset, p->activation.min,
                                        p->activation.max);
    }
}

#if defined(TINYC_PACKED_DSP)
/* The taps of one output pixel's window, as `rows` x `runs` runs of `len` contiguous values:
 * the input of the first at x, its weights at w (the unpacked filter); the next output pixel's
 * input is `step` further. */
typedef struct {
    const int8_t *x;
    const int8_t *w;
    int32_t rows;
    int32_t runs;
    int32_t len;
    int32_t x_row;              /* strides between rows */
    int32_t w_row;
    int32_t x_run;              /* strides between runs */
    int32_t w_run;
    int32_t step;
    int32_t offset;             /* the input offset */
} tinyc_pk_win;

/* The window loops are functions of their own (never inlined): inside the large kernel
 * functions GCC spills their accumulators. */
#define TINYC_PK_LOOP __attribute__((noinline))

/* One pixel's four MACs in the asm of tinyc_pk_win4: its word at addr, widened with the
 * offset, two SMLAD into acc. */
#define TINYC_PK_PX(addr, acc)                                                               \
    "ldr %[v], " addr "\n\t"                                                                 \
    "sxtab16 %[t], %[off], %[v]\n\t"                                                         \
    "smlad " acc ", %[t], %[w02], " acc "\n\t"                                               \
    "sxtab16 %[t], %[off], %[v], ror #8\n\t"                                                 \
    "smlad " acc ", %[t], %[w13], " acc "\n\t"

/* acc[j] = the window sums of four output pixels (j = 0..3, inputs j * step apart): each
 * word of weights is widened once (SXTB16) for the four (SXTAB16 + SMLAD each). */
static TINYC_PK_LOOP void tinyc_pk_win4(const tinyc_pk_win *d, int32_t acc[4])
{
    const int32_t off = d->offset;
    const int32_t off2 = tinyc_offset2(off);
    const int32_t step = d->step;
    const int32_t n4 = d->len & ~3;
    int32_t a0 = 0;
    int32_t a1 = 0;
    int32_t a2 = 0;
    int32_t a3 = 0;
    int32_t r;
    int32_t u;
    int32_t i;
    for (r = 0; r < d->rows; ++r) {
        for (u = 0; u < d->runs; ++u) {
            const int8_t *x = d->x + r * d->x_row + u * d->x_run;
            const int8_t *w = d->w + r * d->w_row + u * d->w_run;
            for (i = 0; i < n4; i += 4) {
                int32_t w02;
                int32_t w13;
                int32_t v;
                int32_t t;
                /* 26 instructions for 16 MACs */
                __asm__("ldr %[w13], [%[w]], #4\n\t"
                        "sxtb16 %[w02], %[w13]\n\t"
                        "sxtb16 %[w13], %[w13], ror #8\n\t"
                        TINYC_PK_PX("[%[x], %[step]]", "%[a1]")
                        "add %[t], %[x], %[step], lsl #1\n\t"
                        TINYC_PK_PX("[%[t]]", "%[a2]")
                        "add %[t], %[x], %[step], lsl #1\n\t"
                        TINYC_PK_PX("[%[t], %[step]]", "%[a3]")
                        TINYC_PK_PX("[%[x]], #4", "%[a0]")
                        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
                          [x] "+r"(x), [w] "+r"(w), [w02] "=&r"(w02), [w13] "=&r"(w13),
                          [v] "=&r"(v), [t] "=&r"(t)
                        : [step] "r"(step), [off] "r"(off2)
                        : "memory");
            }
            for (; i < d->len; ++i, ++x, ++w) {
                const int32_t wi = *w;
                a0 += ((int32_t)x[0] + off) * wi;
                a1 += ((int32_t)x[step] + off) * wi;
                a2 += ((int32_t)x[2 * step] + off) * wi;
                a3 += ((int32_t)x[3 * step] + off) * wi;
            }
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* The same for two output pixels. */
static TINYC_PK_LOOP void tinyc_pk_win2(const tinyc_pk_win *d, int32_t acc[4])
{
    const int32_t off = d->offset;
    const int32_t off2 = tinyc_offset2(off);
    const int32_t step = d->step;
    int32_t a0 = 0;
    int32_t a1 = 0;
    int32_t r;
    int32_t u;
    int32_t i;
    for (r = 0; r < d->rows; ++r) {
        for (u = 0; u < d->runs; ++u) {
            const int8_t *x = d->x + r * d->x_row + u * d->x_run;
            const int8_t *w = d->w + r * d->w_row + u * d->w_run;
            for (i = 0; i + 4 <= d->len; i += 4) {
                const uint32_t wv = tinyc_load4(w + i);
                const int32_t w02 = __sxtb16(tinyc_s32(wv));
                const int32_t w13 = tinyc_sxtb16_ror8(wv);
                uint32_t v = tinyc_load4(x + i);
                a0 = __smlad(__sxtab16(off2, tinyc_s32(v)), w02, a0);
                a0 = __smlad(tinyc_sxtab16_ror8(off2, v), w13, a0);
                v = tinyc_load4(x + step + i);
                a1 = __smlad(__sxtab16(off2, tinyc_s32(v)), w02, a1);
                a1 = __smlad(tinyc_sxtab16_ror8(off2, v), w13, a1);
            }
            for (; i < d->len; ++i) {
                const int32_t wi = w[i];
                a0 += ((int32_t)x[i] + off) * wi;
                a1 += ((int32_t)x[step + i] + off) * wi;
            }
        }
    }
    acc[0] = a0;
    acc[1] = a1;
}

/* The window sum of one output pixel. */
static TINYC_PK_LOOP int32_t tinyc_pk_win1(const tinyc_pk_win *d)
{
    const int32_t off = d->offset;
    const int32_t off2 = tinyc_offset2(off);
    int32_t acc = 0;
    int32_t r;
    int32_t u;
    int32_t i;
    for (r = 0; r < d->rows; ++r) {
        for (u = 0; u < d->runs; ++u) {
            const int8_t *x = d->x + r * d->x_row + u * d->x_run;
            const int8_t *w = d->w + r * d->w_row + u * d->w_run;
            for (i = 0; i + 4 <= d->len; i += 4) {
                const uint32_t wv = tinyc_load4(w + i);
                const uint32_t v = tinyc_load4(x + i);
                acc = __smlad(__sxtab16(off2, tinyc_s32(v)), __sxtb16(tinyc_s32(wv)), acc);
                acc = __smlad(tinyc_sxtab16_ror8(off2, v), tinyc_sxtb16_ror8(wv), acc);
            }
            for (; i < d->len; ++i) {
                acc += ((int32_t)x[i] + off) * (int32_t)w[i];
            }
        }
    }
    return acc;
}

/* tinyc_conv_channel on the DSP: blocks of four (or two) output pixels whose windows lie
 * inside the input columns share each word of weights; the others one by one. */
static inline void tinyc_conv_channel_dsp(const tinyc_conv_params *p, int32_t bias,
                                          const tinyc_pk_rq *rq, const tinyc_dims *in_dims,
                                          const int8_t *input, const tinyc_dims *f_dims,
                                          const int8_t *w, const tinyc_dims *out_dims,
                                          const tinyc_pk_cols *cols, int8_t *output)
{
    const int32_t c = in_dims->c;
    const int32_t oc = out_dims->c;
    const int32_t col_lo = cols->lo;
    const int32_t col_hi = cols->hi;
    const int32_t dil_w = p->dilation.w;
    const tinyc_pk_rq q = *rq;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t n;
    int32_t j;
    tinyc_window win;
    tinyc_pk_win d;
    d.x_row = p->dilation.h * in_dims->w * c;
    d.w_row = f_dims->w * c;
    d.x_run = dil_w * c;
    d.w_run = c;
    d.step = p->stride.w * c;
    d.offset = p->input_offset;
    for (b = 0; b < out_dims->n; ++b) {
        const int8_t *image = input + b * in_dims->h * in_dims->w * c;
        for (oy = 0; oy < out_dims->h; ++oy) {
            tinyc_window_rows(&win, oy, p->stride.h, p->padding.h, p->dilation.h, f_dims->h,
                              in_dims->h);
            d.rows = win.ky1 - win.ky0;
            for (ox = 0; ox < out_dims->w; ox += n) {
                int32_t acc[4];
                n = ox < col_lo ? 1 : (ox + 4 <= col_hi ? 4 : (ox + 2 <= col_hi ? 2 : 1));
                if (ox < col_lo || ox >= col_hi) {
                    tinyc_window_cols(&win, ox, p->stride.w, p->padding.w, dil_w, f_dims->w,
                                      in_dims->w);
                } else {                        /* every column inside */
                    win.x0 = ox * p->stride.w - p->padding.w;
                    win.kx0 = 0;
                    win.kx1 = f_dims->w;
                }
                d.runs = dil_w == 1 ? 1 : win.kx1 - win.kx0;
                d.len = dil_w == 1 ? (win.kx1 - win.kx0) * c : c;
                d.x = image + ((win.y0 + win.ky0 * p->dilation.h) * in_dims->w + win.x0 +
                               win.kx0 * dil_w) * c;
                d.w = w + win.ky0 * d.w_row + win.kx0 * c;
                if (n == 4) {
                    tinyc_pk_win4(&d, acc);
                } else if (n == 2) {
                    tinyc_pk_win2(&d, acc);
                } else {
                    acc[0] = tinyc_pk_win1(&d);
                }
                for (j = 0; j < n; ++j, output += oc) {
                    *output = tinyc_pk_requant(tinyc_add_wrap(acc[j], bias), &q);
                }
            }
        }
    }
}
#endif

/* A conv2d's tinyc_pk_cols, once per call (the portable path does not use them). */
void tinyc_pk_cols_init(tinyc_pk_cols *cols, const tinyc_conv_params *p,
                        const tinyc_dims *in_dims, const tinyc_dims *f_dims,
                        const tinyc_dims *out_dims)
{
#if defined(TINYC_PACKED_DSP)
    int32_t ox;
    tinyc_window win;
    cols->lo = out_dims->w;
    cols->hi = 0;
    for (ox = 0; ox < out_dims->w; ++ox) {
        tinyc_window_cols(&win, ox, p->stride.w, p->padding.w, p->dilation.w, f_dims->w,
                          in_dims->w);
        if (win.kx0 == 0 && win.kx1 == f_dims->w) {
            cols->lo = ox < cols->lo ? ox : cols->lo;
            cols->hi = ox + 1;
        }
    }
#else
    (void)p;
    (void)in_dims;
    (void)f_dims;
    cols->lo = 0;
    cols->hi = out_dims->w;
#endif
}

/* Output channel oc of a conv2d, its filter w unpacked to int8 (output: the channel's first
 * value): tinyc_conv_channel, or its DSP twin where the multiplier allows. */
void tinyc_pk_conv_channel(const tinyc_conv_params *p,
                           const tinyc_per_channel_quant_params *quant, int32_t oc,
                           int32_t bias, const tinyc_dims *in_dims, const int8_t *input,
                           const tinyc_dims *f_dims, const int8_t *w,
                           const tinyc_dims *out_dims, const tinyc_pk_cols *cols,
                           int8_t *output)
{
#if defined(TINYC_PACKED_DSP)
    if (quant->multiplier[oc] >= 0) {
        tinyc_pk_rq rq;
        tinyc_pk_rq_init(&rq, quant->multiplier[oc], quant->shift[oc], p->output_offset,
                         &p->activation);
        tinyc_conv_channel_dsp(p, bias, &rq, in_dims, input, f_dims, w, out_dims, cols,
                               output);
        return;
    }
#endif
    (void)cols;
    tinyc_conv_channel(p, bias, quant->multiplier[oc], quant->shift[oc], in_dims, input,
                       f_dims, w, out_dims, output);
}

