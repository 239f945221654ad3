/*
 * tinyc_conv2d_pw_dsp.h - the pieces of tinyc_conv2d_pw_s8 on cores with the DSP extension
 * (TINYC_DSP): the widening of three pixels (SXTAB16 with the input offset) and the channel
 * pair passes: per k-pair five LDR in a row (the pair's two weight words, the three pixels'
 * words; pipelined: 6 estimated M4 cycles) and six SMLAD, 12 cycles for 12 MACs, with no
 * widening of weights and no loop control where in_c is 32 or 64 (one straight run; a loop
 * step per 32 k-pairs where in_c is a multiple of 64, per 8 where of 16); the requantization
 * (ADD, SMMLAR, ASR, SSAT) and the stores of a channel pair in one asm with its constants
 * loaded from the stream.  tinyc_conv2d_pw_c.h is the portable twin
 * (same interface, same sums).  Every asm has at most 13 register operands (r7 may be the
 * frame pointer; clang rejects 14).
 */
#ifndef TINYC_CONV2D_PW_DSP_H
#define TINYC_CONV2D_PW_DSP_H

#include <arm_acle.h>

#include "tinyc_fast.h"

/* The asm below steps over TINYC_PW_PIX = 3 pixel words per k-pair. */
typedef char tinyc_pw_pix_is_3[TINYC_PW_PIX == 3 ? 1 : -1];

static inline void tinyc_pw_widen(const int8_t *x0, const int8_t *x1, const int8_t *x2,
                                  int32_t g4, int32_t off, int32_t *x)
{
    for (; g4 > 0; --g4) {
        const uint32_t v0 = tinyc_ld4(x0);
        const uint32_t v1 = tinyc_ld4(x1);
        const uint32_t v2 = tinyc_ld4(x2);
        x0 += 4;
        x1 += 4;
        x2 += 4;
        x[0] = __sxtab16(off, (int32_t)v0);
        x[1] = __sxtab16(off, (int32_t)v1);
        x[2] = __sxtab16(off, (int32_t)v2);
        x[3] = tinyc_sxtab16_ror8(off, v0);
        x[4] = tinyc_sxtab16_ror8(off, v1);
        x[5] = tinyc_sxtab16_ror8(off, v2);
        x += 6;
    }
}

/* The memory an asm reads: NW stream words at w and NX block words at xp. Clang gives a memory
 * operand an address register of its own (14 or 15 registers: it fails to allocate them), so
 * there a "memory" clobber declares the reads; GCC takes the operands (measured: with the
 * clobber kws's 1x1 layers took 602,129 est. cycles instead of 596,753). */
#if defined(__clang__)
#define TINYC_PW_READS(NW, NX) : : "memory"
#define TINYC_PW_RQ_READS
#else
#define TINYC_PW_READS(NW, NX)                                                             \
    : "m"(*(const int32_t(*)[NW])w), "m"(*(const int32_t(*)[NX])xp)
#define TINYC_PW_RQ_READS , "m"(*(const int32_t(*)[6])w)
#endif

/* The first k-pair of a pass: the pair's two doubled biases, its two weight words and the
 * three pixel words as seven LDR in a row, then six SMLAD starting from the biases. */
#define TINYC_PW_FIRST                                                                     \
    __asm__("ldr %[a0], [%[w]], #16\n\t"                                                   \
            "ldr %[b0], [%[w], #-12]\n\t"                                                  \
            "ldr %[u0], [%[w], #-8]\n\t"                                                   \
            "ldr %[u1], [%[w], #-4]\n\t"                                                   \
            "ldr %[v0], [%[x]], #12\n\t"                                                   \
            "ldr %[v1], [%[x], #-8]\n\t"                                                   \
            "ldr %[v2], [%[x], #-4]\n\t"                                                   \
            "smlad %[a1], %[u0], %[v1], %[a0]\n\t"                                         \
            "smlad %[a2], %[u0], %[v2], %[a0]\n\t"                                         \
            "smlad %[a0], %[u0], %[v0], %[a0]\n\t"                                         \
            "smlad %[b1], %[u1], %[v1], %[b0]\n\t"                                         \
            "smlad %[b2], %[u1], %[v2], %[b0]\n\t"                                         \
            "smlad %[b0], %[u1], %[v0], %[b0]"                                             \
            : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [b0] "=&r"(b0),             \
              [b1] "=&r"(b1), [b2] "=&r"(b2), [u0] "=&r"(u0), [u1] "=&r"(u1),             \
              [v0] "=&r"(v0), [v1] "=&r"(v1), [v2] "=&r"(v2), [w] "+r"(w), [x] "+r"(xp)   \
            TINYC_PW_READS(4, 3))

