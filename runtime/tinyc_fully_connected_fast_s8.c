/*
 * tinyc_fully_connected_fast_s8.c - int8 fully connected, two kernels with int8 weights.
 *
 * Both widen the input row once to int16 (scratch), then four output channels at a time
 * share each 64-bit load of it; their weights were laid out at compile time so that one pass
 * reads them in order (backend_c/fast.py).
 *
 * tinyc_fully_connected_fast_s8: weights interleaved by 4 channels, the input offset added
 * while widening; per group of four k: 2 LDRD of weights, 4 x (2 SXTB16 + 2 SMLAD).
 *
 * tinyc_fully_connected_paired_fast_s8 ("pair-packed"): channels 2i and 2i+1 share int16 words
 * h = 256 * w[2i+1][k] + w[2i][k] (still one byte per weight).  One SMLAD of h with the
 * input gives A = 256 * S1 + S0, SXTB16 of h gives the low bytes w[2i][k], whose SMLAD gives
 * S0, and S1 = (A - S0) / 256 exactly when |S1| < 2^23 (checked at compile time; the sums
 * wrap modulo 2^32 on the way, their differences do not).  The input offset is folded into
 * the bias at compile time, so the input is widened as it is.  Per group of four k of four
 * channels: LDRD + LDM + 4 x (SMLAD + SXTB16 + SMLAD): 14 instructions for 16 MACs.
 */
#include "tinyc_fast.h"

#if defined(TINYC_DSP)
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
#if defined(TINYC_DSP)
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

/* -- pair-packed weights ------------------------------------------------------------------- */

/* Halfword position, within a group of four k, of the weights of k offset j: the lane of the
 * DSP widening ({x0, x2}, {x1, x3}), on every path (the array is the same). */
#define TINYC_PK_POS(j) (((j) & 1) * 2 + ((j) >> 1))

#if defined(TINYC_DSP)
#define TINYC_PK_PAIR(a, b, w, x)                                                          \
    "smlad " a ", " w ", " x ", " a "\n\t"                                                 \
    "sxtb16 " w ", " w "\n\t"                                                              \
    "smlad " b ", " w ", " x ", " b "\n\t"

/* One group of four k of four channels: 14 instructions, 16 MACs. */
#define TINYC_PK_GROUP                                                                     \
    "ldrd %[x0], %[x1], [%[x]], #8\n\t"                                                    \
    "ldm %[w]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"                                          \
    TINYC_PK_PAIR("%[ap]", "%[bp]", "%[w0]", "%[x0]")                                      \
    TINYC_PK_PAIR("%[ap]", "%[bp]", "%[w1]", "%[x1]")                                      \
    TINYC_PK_PAIR("%[aq]", "%[bq]", "%[w2]", "%[x0]")                                      \
    TINYC_PK_PAIR("%[aq]", "%[bq]", "%[w3]", "%[x1]")

/* LDM wants its registers in ascending order: the four weight words live in r8..r11. */
#define TINYC_PK_ASM(code)                                                              \
    do {                                                                                   \
        register uint32_t w0 __asm__("r8");                                                \
        register uint32_t w1 __asm__("r9");                                                \
        register uint32_t w2 __asm__("r10");                                               \
        register uint32_t w3 __asm__("r11");                                               \
        int32_t x0;                                                                        \
        int32_t x1;                                                                        \
        __asm__ volatile(code                                                              \
                         : [ap] "+r"(ap), [bp] "+r"(bp), [aq] "+r"(aq), [bq] "+r"(bq),     \
                           [w] "+r"(w), [x] "+r"(x), [n] "+r"(n), [x0] "=&r"(x0),          \
                           [x1] "=&r"(x1), [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), \
                           [w3] "=&r"(w3)                                                  \
                         :                                                                 \
                         : "cc", "memory");                                                \
    } while (0)
#endif

