/*
 * tinyc_packed.h - compressed weight formats of the conv2d / depthwise_conv2d /
 * fully_connected kernels (tinyc_*_s4.c, tinyc_*_cb.c, tinyc_*_sparse.c, tinyc_*_mask.c).
 *
 * The weights are the same int8 values as in the dense layout (OHWI, 1HWC, [out, in]); only
 * their storage differs, so every kernel gives exactly the bits of its dense twin.
 *   s4      two int4 values per byte, element i in byte i / 2, the low nibble first
 *           (as CMSIS-NN's s4 kernels); values in [-8, 7].
 *   cb      codebook[K] (int8) and one `bits`-bit index per element, a little-endian bit
 *           stream (element i starts at bit i * bits), followed by one padding byte.
 *   sparse  per output channel oc, count[oc] entries (skip, value): skip zeros, then value.
 *           Entries walk the channel's filter in its dense order; a gap of more than 255
 *           zeros is bridged by an entry with value 0.
 *   mask    a bitmask of the nonzero elements (element i is bit i % 8 of byte i / 8, over
 *           the whole filter in its dense order) and the nonzero values in that order.
 * The bias of every packed kernel is `bias` (int32) or, when each value fits, `bias16`
 * (int16, widened where it is read); at most one is not NULL.
 */
#ifndef TINYC_PACKED_H
#define TINYC_PACKED_H

#include <stdint.h>

#include "tinyc_dot.h"
#include "tinyc_nn.h"
#include "tinyc_requant.h"
#include "tinyc_window.h"

/* A cb filter inside the kernels. */
typedef struct {
    const int8_t *codebook;
    const uint8_t *indices;
    int32_t bits;
} tinyc_cb_weights;

/* The bias of output channel c: bias[c], bias16[c] or 0. */
static inline int32_t tinyc_bias_at(const int32_t *bias, const int16_t *bias16, int32_t c)
{
    if (bias != 0) {
        return bias[c];
    }
    return bias16 != 0 ? (int32_t)bias16[c] : 0;
}

/* An int32 bias for a dense kernel: bias, or bias16 widened into space (n channels; space
 * has 4 * n + 3 bytes, the array starts at its first 4-byte boundary). */
static inline const int32_t *tinyc_bias32(int8_t *space, const int32_t *bias,
                                          const int16_t *bias16, int32_t n)
{
    int32_t *out;
    int32_t c;
    if (bias16 == 0) {
        return bias;
    }
    out = (int32_t *)(void *)(space + ((4u - ((uintptr_t)space & 3u)) & 3u));
    for (c = 0; c < n; ++c) {
        out[c] = (int32_t)bias16[c];
    }
    return out;
}

/* 1 if element `bit` of a mask-format filter is nonzero, else 0. */
static inline uint32_t tinyc_mask_bit(const uint8_t *mask, uint32_t bit)
{
    return ((uint32_t)mask[bit >> 3] >> (bit & 7u)) & 1u;
}

/* n elements of a mask-format filter, from element start, as int8; *value points at the
 * first nonzero value at or after element start and is moved past the ones read. */
static inline void tinyc_mask_unpack(const uint8_t *mask, const int8_t **value, int32_t start,
                                     int32_t n, int8_t *out)
{
    uint32_t bit = (uint32_t)start;
    int32_t i;
    for (i = 0; i < n; ++i, ++bit) {
        out[i] = tinyc_mask_bit(mask, bit) ? *(*value)++ : (int8_t)0;
    }
}

/* The sum of n sparse entries from entry k, (skip, value), over one input vector x: the
 * entries walk x from its start (fully connected, 1x1 conv2d). */
static inline int32_t tinyc_sparse_dot(const int8_t *x, const uint8_t *skip, const int8_t *value,
                                       int32_t k, int32_t n, int32_t x_offset)
{
    int32_t acc = 0;
    int32_t j;
    for (j = 0; j < n; ++j) {
        x += skip[k + j];
        acc += ((int32_t)*x++ + x_offset) * (int32_t)value[k + j];
    }
    return acc;
}