/* One k-pair: five LDR in a row, six SMLAD. */
#define TINYC_PW_STEP                                                                      \
    __asm__("ldr %[u0], [%[w]], #8\n\t"                                                    \
            "ldr %[u1], [%[w], #-4]\n\t"                                                   \
            "ldr %[v0], [%[x]], #12\n\t"                                                   \
            "ldr %[v1], [%[x], #-8]\n\t"                                                   \
            "ldr %[v2], [%[x], #-4]\n\t"                                                   \
            "smlad %[a0], %[u0], %[v0], %[a0]\n\t"                                         \
            "smlad %[a1], %[u0], %[v1], %[a1]\n\t"                                         \
            "smlad %[a2], %[u0], %[v2], %[a2]\n\t"                                         \
            "smlad %[b0], %[u1], %[v0], %[b0]\n\t"                                         \
            "smlad %[b1], %[u1], %[v1], %[b1]\n\t"                                         \
            "smlad %[b2], %[u1], %[v2], %[b2]"                                             \
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [b0] "+r"(b0), [b1] "+r"(b1),  \
              [b2] "+r"(b2), [u0] "=&r"(u0), [u1] "=&r"(u1), [v0] "=&r"(v0),              \
              [v1] "=&r"(v1), [v2] "=&r"(v2), [w] "+r"(w), [x] "+r"(xp)                   \
            TINYC_PW_READS(2, 3))
#define TINYC_PW_STEP2 TINYC_PW_STEP; TINYC_PW_STEP
#define TINYC_PW_STEP4 TINYC_PW_STEP2; TINYC_PW_STEP2
#define TINYC_PW_STEP8 TINYC_PW_STEP4; TINYC_PW_STEP4
#define TINYC_PW_STEP16 TINYC_PW_STEP8; TINYC_PW_STEP8
#define TINYC_PW_STEP7 TINYC_PW_STEP4; TINYC_PW_STEP2; TINYC_PW_STEP
#define TINYC_PW_STEP15 TINYC_PW_STEP8; TINYC_PW_STEP7
#define TINYC_PW_STEP31 TINYC_PW_STEP16; TINYC_PW_STEP15

/* One channel's three sums (2 acc: A0, A1, A2) requantized with its {m, h, e} (the next
 * three stream words): ADD (TFLite's rounding of negative sums), SMMLAR, ASR, SSAT. */
#define TINYC_PW_RQ3(A0, A1, A2)                                                           \
    "ldr %[m], [%[w]], #12\n\t"                                                            \
    "ldr %[h], [%[w], #-8]\n\t"                                                            \
    "ldr %[e], [%[w], #-4]\n\t"                                                            \
    "add %[t], %[h], %[" A0 "], asr #31\n\t"                                               \
    "smmlar %[" A0 "], %[" A0 "], %[m], %[t]\n\t"                                          \
    "add %[t], %[h], %[" A1 "], asr #31\n\t"                                               \
    "smmlar %[" A1 "], %[" A1 "], %[m], %[t]\n\t"                                          \
    "add %[t], %[h], %[" A2 "], asr #31\n\t"                                               \
    "smmlar %[" A2 "], %[" A2 "], %[m], %[t]\n\t"                                          \
    "asr %[" A0 "], %[" A0 "], %[e]\n\t"                                                   \
    "asr %[" A1 "], %[" A1 "], %[e]\n\t"                                                   \
    "asr %[" A2 "], %[" A2 "], %[e]\n\t"                                                   \
    "ssat %[" A0 "], #8, %[" A0 "]\n\t"                                                    \
    "ssat %[" A1 "], #8, %[" A1 "]\n\t"                                                    \
    "ssat %[" A2 "], #8, %[" A2 "]\n\t"