#if !defined(TINYC_DSP)
/* acc[0..3] += the four channels' sums over `groups` groups of four k (portable path). */
static void tinyc_fc_pk_sums(const int16_t *w, const int16_t *xs, int32_t groups,
                             int32_t acc[4])
{
    int32_t g;
    int32_t j;
    int32_t c;
    for (g = 0; g < groups; ++g, w += 8, xs += 4) {
        for (j = 0; j < 4; ++j) {
            const int32_t xj = xs[TINYC_LANE(j)];
            for (c = 0; c < 2; ++c) {
                const int32_t h = w[4 * c + TINYC_PK_POS(j)];
                const int32_t lo = (int32_t)((uint32_t)h & 0xFFu);
                const int32_t b = (lo ^ 0x80) - 0x80;
                acc[2 * c] += b * xj;
                acc[2 * c + 1] += (h - b) / 256 * xj;
            }
        }
    }
}
#endif

/* Four channels (two pairs) over `groups` groups of four k, then requantized to o[0..3]:
 * the accumulators start at the biases b[0..3]. */
static TINYC_ALWAYS_INLINE void tinyc_fc_pk_block(const int16_t *w, const int16_t *xs, int32_t groups,
                                     const int32_t *b, const tinyc_rq **rq, int8_t *o,
                                     int32_t offset)
{
#if defined(TINYC_DSP)
    const int16_t *x = xs;
    int32_t ap = b[0];
    int32_t bp = ap;
    int32_t aq = b[2];
    int32_t bq = aq;
    int32_t n = groups >> 2;
    if (n > 0) {
        TINYC_PK_ASM("1:\n\t" TINYC_PK_GROUP TINYC_PK_GROUP TINYC_PK_GROUP TINYC_PK_GROUP
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b");
    }
    n = groups & 3;
    if (n > 0) {
        TINYC_PK_ASM("1:\n\t" TINYC_PK_GROUP
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b");
    }
    tinyc_rq4_chans(bp, b[1] + ((int32_t)((uint32_t)ap - (uint32_t)bp) >> 8), bq,
                    b[3] + ((int32_t)((uint32_t)aq - (uint32_t)bq) >> 8), rq, o, offset);
#else
    int32_t acc[4];
    acc[0] = b[0];
    acc[1] = b[1];
    acc[2] = b[2];
    acc[3] = b[3];
    tinyc_fc_pk_sums(w, xs, groups, acc);
    tinyc_rq4_chans(acc[0], acc[1], acc[2], acc[3], rq, o, offset);
#endif
}

void tinyc_fully_connected_paired_fast_s8(const tinyc_fc_fast_params *params,
                                          const tinyc_rq *rq, const int8_t *input,
                                          const int16_t *filter, const int32_t *bias,
                                          int16_t *scratch, int8_t *output)
{
    const int32_t groups = params->k4 >> 2;
    const int32_t out_c = params->out_c;
    const int32_t out4 = out_c & ~3;
    int32_t b;
    for (b = 0; b < params->batches; ++b, input += params->depth) {
        const int16_t *w = filter;
        const int32_t *bi = bias;
        const tinyc_rq *r = rq;
        int8_t *o = output + b * out_c;
        int8_t *const end = o + out4;
        tinyc_fc_widen(input, params->depth, params->k4, 0, scratch);
        for (; o != end; o += 4, w += 8 * groups, bi += 4) {
            tinyc_fc_pk_block(w, scratch, groups, bi, &r, o, params->output_offset);
        }
        if (out_c != out4) {    /* the last out_c % 4 channels: the arrays are padded to 4 */
            int8_t last[4];
            int32_t i;
            tinyc_fc_pk_block(w, scratch, groups, bi, &r, last, params->output_offset);
            for (i = 0; i < out_c - out4; ++i) {
                o[i] = last[i];
            }
        }
    }
    tinyc_fast_activation(&params->activation, output, params->batches * out_c);
}