/* The int4 value in the low four bits of n. */
static inline int32_t tinyc_s4_nibble(uint32_t n)
{
    return (int32_t)((n & 15u) ^ 8u) - 8;
}

/* The int4 element i of an s4 array. */
static inline int32_t tinyc_s4_at(const uint8_t *w, int32_t i)
{
    const uint32_t b = w[i >> 1];
    return tinyc_s4_nibble((i & 1) ? (b >> 4) : b);
}

/* sum_{i < len} (x[i] + x_offset) * w4[start + i] */
static inline int32_t tinyc_s4_dot(const int8_t *x, const uint8_t *w, int32_t start,
                                   int32_t len, int32_t x_offset)
{
    int32_t acc = 0;
    int32_t i = 0;
    const uint8_t *p;
    if (len > 0 && (start & 1)) {
        acc += ((int32_t)x[0] + x_offset) * tinyc_s4_at(w, start);
        i = 1;
    }
    p = w + ((start + i) >> 1);
    for (; i + 1 < len; i += 2) {
        const uint32_t b = *p++;
        acc += ((int32_t)x[i] + x_offset) * tinyc_s4_nibble(b);
        acc += ((int32_t)x[i + 1] + x_offset) * tinyc_s4_nibble(b >> 4);
    }
    if (i < len) {
        acc += ((int32_t)x[i] + x_offset) * tinyc_s4_nibble(*p);
    }
    return acc;
}

/* The codebook index of element i of a cb index stream. */
static inline uint32_t tinyc_cb_index(const uint8_t *idx, int32_t bits, uint32_t bit)
{
    const uint32_t two = (uint32_t)idx[bit >> 3] | ((uint32_t)idx[(bit >> 3) + 1u] << 8);
    return (two >> (bit & 7u)) & ((1u << bits) - 1u);
}

static inline int32_t tinyc_cb_at(const int8_t *codebook, const uint8_t *idx, int32_t bits,
                                  int32_t i)
{
    return codebook[tinyc_cb_index(idx, bits, (uint32_t)i * (uint32_t)bits)];
}

/* sum_{i < len} (x[i] + x_offset) * codebook[index[start + i]] */
static inline int32_t tinyc_cb_dot(const int8_t *x, const int8_t *codebook, const uint8_t *idx,
                                   int32_t bits, int32_t start, int32_t len, int32_t x_offset)
{
    int32_t acc = 0;
    int32_t i;
    uint32_t bit = (uint32_t)start * (uint32_t)bits;
    for (i = 0; i < len; ++i, bit += (uint32_t)bits) {
        acc += ((int32_t)x[i] + x_offset) * (int32_t)codebook[tinyc_cb_index(idx, bits, bit)];
    }
    return acc;
}

/* n elements from element start of an s4 array, as int8. */
static inline void tinyc_s4_unpack(const uint8_t *w, int32_t start, int32_t n, int8_t *out)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        out[i] = (int8_t)tinyc_s4_at(w, start + i);
    }
}

/* n elements from element start of a cb index stream, as int8. */
static inline void tinyc_cb_unpack(const int8_t *codebook, const uint8_t *idx, int32_t bits,
                                   int32_t start, int32_t n, int8_t *out)
{
    uint32_t bit = (uint32_t)start * (uint32_t)bits;
    int32_t i;
    for (i = 0; i < n; ++i, bit += (uint32_t)bits) {
        out[i] = codebook[tinyc_cb_index(idx, bits, bit)];
    }
}

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

/* ---- DSP paths (Cortex-M4/M7/M33/M55: TINYC_DSP, tinyc_nn.h) --------------------------------
 * Same bits as the portable kernels: the sums are the same exact int32 sums (|term| < 2^16),
 * and tinyc_pk_requant is tinyc_requantize for multipliers >= 0 (every multiplier a TFLite
 * model has; a channel with a negative one takes the portable path). */
