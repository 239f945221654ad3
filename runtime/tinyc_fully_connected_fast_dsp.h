/*
 * tinyc_fully_connected_fast_dsp.h - the DSP inner loops of tinyc_fully_connected_fast_s8.c
 * (TINYC_DSP); tinyc_fully_connected_fast_c.h is the portable twin with the same interface and
 * results.
 *   tinyc_fc_block: acc[0..3] += four channels' interleaved weight rows . xs over k4 values.
 *   tinyc_fc_pk_sums: the four channels' sums (biases b[0..3] included) of pair-packed weights
 *     over `groups` groups of four k, into acc[0..3].
 * xs is the input row widened by tinyc_fc_widen (lanes TINYC_LANE).
 */
#ifndef TINYC_FULLY_CONNECTED_FAST_DSP_H
#define TINYC_FULLY_CONNECTED_FAST_DSP_H

#include "tinyc_fast.h"
#include "tinyc_fully_connected_rq.h"

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

static inline void tinyc_fc_block(const int8_t *w, const int16_t *xs, int32_t k4,
                                  int32_t acc[4])
{
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
}

/* Pair-packed: h = 256 * w[2i+1][k] + w[2i][k]; SMLAD of h gives A = 256 * S1 + S0, SMLAD of
 * its low bytes (SXTB16) gives S0.  One group of four k of four channels: 18 instructions,
 * 19 estimated Cortex-M4 cycles, 16 MACs. */
#define TINYC_PK_PAIR(a, b, w, x)                                                          \
    "smlad " a ", " w ", " x ", " a "\n\t"                                                 \
    "sxtb16 " w ", " w "\n\t"                                                              \
    "smlad " b ", " w ", " x ", " b "\n\t"

#define TINYC_PK_GROUP                                                                     \
    TINYC_FC_LOAD_X2_W4                                                                    \
    TINYC_PK_PAIR("%[ap]", "%[bp]", "%[w0]", "%[x0]")                                      \
    TINYC_PK_PAIR("%[ap]", "%[bp]", "%[w1]", "%[x1]")                                      \
    TINYC_PK_PAIR("%[aq]", "%[bq]", "%[w2]", "%[x0]")                                      \
    TINYC_PK_PAIR("%[aq]", "%[bq]", "%[w3]", "%[x1]")

/* The six words of a group are one run of single loads (pipelined: 7 cycles on a Cortex-M4,
 * against 3 + 5 for LDRD + LDM); each pointer is written back by its last load. */
#define TINYC_PK_ASM(code)                                                                 \
    do {                                                                                   \
        uint32_t w0;                                                                       \
        uint32_t w1;                                                                       \
        uint32_t w2;                                                                       \
        uint32_t w3;                                                                       \
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

static TINYC_ALWAYS_INLINE void tinyc_fc_pk_sums(const int16_t *w, const int16_t *xs,
                                                 int32_t groups, const int32_t *b,
                                                 int32_t acc[4])
{
    const int16_t *x = xs;
    int32_t ap = b[0];
    int32_t bp = ap;
    int32_t aq = b[2];
    int32_t bq = aq;
    int32_t n = groups;
    /* 16 groups a pass (the loop's SUBS + BGE: 4 cycles per 304), then the rest one at a
     * time; one asm statement, so the accumulators stay where they are between the loops */
    TINYC_PK_ASM("subs %[n], %[n], #16\n\t"
                 "blt 2f\n"
                 "1:\n\t"
                 ".rept 16\n\t" TINYC_PK_GROUP ".endr" TINYC_FC_REPT15_LINES "\n\t"
                 "subs %[n], %[n], #16\n\t"
                 "bge 1b\n"
                 "2:\n\t"
                 "adds %[n], %[n], #16\n\t"
                 "beq 4f\n"
                 "3:\n\t" TINYC_PK_GROUP
                 "subs %[n], %[n], #1\n\t"
                 "bne 3b\n"
                 "4:");
    /* S1 = (A - S0) / 256, exact while |S1| < 2^23 (checked at compile time) */
    acc[0] = bp;
    acc[1] = b[1] + ((int32_t)((uint32_t)ap - (uint32_t)bp) >> 8);
    acc[2] = bq;
    acc[3] = b[3] + ((int32_t)((uint32_t)aq - (uint32_t)bq) >> 8);
}

#endif /* TINYC_FULLY_CONNECTED_FAST_DSP_H */
