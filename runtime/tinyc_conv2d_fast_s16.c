/*
 * tinyc_conv2d_fast_s16.c - 16x8 convolution (int16 activations, int8 weights) as im2col +
 * GEMM: the same sums and requantization as tinyc_conv2d_s16 (TFLite Micro's 16x8 reference:
 * int64 bias + sum, tinyc_requantize_s64), with the sum taken in int32, exact because the
 * generator checked sum |w| * 2^15 < 2^31 for every channel (backend_c/fast_s16.py).
 *
 * Four output pixels at a time: their windows (int16, padded taps 0) are copied into the
 * arena scratch interleaved per group of four k, blk[(k / 4) * 16 + pixel * 4 + k % 4], so one
 * pointer walks the four pixels' words; a 1x1 stride-1 convolution over channels % 4 == 0
 * copies each pixel's channels.  Per output channel one pass over its filter row: the row's
 * int8 weights were stored per group of four k as {w0, w2, w1, w3}, so that on the DSP path
 * SXTB16 gives the int16 pairs {w0, w1} and {w2, w3} that SMLAD multiplies with the input
 * pairs {x0, x1}, {x2, x3}.  The inner loop comes from tinyc_conv2d_fast_s16_dsp.h or
 * tinyc_conv2d_fast_s16_c.h (same interface, same bits).
 */
#include "tinyc_fast_s16.h"
#include "tinyc_window.h"

#define TINYC_COLS16 4

/* The four accumulators of one output channel. */
typedef struct {
    int32_t a0;
    int32_t a1;
    int32_t a2;
    int32_t a3;
} tinyc_acc4_s16;

#if defined(TINYC_DSP)
#include "tinyc_conv2d_fast_s16_dsp.h"
#else
#include "tinyc_conv2d_fast_s16_c.h"
#endif

#define TINYC_AT16(k, col) (((k) >> 2) * 16 + (col) * 4 + ((k) & 3))

/* The window of output pixel (oy, ox) into column col of blk (k4 values: rows of row4, taps
 * outside the input and the row padding 0). */
static void tinyc_im2col_s16(const tinyc_conv_fast_params *p, const int16_t *image,
                             int16_t *blk, int32_t col, int32_t oy, int32_t ox)
{
    const int32_t c = p->input.c;
    const int32_t y0 = oy * p->stride.h - p->padding.h;
    const int32_t x0 = ox * p->stride.w - p->padding.w;
    int32_t ky;
    int32_t kx;
    int32_t i;
    for (ky = 0; ky < p->kernel.h; ++ky) {
        const int32_t y = y0 + ky * p->dilation.h;
        int32_t k = ky * p->row4;
        if (y < 0 || y >= p->input.h) {             /* the whole row is padding */
            int16_t *dst = blk + TINYC_AT16(k, col);
            for (i = 0; i < p->row4; i += 4, dst += 16) {
                dst[0] = 0;
                dst[1] = 0;
                dst[2] = 0;
                dst[3] = 0;
            }
            continue;
        }
        if (((p->kernel.w * c) & 3) == 0 && p->dilation.w == 1 && x0 >= 0
            && x0 + p->kernel.w <= p->input.w) {    /* one run of kw * c values, whole groups */
            const int16_t *src = image + (y * p->input.w + x0) * c;
            int16_t *dst = blk + TINYC_AT16(k, col);
            for (i = 0; i < p->kernel.w * c; i += 4, dst += 16) {
                __builtin_memcpy(dst, src + i, 8);
            }
            continue;
        }
        for (kx = 0; kx < p->kernel.w; ++kx, k += c) {
            const int32_t x = x0 + kx * p->dilation.w;
            const int32_t inside = y >= 0 && y < p->input.h && x >= 0 && x < p->input.w;
            const int16_t *src = inside ? image + (y * p->input.w + x) * c : image;
            if ((c & 3) == 0) {         /* k % 4 == 0 too (row4 = kw * c): whole groups */
                int16_t *dst = blk + TINYC_AT16(k, col);
                if (inside) {
                    for (i = 0; i < c; i += 4, dst += 16) {
                        dst[0] = src[i];
                        dst[1] = src[i + 1];
                        dst[2] = src[i + 2];
                        dst[3] = src[i + 3];
                    }
                } else {
                    for (i = 0; i < c; i += 4, dst += 16) {
                        dst[0] = 0;
                        dst[1] = 0;
                        dst[2] = 0;
                        dst[3] = 0;
                    }
                }
                continue;
            }
            for (i = 0; i < c; ++i) {
                blk[TINYC_AT16(k + i, col)] = inside ? src[i] : 0;
            }
        }
        for (i = ky * p->row4 + p->kernel.w * c; i < (ky + 1) * p->row4; ++i) {
            blk[TINYC_AT16(i, col)] = 0;
        }
    }
}