#if defined(TINYC_DSP)
#define TINYC_PACKED_DSP 1
#endif

/* The output columns [lo, hi) of a conv2d whose windows have every column inside the input
 * (the DSP path runs them four at a time). */
typedef struct {
    int32_t lo;
    int32_t hi;
} tinyc_pk_cols;

#if defined(TINYC_PACKED_DSP)

/* GCC 12 does not fold a rotate into SXTB16/SXTAB16: one instruction each, by hand. */
static inline int32_t tinyc_pk_sxtb16_ror8(uint32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

static inline int32_t tinyc_pk_sxtab16_ror8(int32_t a, uint32_t x)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}

/* x saturated to [-32768, 32767] (the ACLE __ssat macro trips -Wconversion in GCC 12). */
static inline int32_t tinyc_pk_ssat16(int32_t x)
{
    int32_t r;
    __asm__("ssat %0, #16, %1" : "=r"(r) : "r"(x));
    return r;
}

/* One channel's requantization, split for the pixel loop: multiplier m >= 0, left shift,
 * right shift - 1 (-1: none). */
typedef struct {
    int32_t m;
    int32_t left;
    int32_t em1;
    int32_t offset;
    int32_t lo;
    int32_t hi;
} tinyc_pk_rq;

static inline void tinyc_pk_rq_init(tinyc_pk_rq *r, int32_t m, int32_t shift, int32_t offset,
                                    const tinyc_activation *act)
{
    r->m = m;
    r->left = shift > 0 ? shift : 0;
    r->em1 = shift > 0 ? -1 : -shift - 1;
    r->offset = offset;
    r->lo = act->min;
    r->hi = act->max;
}

/* tinyc_clamp_s8(tinyc_requantize(acc, m, shift), offset, lo, hi) for m >= 0:
 * srdhm(a, m) = floor((a m + 2^30) / 2^31) (no saturation: a m > -2^62 + 2^31), in
 * [-2^31 + 1, 2^31 - 2]; then with y = x - [x < 0], rdbpot(x, e) = floor((floor(y / 2^(e-1))
 * + 1) / 2) (round half away from zero, no overflow). */
