/*
 * tinyc_fully_connected_s4.c - int8 fully connected layer with int4 weights packed two per
 * byte (tinyc_packed.h "s4"); otherwise exactly tinyc_fully_connected_s8.
 *
 * DSP path (TINYC_PACKED_DSP): two output channels share each widened group of eight inputs;
 * a word of weights (eight int4) becomes four pairs of int16 lanes with one AND each (the
 * nibbles j and j + 4 at the top of the lanes: the weights times 2^12), so 8 MACs cost a
 * load, four ANDs and four SMLAD per channel; the sums are scaled back every 256 inputs
 * (exact: |sum| < 256 * 255 * 2^15 < 2^31 before the shift, a multiple of 2^12).
 */
#include "tinyc_packed.h"
#include "tinyc_requant.h"

#if defined(TINYC_PACKED_DSP)
/* {lo half of a, lo half of b} and {hi half of b, hi half of a} as int16 lanes */
static inline uint32_t tinyc_fc_s4_pkhbt(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

static inline uint32_t tinyc_fc_s4_pkhtb(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* acc[k] += sum_{i < 8 n8} (x[i] + x_offset) * (int4 element i of row k), rows w0 and w1
 * (byte-aligned; w1 == w0 for one row). */
static __attribute__((noinline)) void tinyc_fc_s4_dot2(const int8_t *x, const uint8_t *w0,
                                                       const uint8_t *w1, int32_t n8,
                                                       int32_t x_offset, int32_t acc[2])
{
    const int32_t off2 = tinyc_offset2(x_offset);
    const uint32_t top = 0xF000F000u;
    while (n8 > 0) {
        int32_t chunk = n8 < 32 ? n8 : 32;          /* 256 inputs: no overflow (above) */
        int32_t s0 = 0;
        int32_t s1 = 0;
        n8 -= chunk;
        for (; chunk > 0; --chunk, x += 8, w0 += 4, w1 += 4) {
            const uint32_t x0 = tinyc_load4(x);
            const uint32_t x1 = tinyc_load4(x + 4);
            const uint32_t p = tinyc_fc_s4_pkhbt(x0, x1);      /* x0 x1 x4 x5 */
            const uint32_t q = tinyc_fc_s4_pkhtb(x1, x0);      /* x2 x3 x6 x7 */
            const int32_t xa = __sxtab16(off2, tinyc_s32(p));  /* {x0, x4} */
            const int32_t xb = tinyc_sxtab16_ror8(off2, p); /* {x1, x5} */
            const int32_t xc = __sxtab16(off2, tinyc_s32(q));  /* {x2, x6} */
            const int32_t xd = tinyc_sxtab16_ror8(off2, q); /* {x3, x7} */
            uint32_t v = tinyc_load4((const int8_t *)(const void *)w0);
            s0 = __smlad(xa, tinyc_s32(top & (v << 12)), s0);
            s0 = __smlad(xb, tinyc_s32(top & (v << 8)), s0);
            s0 = __smlad(xc, tinyc_s32(top & (v << 4)), s0);
            s0 = __smlad(xd, tinyc_s32(top & v), s0);
            v = tinyc_load4((const int8_t *)(const void *)w1);
            s1 = __smlad(xa, tinyc_s32(top & (v << 12)), s1);
            s1 = __smlad(xb, tinyc_s32(top & (v << 8)), s1);
            s1 = __smlad(xc, tinyc_s32(top & (v << 4)), s1);
            s1 = __smlad(xd, tinyc_s32(top & v), s1);
        }
        acc[0] += tinyc_asr(s0, 12);
        acc[1] += tinyc_asr(s1, 12);
    }
}

/* The sums of output channels oc and oc + k1 (k1 = 1, or 0 for oc alone). */
static void tinyc_fc_s4_sums(const int8_t *x, const uint8_t *filter, int32_t depth, int32_t oc,
                             int32_t k1, int32_t x_offset, int32_t acc[2])
{
    const int32_t start = oc * depth;
    const int32_t head = start & 1;                 /* an odd start: one element first */
    const int32_t n8 = (depth - head) >> 3;
    const int32_t done = head + 8 * n8;
    acc[0] = 0;
    acc[1] = 0;
    if (head) {
        acc[0] = tinyc_s4_dot(x, filter, start, 1, x_offset);
    }
    tinyc_fc_s4_dot2(x + head, filter + ((start + head) >> 1),
                     filter + ((start + k1 * depth + head) >> 1), n8, x_offset, acc);
    acc[0] += tinyc_s4_dot(x + done, filter, start + done, depth - done, x_offset);
    acc[1] += tinyc_s4_dot(x + done, filter, start + k1 * depth + done, depth - done,
                           x_offset);
}
#endif

static int8_t tinyc_fc_s4_out(const tinyc_fc_params *params,
                              const tinyc_per_channel_quant_params *quant, int32_t oc,
                              int32_t acc, const int32_t *bias, const int16_t *bias16)
{
    return tinyc_requant_out_s8(acc, tinyc_bias_at(bias, bias16, oc), quant, oc,
                                params->output_offset, &params->activation);
}

void tinyc_fully_connected_s4(const tinyc_fc_params *params,
                              const tinyc_per_channel_quant_params *quant,
                              const tinyc_dims *input_dims, const int8_t *input,
                              const tinyc_dims *filter_dims, const uint8_t *filter,
                              const int32_t *bias, const int16_t *bias16,
                              const tinyc_dims *output_dims,
                              int8_t *output)
{
    const int32_t depth = input_dims->c;
    const int32_t out_c = filter_dims->n;
    int32_t b;
    int32_t oc;
    for (b = 0; b < output_dims->n; ++b) {
        oc = 0;
#if defined(TINYC_PACKED_DSP)
        for (; oc < out_c; ++oc) {
            int32_t acc[2];
            const int32_t pair = (depth & 1) == 0 && oc + 1 < out_c;   /* same alignment */
            tinyc_fc_s4_sums(input, filter, depth, oc, pair, params->input_offset, acc);
            output[oc] = tinyc_fc_s4_out(params, quant, oc, acc[0], bias, bias16);
            if (pair) {
                ++oc;
                output[oc] = tinyc_fc_s4_out(params, quant, oc, acc[1], bias, bias16);
            }
        }
#endif
        for (; oc < out_c; ++oc) {
            const int32_t acc = tinyc_s4_dot(input, filter, oc * depth, depth,
                                             params->input_offset);
            output[oc] = tinyc_fc_s4_out(params, quant, oc, acc, bias, bias16);
        }
        input += depth;
        output += out_c;
    }
}
