/*
 * tinyc_fully_connected_fast_s8.c - int8 fully connected: the input row is widened once to
 * int16 with the offset added (scratch), then four output channels at a time share each
 * 64-bit load of it; their weights were interleaved at compile time so that one pass reads
 * them in order (two 64-bit loads per group of four k), widened with SXTB16, summed with SMLAD.
 */
#include "tinyc_fast.h"

static void tinyc_fc_widen(const int8_t *x, int32_t depth, int32_t k4, int32_t offset,
                           int16_t *xs)
{
    int32_t i = 0;
#if defined(TINYC_FAST_DSP)
    const int32_t off2 = (int32_t)(((uint32_t)offset & 0xFFFFu) * 0x10001u);
    tinyc_u32a *dst = (tinyc_u32a *)(void *)xs;
    for (; i + 4 <= depth; i += 4) {
        const uint32_t v = tinyc_ld4(x + i);
        dst[0] = (uint32_t)__sxtab16(off2, v);
        dst[1] = (uint32_t)tinyc_sxtab16_ror8(off2, v);
        dst += 2;
    }
#endif
    for (; i < k4; ++i) {
        xs[(i & ~3) + TINYC_LANE(i & 3)] = (int16_t)(i < depth ? x[i] + offset : 0);
    }
}

#if defined(TINYC_FAST_DSP)
#define TINYC_FC_MAC(a, wv)                                                                \
    "sxtb16 %[t], " wv "\n\t"                                                              \
    "smlad " a ", %[t], %[xe], " a "\n\t"                                                  \
    "sxtb16 %[t], " wv ", ror #8\n\t"                                                      \
    "smlad " a ", %[t], %[xo], " a "\n\t"

/* One group of four k of four channels: 19 instructions, 16 MACs. */
#define TINYC_FC_GROUP                                                                     \
    __asm__("ldrd %[xe], %[xo], [%[x]], #8\n\t"                                            \
            "ldrd %[w0], %[w1], [%[w]], #16\n\t"                                           \
            TINYC_FC_MAC("%[a0]", "%[w0]")                                                 \
            TINYC_FC_MAC("%[a1]", "%[w1]")                                                 \
            "ldrd %[w0], %[w1], [%[w], #-8]\n\t"                                           \
            TINYC_FC_MAC("%[a2]", "%[w0]")                                                 \
            TINYC_FC_MAC("%[a3]", "%[w1]")                                                 \
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(w),      \
              [x] "+r"(x), [xe] "=&r"(xe), [xo] "=&r"(xo), [w0] "=&r"(w0), [w1] "=&r"(w1),  \
              [t] "=&r"(t)                                                                 \
            : "m"(*(const int8_t(*)[16])w), "m"(*(const int16_t(*)[4])x))
#endif

/* acc[0..3] += four interleaved weight rows . xs over k4 values. */
static inline void tinyc_fc_block(const int8_t *w, const int16_t *xs, int32_t k4,
                                  int32_t acc[4])
{
#if defined(TINYC_FAST_DSP)
    const int16_t *x = xs;
    int32_t a0 = acc[0];
    int32_t a1 = acc[1];
    int32_t a2 = acc[2];
    int32_t a3 = acc[3];
    int32_t g = k4 >> 2;
    int32_t xe;
    int32_t xo;
    int32_t w0;
    int32_t w1;
    int32_t t;
    for (; g >= 4; g -= 4) {
        TINYC_FC_GROUP;
        TINYC_FC_GROUP;
        TINYC_FC_GROUP;
        TINYC_FC_GROUP;
    }
    for (; g > 0; --g) {
        TINYC_FC_GROUP;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
#else
    int32_t g;
    int32_t j;
    for (g = 0; g < k4; g += 4, w += 16) {
        for (j = 0; j < 4; ++j) {
            const int32_t xj = xs[g + j];
            acc[0] += xj * w[j];
            acc[1] += xj * w[4 + j];
            acc[2] += xj * w[8 + j];
            acc[3] += xj * w[12 + j];
        }
    }
#endif
}

void tinyc_fully_connected_fast_s8(const tinyc_fc_fast_params *params, const tinyc_rq *rq,
                                   const int8_t *input, const int8_t *filter,
                                   const int32_t *bias, int16_t *scratch, int8_t *output)
{
    const tinyc_fc_fast_params p = *params;
    int32_t b;
    int32_t oc;
    int32_t i;
    for (b = 0; b < p.batches; ++b, input += p.depth, output += p.out_c) {
        const int8_t *w = filter;
        tinyc_fc_widen(input, p.depth, p.k4, p.input_offset, scratch);
        for (oc = 0; oc < p.out_c; oc += 4, w += 4 * p.k4) {
            int32_t acc[4];
            const int32_t n = p.out_c - oc < 4 ? p.out_c - oc : 4;
            acc[0] = bias[oc];
            acc[1] = bias[oc + 1];
            acc[2] = bias[oc + 2];
            acc[3] = bias[oc + 3];
            tinyc_fc_block(w, scratch, p.k4, acc);
            if (n == 4) {
                const tinyc_rq *r = rq + oc;
                tinyc_rq4_chans(acc[0], acc[1], acc[2], acc[3], &r, output + oc,
                                p.output_offset);
                continue;
            }
            for (i = 0; i < n; ++i) {
                output[oc + i] = (int8_t)tinyc_rq_apply(acc[i], rq + oc + i, p.output_offset);
            }
        }
    }
    tinyc_fast_activation(&p.activation, output - p.batches * p.out_c, p.batches * p.out_c);
}