static inline int8_t tinyc_pk_requant(int32_t acc, const tinyc_pk_rq *r)
{
    const int32_t a = tinyc_s32((uint32_t)acc << r->left);
    const int64_t ab = (int64_t)a * r->m + INT64_C(0x40000000);
    int32_t x = tinyc_s32((uint32_t)((uint64_t)ab >> 31));
    if (r->em1 >= 0) {
        x = tinyc_asr(tinyc_asr(x - (x < 0), r->em1) + 1, 1);
    }
    x = tinyc_pk_ssat16(x) + r->offset;
    x = x < r->lo ? r->lo : x;
    return (int8_t)(x > r->hi ? r->hi : x);
}

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
#define TINYC_PK_LOOP static __attribute__((noinline, unused))

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
TINYC_PK_LOOP void tinyc_pk_win4(const tinyc_pk_win *d, int32_t acc[4])
{
    const int32_t off = d->offset;
    const int32_t off2 = tinyc_s32(((uint32_t)off & 0xFFFFu) * 0x10001u);
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
TINYC_PK_LOOP void tinyc_pk_win2(const tinyc_pk_win *d, int32_t acc[4])
{
    const int32_t off = d->offset;
    const int32_t off2 = tinyc_s32(((uint32_t)off & 0xFFFFu) * 0x10001u);
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
                const int32_t w13 = tinyc_pk_sxtb16_ror8(wv);
                uint32_t v = tinyc_load4(x + i);
                a0 = __smlad(__sxtab16(off2, tinyc_s32(v)), w02, a0);
                a0 = __smlad(tinyc_pk_sxtab16_ror8(off2, v), w13, a0);
                v = tinyc_load4(x + step + i);
                a1 = __smlad(__sxtab16(off2, tinyc_s32(v)), w02, a1);
                a1 = __smlad(tinyc_pk_sxtab16_ror8(off2, v), w13, a1);
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
TINYC_PK_LOOP int32_t tinyc_pk_win1(const tinyc_pk_win *d)
{
    const int32_t off = d->offset;
    const int32_t off2 = tinyc_s32(((uint32_t)off & 0xFFFFu) * 0x10001u);
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
                acc = __smlad(tinyc_pk_sxtab16_ror8(off2, v), tinyc_pk_sxtb16_ror8(wv), acc);
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
static inline void tinyc_pk_cols_init(tinyc_pk_cols *cols, const tinyc_conv_params *p,
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
static inline void tinyc_pk_conv_channel(const tinyc_conv_params *p,
                                         const tinyc_per_channel_quant_params *quant,
                                         int32_t oc, int32_t bias, const tinyc_dims *in_dims,
                                         const int8_t *input, const tinyc_dims *f_dims,
                                         const int8_t *w, const tinyc_dims *out_dims,
                                         const tinyc_pk_cols *cols, int8_t *output)
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

/* ---- the kernels (same argument order as tinyc_nn.h; the filter is the packed form) ----
 * conv2d and depthwise s4 / cb take an arena scratch buffer (never NULL) of one unpacked
 * filter row (conv2d: kh * kw * in_c bytes) or of the whole unpacked filter (depthwise);
 * their _unbuffered twins need none and unpack every weight where it is used (slower, same
 * bits). */

void tinyc_conv2d_s4(int8_t *scratch, const tinyc_conv_params *params,
                     const tinyc_per_channel_quant_params *quant,
                     const tinyc_dims *input_dims, const int8_t *input,
                     const tinyc_dims *filter_dims, const uint8_t *filter,
                     const int32_t *bias, const int16_t *bias16,
                     const tinyc_dims *output_dims, int8_t *output);
void tinyc_conv2d_cb(int8_t *scratch, const tinyc_conv_params *params,
                     const tinyc_per_channel_quant_params *quant,
                     const tinyc_dims *input_dims, const int8_t *input,
                     const tinyc_dims *filter_dims, const int8_t *codebook,
                     const uint8_t *indices, int32_t bits,
                     const int32_t *bias, const int16_t *bias16,
                     const tinyc_dims *output_dims, int8_t *output);
void tinyc_conv2d_sparse(const tinyc_conv_params *params,
                         const tinyc_per_channel_quant_params *quant,
                         const tinyc_dims *input_dims, const int8_t *input,
                         const tinyc_dims *filter_dims, const uint16_t *count,
                         const uint8_t *skip, const int8_t *value,
                         const int32_t *bias, const int16_t *bias16,
                         const tinyc_dims *output_dims, int8_t *output);
void tinyc_depthwise_conv2d_s4(int8_t *scratch, const tinyc_dw_conv_params *params,
                               const tinyc_per_channel_quant_params *quant,
                               const tinyc_dims *input_dims, const int8_t *input,
                               const tinyc_dims *filter_dims, const uint8_t *filter,
                               const int32_t *bias, const int16_t *bias16,
                               const tinyc_dims *output_dims, int8_t *output);
void tinyc_depthwise_conv2d_cb(int8_t *scratch, const tinyc_dw_conv_params *params,
                               const tinyc_per_channel_quant_params *quant,
                               const tinyc_dims *input_dims, const int8_t *input,
                               const tinyc_dims *filter_dims, const int8_t *codebook,
                               const uint8_t *indices, int32_t bits,
                               const int32_t *bias, const int16_t *bias16,
                               const tinyc_dims *output_dims, int8_t *output);
void tinyc_fully_connected_s4(const tinyc_fc_params *params,
                              const tinyc_per_channel_quant_params *quant,
                              const tinyc_dims *input_dims, const int8_t *input,
                              const tinyc_dims *filter_dims, const uint8_t *filter,
                              const int32_t *bias, const int16_t *bias16,
                              const tinyc_dims *output_dims, int8_t *output);
void tinyc_fully_connected_cb(const tinyc_fc_params *params,
                              const tinyc_per_channel_quant_params *quant,
                              const tinyc_dims *input_dims, const int8_t *input,
                              const tinyc_dims *filter_dims, const int8_t *codebook,
                              const uint8_t *indices, int32_t bits,
                              const int32_t *bias, const int16_t *bias16,
                              const tinyc_dims *output_dims, int8_t *output);
void tinyc_fully_connected_sparse(const tinyc_fc_params *params,
                                  const tinyc_per_channel_quant_params *quant,
                                  const tinyc_dims *input_dims, const int8_t *input,
                                  const tinyc_dims *filter_dims, const uint16_t *count,
                                  const uint8_t *skip, const int8_t *value,
                                  const int32_t *bias, const int16_t *bias16,
                                  const tinyc_dims *output_dims, int8_t *output);
void tinyc_conv2d_mask(int8_t *scratch, const tinyc_conv_params *params,
                       const tinyc_per_channel_quant_params *quant,
                       const tinyc_dims *input_dims, const int8_t *input,
                       const tinyc_dims *filter_dims, const uint8_t *mask,
                       const int8_t *value, const int32_t *bias, const int16_t *bias16,
                       const tinyc_dims *output_dims, int8_t *output);
void tinyc_conv2d_mask_unbuffered(const tinyc_conv_params *params,
                                  const tinyc_per_channel_quant_params *quant,
                                  const tinyc_dims *input_dims, const int8_t *input,
                                  const tinyc_dims *filter_dims, const uint8_t *mask,
                                  const int8_t *value, const int32_t *bias,
                                  const int16_t *bias16, const tinyc_dims *output_dims,
                                  int8_t *output);
void tinyc_fully_connected_mask(const tinyc_fc_params *params,
                                const tinyc_per_channel_quant_params *quant,
                                const tinyc_dims *input_dims, const int8_t *input,
                                const tinyc_dims *filter_dims, const uint8_t *mask,
                                const int8_t *value, const int32_t *bias,
                                const int16_t *bias16, const tinyc_dims *output_dims,
                                int8_t *output);

void tinyc_conv2d_s4_unbuffered(const tinyc_conv_params *params,
                                const tinyc_per_channel_quant_params *quant,
                                const tinyc_dims *input_dims, const int8_t *input,
                                const tinyc_dims *filter_dims, const uint8_t *filter,

                                const int32_t *bias, const int16_t *bias16, const tinyc_dims *output_dims,
                                int8_t *output);
void tinyc_conv2d_cb_unbuffered(const tinyc_conv_params *params,
                                const tinyc_per_channel_quant_params *quant,
                                const tinyc_dims *input_dims, const int8_t *input,
                                const tinyc_dims *filter_dims, const int8_t *codebook,
                                const uint8_t *indices, int32_t bits,
                                const int32_t *bias, const int16_t *bias16,
                                const tinyc_dims *output_dims, int8_t *output);
void tinyc_depthwise_conv2d_s4_unbuffered(const tinyc_dw_conv_params *params,
                                          const tinyc_per_channel_quant_params *quant,
                                          const tinyc_dims *input_dims, const int8_t *input,
                                          const tinyc_dims *filter_dims, const uint8_t *filter,

                                          const int32_t *bias, const int16_t *bias16, const tinyc_dims *output_dims,
                                          int8_t *output);
void tinyc_depthwise_conv2d_cb_unbuffered(const tinyc_dw_conv_params *params,
                                          const tinyc_per_channel_quant_params *quant,
                                          const tinyc_dims *input_dims, const int8_t *input,
                                          const tinyc_dims *filter_dims, const int8_t *codebook,
                                          const uint8_t *indices, int32_t bits,

                                          const int32_t *bias, const int16_t *bias16, const tinyc_dims *output_dims,
                                          int8_t *output);

#endif /* TINYC_PACKED_H */