/* The c channels (c % 4 == 0) of one pixel into column col of blk. */
static void tinyc_copy_s16(const int16_t *src, int16_t *blk, int32_t col, int32_t c)
{
    int16_t *dst = blk + col * 4;
    int32_t g;
    for (g = 0; g < c; g += 4, dst += 16) {
        dst[0] = src[g];
        dst[1] = src[g + 1];
        dst[2] = src[g + 2];
        dst[3] = src[g + 3];
    }
}

/* A full block of four pixels, every channel, SMMULR requantization (tinyc_rq16_table gave
 * 1), clamped as tinyc_rq16_clamp's `mode` says: one output pointer steps over the channels,
 * each pixel oc_n further. */
static TINYC_S16_INLINE void tinyc_block_high_body(const int8_t *filter, const int16_t *blk,
                                                   const tinyc_rq16 *r, int16_t *o,
                                                   int32_t oc_n, int32_t k4, int32_t lo,
                                                   int32_t hi, int32_t mode)
{
    int16_t *const end = o + oc_n;
    for (; o != end; ++o, ++r, filter += k4) {
        tinyc_acc4_s16 a;
        int16_t *q = o;
        int32_t bo;
        int32_t rm;
        a.a0 = 0;
        a.a1 = 0;
        a.a2 = 0;
        a.a3 = 0;
        tinyc_gemm4_s16(&a, filter, blk, k4);
        bo = r->bias;
        rm = r->reduced;
        *q = tinyc_rq16_clamp(tinyc_rq16_smmulr(a.a0 + bo, rm), lo, hi, mode);
        q += oc_n;
        *q = tinyc_rq16_clamp(tinyc_rq16_smmulr(a.a1 + bo, rm), lo, hi, mode);
        q += oc_n;
        *q = tinyc_rq16_clamp(tinyc_rq16_smmulr(a.a2 + bo, rm), lo, hi, mode);
        q += oc_n;
        *q = tinyc_rq16_clamp(tinyc_rq16_smmulr(a.a3 + bo, rm), lo, hi, mode);
    }
}

/* One function per clamp (its own register allocation, lo / hi folded where known). */
#define TINYC_S16_BLOCK __attribute__((noinline, aligned(16)))

static TINYC_S16_BLOCK void tinyc_block_relu_s16(const int8_t *filter, const int16_t *blk,
                                                 const tinyc_rq16 *r, int16_t *o, int32_t oc_n,
                                                 int32_t k4)
{
    tinyc_block_high_body(filter, blk, r, o, oc_n, k4, 0, 32767, TINYC_RQ16_RELU);
}

static TINYC_S16_BLOCK void tinyc_block_full_s16(const int8_t *filter, const int16_t *blk,
                                                 const tinyc_rq16 *r, int16_t *o, int32_t oc_n,
                                                 int32_t k4)
{
    tinyc_block_high_body(filter, blk, r, o, oc_n, k4, -32768, 32767, TINYC_RQ16_FULL);
}

static TINYC_S16_BLOCK void tinyc_block_any_s16(const int8_t *filter, const int16_t *blk,
                                                const tinyc_rq16 *r, int16_t *o, int32_t oc_n,
                                                int32_t k4, int32_t lo, int32_t hi)
{
    tinyc_block_high_body(filter, blk, r, o, oc_n, k4, lo, hi, TINYC_RQ16_ANY);
}

/* scratch: 4 * k4 int16 (the block), then 20 * out_c bytes (the channels' tinyc_rq16 rows,
 * acc32). */
