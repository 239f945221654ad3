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
#include "tinyc_dsp.h"
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
    x = tinyc_ssat16(x) + r->offset;
    x = x < r->lo ? r->lo : x;
    return (int8_t)(x > r->hi ? r->hi : x);
}

#endif

/* A conv2d's tinyc_pk_cols, once per call (the portable path does not use them). */
void tinyc_pk_cols_init(tinyc_pk_cols *cols, const tinyc_conv_params *p,
                        const tinyc_dims *in_dims, const tinyc_dims *f_dims,
                        const tinyc_dims *out_dims);

/* Output channel oc of a conv2d, its filter w unpacked to int8 (output: the channel's first
 * value; bias: the channel's): the window sums at every output pixel, requantized.  On the
 * DSP (tinyc_packed.c) blocks of four or two output pixels inside cols share each word of
 * weights; a channel with a negative multiplier and the portable path go pixel by pixel. */
void tinyc_pk_conv_channel(const tinyc_conv_params *p,
                           const tinyc_per_channel_quant_params *quant, int32_t oc,
                           int32_t bias, const tinyc_dims *in_dims, const int8_t *input,
                           const tinyc_dims *f_dims, const int8_t *w,
                           const tinyc_dims *out_dims, const tinyc_pk_cols *cols,
                           int8_t *output);

/* ---- the kernels (same argument order as tinyc_nn.h; the filter is the packed form) ----
 * conv2d s4 / cb / mask and depthwise s4 / cb take, before the output (as every kernel does),
 * an arena scratch buffer (never NULL) of one unpacked filter row (conv2d: kh * kw * in_c
 * bytes) or of the whole unpacked filter (depthwise); their _unbuffered twins need none and
 * unpack every weight where it is used (slower, same bits). */

void tinyc_conv2d_s4(const tinyc_conv_params *params,
                     const tinyc_per_channel_quant_params *quant,
                     const tinyc_dims *input_dims, const int8_t *input,
                     const tinyc_dims *filter_dims, const uint8_t *filter,
                     const int32_t *bias, const int16_t *bias16,
                     const tinyc_dims *output_dims, int8_t *scratch, int8_t *output);
void tinyc_conv2d_cb(const tinyc_conv_params *params,
                     const tinyc_per_channel_quant_params *quant,
                     const tinyc_dims *input_dims, const int8_t *input,
                     const tinyc_dims *filter_dims, const int8_t *codebook,
                     const uint8_t *indices, int32_t bits,
                     const int32_t *bias, const int16_t *bias16,
                     const tinyc_dims *output_dims, int8_t *scratch, int8_t *output);
void tinyc_conv2d_sparse(const tinyc_conv_params *params,
                         const tinyc_per_channel_quant_params *quant,
                         const tinyc_dims *input_dims, const int8_t *input,
                         const tinyc_dims *filter_dims, const uint16_t *count,
                         const uint8_t *skip, const int8_t *value,
                         const int32_t *bias, const int16_t *bias16,
                         const tinyc_dims *output_dims, int8_t *output);
void tinyc_depthwise_conv2d_s4(const tinyc_dw_conv_params *params,
                               const tinyc_per_channel_quant_params *quant,
                               const tinyc_dims *input_dims, const int8_t *input,
                               const tinyc_dims *filter_dims, const uint8_t *filter,
                               const int32_t *bias, const int16_t *bias16,
                               const tinyc_dims *output_dims, int8_t *scratch, int8_t *output);
void tinyc_depthwise_conv2d_cb(const tinyc_dw_conv_params *params,
                               const tinyc_per_channel_quant_params *quant,
                               const tinyc_dims *input_dims, const int8_t *input,
                               const tinyc_dims *filter_dims, const int8_t *codebook,
                               const uint8_t *indices, int32_t bits,
                               const int32_t *bias, const int16_t *bias16,
                               const tinyc_dims *output_dims, int8_t *scratch, int8_t *output);
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
void tinyc_conv2d_mask(const tinyc_conv_params *params,
                       const tinyc_per_channel_quant_params *quant,
                       const tinyc_dims *input_dims, const int8_t *input,
                       const tinyc_dims *filter_dims, const uint8_t *mask,
                       const int8_t *value, const int32_t *bias, const int16_t *bias16,
                       const tinyc_dims *output_dims, int8_t *scratch, int8_t *output);
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
                                const int32_t *bias, const int16_t *bias16,
                                const tinyc_dims *output_dims, int8_t *output);
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
                                          const int32_t *bias, const int16_t *bias16,
                                          const tinyc_dims *output_dims, int8_t *output);
void tinyc_depthwise_conv2d_cb_unbuffered(const tinyc_dw_conv_params *params,
                                          const tinyc_per_channel_quant_params *quant,
                                          const tinyc_dims *input_dims, const int8_t *input,
                                          const tinyc_dims *filter_dims, const int8_t *codebook,
                                          const uint8_t *indices, int32_t bits,
                                          const int32_t *bias, const int16_t *bias16,
                                          const tinyc_dims *output_dims, int8_t *output);

/* ---- the fast path of s4 / cb / mask (tinyc_packed_fast.h): decode into the dense fast
 * kernels' layout in arena scratch, then their loops ------------------------------------- */
#define TINYC_PK_S4 0
#define TINYC_PK_CB 1
#define TINYC_PK_MASK 2

/* A packed filter as a stream in its dense order: bits = s4 bytes, cb indices or the mask;
 * values = the cb codebook or the mask's nonzero values (s4: NULL); index_bits: cb. */
typedef struct {
    int32_t format;
    const uint8_t *bits;
    const int8_t *values;
    int32_t index_bits;
} tinyc_pk_weights;

typedef struct {
    uint32_t pos;                /* element index */
    const int8_t *value;         /* mask: the next nonzero value */
} tinyc_pk_cursor;

/* conv2d: blocks of `block` output channels (even, or all): scratch 12 * k4 + ceil4(6 block)
 * (the dense kernel's) + ceil2(block) * k4 (a block's filter) + k4 (one row) + 4 * out_c + 4
 * (the bias widened from bias16). */
void tinyc_conv2d_packed_fast(const tinyc_conv_fast_params *params, const tinyc_rq *rq,
                              const int8_t *input, const tinyc_pk_weights *weights,
                              const int32_t *bias, const int16_t *bias16, int32_t block,
                              int16_t *scratch, int8_t *output);
/* depthwise (channel multiplier 1, channels % 4 == 0): scratch 2 * taps * c (the filter,
 * int16) + 8 * c (the two biases of the dense kernel) + c (one tap's weights). */
void tinyc_depthwise_conv2d_packed_fast(const tinyc_dw_fast_params *params, const tinyc_rq *rq,
                                        const int8_t *input, const tinyc_pk_weights *weights,
                                        const int32_t *bias, const int16_t *bias16,
                                        int16_t *scratch, int8_t *output);

#endif /* TINYC_PACKED_H */
