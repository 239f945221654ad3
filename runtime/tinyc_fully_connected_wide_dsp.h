/*
 * tinyc_fully_connected_wide_dsp.h - the DSP inner loop of tinyc_fully_connected_wide.c
 * (TINYC_DSP); tinyc_fully_connected_wide_c.h is the portable twin with the same interface
 * and results.  tinyc_fc_wide_sums: four channels' sums (biases b[0..3] included) over
 * `groups` groups of four k, into acc[0..3].
 */
#ifndef TINYC_FULLY_CONNECTED_WIDE_DSP_H
#define TINYC_FULLY_CONNECTED_WIDE_DSP_H

#include "tinyc_fast.h"
#include "tinyc_fully_connected_rq.h"

/* One group of four k of four channels: the two input words and the first two channels' four
 * weight words in one run of single loads (7 est. Cortex-M4 cycles), four SMLAD, the other
 * two channels' words (a run of four: 5), four SMLAD: 20 cycles, 16 MACs.  Each pointer is
 * written back by its last load; the last loaded word is used last. */
#define TINYC_WIDE_HALF(a, b)                                                              \
    "smlad " a ", %[w1], %[x1], " a "\n\t"                                                 \
    "smlad " b ", %[w2], %[x0], " b "\n\t"                                                 \
    "smlad " b ", %[w3], %[x1], " b "\n\t"                                                 \
    "smlad " a ", %[w0], %[x0], " a "\n\t"

#define TINYC_WIDE_GROUP                                                                   \
    TINYC_FC_LOAD_X2_W4                                                                    \
    TINYC_WIDE_HALF("%[a0]", "%[a1]")                                                      \
    "ldr %[w1], [%[w], #4]\n\t"                                                            \
    "ldr %[w2], [%[w], #8]\n\t"                                                            \
    "ldr %[w3], [%[w], #12]\n\t"                                                           \
    "ldr %[w0], [%[w]], #16\n\t"                                                           \
    TINYC_WIDE_HALF("%[a2]", "%[a3]")

#define TINYC_WIDE_ASM(code)                                                               \
    do {                                                                                   \
        uint32_t w0;                                                                       \
        uint32_t w1;                                                                       \
        uint32_t w2;                                                                       \
        uint32_t w3;                                                                       \
        uint32_t x0;                                                                       \
        uint32_t x1;                                                                       \
        __asm__ volatile(code                                                              \
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),     \
                           [w] "+r"(w), [x] "+r"(x), [n] "+r"(n), [x0] "=&r"(x0),          \
                           [x1] "=&r"(x1), [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), \
                           [w3] "=&r"(w3)                                                  \
                         :                                                                 \
                         : "cc", "memory");                                                \
    } while (0)

static TINYC_ALWAYS_INLINE void tinyc_fc_wide_sums(const int16_t *w, const int16_t *xs,
                                                   int32_t groups, const int32_t *b,
                                                   int32_t acc[4])
{
    const int16_t *x = xs;
    int32_t a0 = b[0];
    int32_t a1 = b[1];
    int32_t a2 = b[2];
    int32_t a3 = b[3];
    int32_t n = groups >> 4;
    if (n > 0) {            /* 16 groups a pass: the loop's SUBS + BNE (4 cycles) per 320 */
        TINYC_WIDE_ASM("1:\n\t"
                       ".rept 16\n\t" TINYC_WIDE_GROUP ".endr" TINYC_FC_REPT15_LINES "\n\t"
                       "subs %[n], %[n], #1\n\t"
                       "bne 1b");
    }
    n = groups & 15;
    if (n > 0) {
        TINYC_WIDE_ASM("1:\n\t" TINYC_WIDE_GROUP
                       "subs %[n], %[n], #1\n\t"
                       "bne 1b");
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

#endif /* TINYC_FULLY_CONNECTED_WIDE_DSP_H */