/* Both channels of the pass requantized and stored: pixel t's at o + t * os (channel a) and
 * o + 1 + t * os (b); o steps to the next pair. 13 operands. */
#define TINYC_PW_RQ                                                                        \
    __asm__ volatile(TINYC_PW_RQ3("a0", "a1", "a2")                                        \
                     "strb %[a1], [%[o], %[os]]\n\t"                                       \
                     "strb %[a2], [%[o], %[os], lsl #1]\n\t"                               \
                     "strb %[a0], [%[o]], #1\n\t"                                          \
                     TINYC_PW_RQ3("b0", "b1", "b2")                                        \
                     "strb %[b1], [%[o], %[os]]\n\t"                                       \
                     "strb %[b2], [%[o], %[os], lsl #1]\n\t"                               \
                     "strb %[b0], [%[o]], #1"                                              \
                     : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [b0] "+r"(b0),        \
                       [b1] "+r"(b1), [b2] "+r"(b2), [m] "=&r"(u0), [h] "=&r"(u1),        \
                       [e] "=&r"(v0), [t] "=&r"(v1), [w] "+r"(w), [o] "+r"(o)             \
                     : [os] "r"(os) TINYC_PW_RQ_READS                                      \
                     : "memory")

/* A pass of one channel pair over the block, its MACs as MACS (from x), then the two
 * channels' requantization. */
#define TINYC_PW_PASS(MACS)                                                                \
    do {                                                                                   \
        int32_t a0, a1, a2, b0, b1, b2, u0, u1, v0, v1, v2;                                \
        const int32_t *xp = x;                                                             \
        MACS;                                                                              \
        TINYC_PW_RQ;                                                                       \
    } while (0)

/* All channel pairs of the block (w: the first pair's record, tinyc_conv2d_pw.h): pixel t's
 * output channel c to o[t * os + c]. */
static __attribute__((noinline)) void tinyc_pw_block(const int32_t *w, const int32_t *x,
                                                     int32_t k2, int32_t pairs, int8_t *o,
                                                     int32_t os)
{
    const int32_t *xend = x + TINYC_PW_PIX * k2;
    const int32_t *wend = w + pairs * (2 * k2 + 8);
    if (k2 == 32) {                 /* 64 input channels: straight runs, two pairs a step */
        if (pairs & 1) {
            TINYC_PW_PASS(TINYC_PW_FIRST; TINYC_PW_STEP31);
        }
        while (w != wend) {
            TINYC_PW_PASS(TINYC_PW_FIRST; TINYC_PW_STEP31);
            TINYC_PW_PASS(TINYC_PW_FIRST; TINYC_PW_STEP31);
        }
    } else if ((k2 & 31) == 0) {    /* 32 k-pairs a loop pass */
        do {
            TINYC_PW_PASS(TINYC_PW_FIRST; TINYC_PW_STEP31;
                          while (xp != xend) { TINYC_PW_STEP16; TINYC_PW_STEP16; });
        } while (w != wend);
    } else if (k2 == 16) {          /* 32 input channels: one straight run */
        do {
            TINYC_PW_PASS(TINYC_PW_FIRST; TINYC_PW_STEP15);
        } while (w != wend);
    } else if ((k2 & 7) == 0) {     /* 8 k-pairs a loop pass */
        do {
            TINYC_PW_PASS(TINYC_PW_FIRST; TINYC_PW_STEP7;
                          while (xp != xend) { TINYC_PW_STEP8; });
        } while (w != wend);
    } else {                        /* in_c % 4 == 0: k2 is even */
        do {
            TINYC_PW_PASS(TINYC_PW_FIRST; TINYC_PW_STEP;
                          while (xp != xend) { TINYC_PW_STEP2; });
        } while (w != wend);
    }
}

#endif /* TINYC_CONV2D_PW_DSP_H */
