/*
 * tinyc_fully_connected_wide_dsp.h - the DSP inner loop of tinyc_fully_connected_wide.c
 * (TINYC_DSP); tinyc_fully_connected_wide_c.h is the portable twin with the same interface
 * and results.  tinyc_fc_wide_pair: two channels' sums over `chunks` chunks of eight k
 * (*a0, *a1 hold the biases on entry).
 */
#ifndef TINYC_FULLY_CONNECTED_WIDE_DSP_H
#define TINYC_FULLY_CONNECTED_WIDE_DSP_H

#include "tinyc_fast.h"

#define TINYC_WIDE_CHUNK                                                                   \
    "ldm %[x]!, {%[x0], %[x1], %[x2], %[x3]}\n\t"                                          \
    "ldm %[w]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"                                          \
    "smlad %[a], %[w0], %[x0], %[a]\n\t"                                                   \
    "smlad %[a], %[w1], %[x1], %[a]\n\t"                                                   \
    "smlad %[a], %[w2], %[x2], %[a]\n\t"                                                   \
    "smlad %[a], %[w3], %[x3], %[a]\n\t"                                                   \
    "ldm %[w]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"                                          \
    "smlad %[b], %[w0], %[x0], %[b]\n\t"                                                   \
    "smlad %[b], %[w1], %[x1], %[b]\n\t"                                                   \
    "smlad %[b], %[w2], %[x2], %[b]\n\t"                                                   \
    "smlad %[b], %[w3], %[x3], %[b]\n\t"

/* LDM wants its registers in ascending order: inputs in r2..r5, weights in r8..r11; the loop
 * stays in C (no counter operand). */
#define TINYC_WIDE_ASM(code)                                                               \
    do {                                                                                   \
        register uint32_t x0 __asm__("r2");                                                \
        register uint32_t x1 __asm__("r3");                                                \
        register uint32_t x2 __asm__("r4");                                                \
        register uint32_t x3 __asm__("r5");                                                \
        register uint32_t w0 __asm__("r8");                                                \
        register uint32_t w1 __asm__("r9");                                                \
        register uint32_t w2 __asm__("r10");                                               \
        register uint32_t w3 __asm__("r11");                                               \
        __asm__ volatile(code                                                              \
                         : [a] "+r"(a), [b] "+r"(b), [w] "+r"(w), [x] "+r"(x),              \
                           [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2), [x3] "=&r"(x3), \
                           [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3)  \
                         :                                                                 \
                         : "memory");                                                      \
    } while (0)

static TINYC_ALWAYS_INLINE void tinyc_fc_wide_pair(const int16_t *w, const int16_t *xs,
                                                   int32_t chunks, int32_t *a0, int32_t *a1)
{
    const int16_t *x = xs;
    int32_t a = *a0;
    int32_t b = *a1;
    int32_t n;
    for (n = chunks >> 2; n > 0; --n) {
        TINYC_WIDE_ASM(TINYC_WIDE_CHUNK TINYC_WIDE_CHUNK TINYC_WIDE_CHUNK TINYC_WIDE_CHUNK);
    }
    for (n = chunks & 3; n > 0; --n) {
        TINYC_WIDE_ASM(TINYC_WIDE_CHUNK);
    }
    *a0 = a;
    *a1 = b;
}

#endif /* TINYC_FULLY_CONNECTED_WIDE_DSP_H */