TINYC_S16_ALIGN void tinyc_conv2d_fast_s16(const tinyc_conv_fast_params *params,
                           const tinyc_per_channel_quant_params *quant,
                           const int16_t *input, const int8_t *filter, const int64_t *bias,
                           int32_t acc32, int16_t *scratch, int16_t *output)
{
    const tinyc_conv_fast_params p = *params;
    const int32_t oc_n = p.output.c;
    const int32_t npix = p.output.h * p.output.w;
    const int32_t image_size = p.input.h * p.input.w * p.input.c;
    const int32_t pointwise = p.kernel.h == 1 && p.kernel.w == 1 && p.stride.h == 1
                              && p.stride.w == 1 && p.padding.h == 0 && p.padding.w == 0
                              && (p.input.c & 3) == 0 && p.input.h == p.output.h
                              && p.input.w == p.output.w;
    const int32_t lo = p.activation.min;
    const int32_t hi = p.activation.max;
    tinyc_rq16 *rqt = (tinyc_rq16 *)(void *)(scratch + TINYC_COLS16 * p.k4);
    int32_t b;
    int32_t pix;
    int32_t col;
    int32_t oc;
    int32_t high = 0;
    if (acc32) {
        high = tinyc_rq16_table(rqt, bias, quant, oc_n);
    }
    for (b = 0; b < p.output.n; ++b) {
        const int16_t *image = input + b * image_size;
        int16_t *out = output + b * npix * oc_n;
        for (pix = 0; pix < npix; pix += TINYC_COLS16) {
            const int32_t n = npix - pix < TINYC_COLS16 ? npix - pix : TINYC_COLS16;
            int16_t *o = out + pix * oc_n;
            for (col = 0; col < TINYC_COLS16; ++col) {
                const int32_t q = pix + (col < n ? col : n - 1);
                if (pointwise) {
                    tinyc_copy_s16(image + q * p.input.c, scratch, col, p.input.c);
                } else {
                    tinyc_im2col_s16(&p, image, scratch, col, q / p.output.w, q % p.output.w);
                }
            }
            if (high && n == TINYC_COLS16) {
                if (lo == 0 && hi == 32767) {
                    tinyc_block_relu_s16(filter, scratch, rqt, o, oc_n, p.k4);
                } else if (lo == -32768 && hi == 32767) {
                    tinyc_block_full_s16(filter, scratch, rqt, o, oc_n, p.k4);
                } else {
                    tinyc_block_any_s16(filter, scratch, rqt, o, oc_n, p.k4, lo, hi);
                }
                continue;
            }
            for (oc = 0; oc < oc_n; ++oc) {
                tinyc_acc4_s16 a;
                a.a0 = 0;
                a.a1 = 0;
                a.a2 = 0;
                a.a3 = 0;
                tinyc_gemm4_s16(&a, filter + oc * p.k4, scratch, p.k4);
                if (high) {
                    const int32_t bo = rqt[oc].bias;
                    const int32_t rm = rqt[oc].reduced;
                    int16_t *po = o + oc;
                    *po = tinyc_rq16_high(a.a0, bo, rm, lo, hi);
                    if (n == TINYC_COLS16) {
                        po[oc_n] = tinyc_rq16_high(a.a1, bo, rm, lo, hi);
                        po[2 * oc_n] = tinyc_rq16_high(a.a2, bo, rm, lo, hi);
                        po[3 * oc_n] = tinyc_rq16_high(a.a3, bo, rm, lo, hi);
                        continue;
                    }
                    if (n > 1) {
                        po[oc_n] = tinyc_rq16_high(a.a1, bo, rm, lo, hi);
                    }
                    if (n > 2) {
                        po[2 * oc_n] = tinyc_rq16_high(a.a2, bo, rm, lo, hi);
                    }
                    continue;
                }
                if (acc32) {
                    const tinyc_rq16 r = rqt[oc];
                    int16_t *po = o + oc;
                    *po = tinyc_rq16_apply(a.a0, &r, lo, hi);
                    if (n == TINYC_COLS16) {
                        po[oc_n] = tinyc_rq16_apply(a.a1, &r, lo, hi);
                        po[2 * oc_n] = tinyc_rq16_apply(a.a2, &r, lo, hi);
                        po[3 * oc_n] = tinyc_rq16_apply(a.a3, &r, lo, hi);
                        continue;
                    }
                    if (n > 1) {
                        po[oc_n] = tinyc_rq16_apply(a.a1, &r, lo, hi);
                    }
                    if (n > 2) {
                        po[2 * oc_n] = tinyc_rq16_apply(a.a2, &r, lo, hi);
                    }
                    continue;
                }
                o[oc] = tinyc_requant_out_s16(a.a0, bias, quant, oc, &p.activation);
                if (n > 1) {
                    o[oc_n + oc] = tinyc_requant_out_s16(a.a1, bias, quant, oc, &p.activation);
                }
                if (n > 2) {
                    o[2 * oc_n + oc] = tinyc_requant_out_s16(a.a2, bias, quant, oc,
                                                             &p.activation);
                }
                if (n > 3) {
                    o[3 * oc_n + oc] = tinyc_requant_out_s16(a.a3, bias, quant, oc,
                                                             &p.activation);
                }
            }
        }
    }
}
