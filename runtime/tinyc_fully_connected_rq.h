/*
 * tinyc_fully_connected_rq.h - tinyc_fc_rq4: the fully-connected kernels' requantization of
 * four channels (tinyc_rq4_chans: same results), with the DSP path's constants loaded in two
 * runs of six single loads (14 est. Cortex-M4 cycles; LDRD + LDR per channel: 20).  The output
 * offset is folded into the constants (tinyc_rq_x2).
 */
#ifndef TINYC_FULLY_CONNECTED_RQ_H
#define TINYC_FULLY_CONNECTED_RQ_H

#include "tinyc_fast.h"

#if defined(TINYC_DSP)
/* ".rept 16" keeps the 16-group loops' asm strings under C99's 4095 characters
 * (-Woverlength-strings); GCC sizes an asm statement by its lines (for branch ranges such as
 * CBZ over it), so the template adds the 15 x 18 lines the repetition hides, as empty ones. */
#define TINYC_FC_LINES10 "\n\n\n\n\n\n\n\n\n\n"
#define TINYC_FC_REPT15_LINES                                                              \
    TINYC_FC_LINES10 TINYC_FC_LINES10 TINYC_FC_LINES10 TINYC_FC_LINES10 TINYC_FC_LINES10   \
    TINYC_FC_LINES10 TINYC_FC_LINES10 TINYC_FC_LINES10 TINYC_FC_LINES10 TINYC_FC_LINES10   \
    TINYC_FC_LINES10 TINYC_FC_LINES10 TINYC_FC_LINES10 TINYC_FC_LINES10 TINYC_FC_LINES10   \
    TINYC_FC_LINES10 TINYC_FC_LINES10 TINYC_FC_LINES10 TINYC_FC_LINES10 TINYC_FC_LINES10   \
    TINYC_FC_LINES10 TINYC_FC_LINES10 TINYC_FC_LINES10 TINYC_FC_LINES10 TINYC_FC_LINES10   \
    TINYC_FC_LINES10 TINYC_FC_LINES10
/* A group's two input words (x0, x1; x moves 8 bytes) and four weight words (w0..w3; w moves
 * 16): one run of six single loads, 7 est. Cortex-M4 cycles (both kernels' group step). */
#define TINYC_FC_LOAD_X2_W4                                                                \
    "ldr %[x1], [%[x], #4]\n\t"                                                            \
    "ldr %[x0], [%[x]], #8\n\t"                                                            \
    "ldr %[w1], [%[w], #4]\n\t"                                                            \
    "ldr %[w2], [%[w], #8]\n\t"                                                            \
    "ldr %[w3], [%[w], #12]\n\t"                                                           \
    "ldr %[w0], [%[w]], #16\n\t"
/* Six words of requantization constants (two channels' m, h, e) from r: one run of single
 * loads, 7 est. Cortex-M4 cycles (two LDRD + LDR: 10). */
#define TINYC_FC_RQ2(r, off, m0, h0, e0, m1, h1, e1)                                       \
    __asm__("ldr %[m0], [%[p], #" #off "]\n\t"                                             \
            "ldr %[h0], [%[p], #" #off " + 4]\n\t"                                         \
            "ldr %[e0], [%[p], #" #off " + 8]\n\t"                                         \
            "ldr %[m1], [%[p], #" #off " + 12]\n\t"                                        \
            "ldr %[h1], [%[p], #" #off " + 16]\n\t"                                        \
            "ldr %[e1], [%[p], #" #off " + 20]"                                             \
            : [m0] "=&r"(m0), [h0] "=&r"(h0), [e0] "=&r"(e0), [m1] "=&r"(m1),               \
              [h1] "=&r"(h1), [e1] "=r"(e1)                                                 \
            : [p] "r"(r), "m"(*(const tinyc_rq(*)[4])(r)))

/* tinyc_rq4_chans with the constants loaded in two runs of six (14 est. cycles, not 20). */
static TINYC_ALWAYS_INLINE void tinyc_fc_rq4(int32_t a0, int32_t a1, int32_t a2, int32_t a3,
                                             const tinyc_rq **rq, int8_t *o)
{
    const tinyc_rq *r = *rq;
    int32_t m0;
    int32_t h0;
    int32_t e0;
    int32_t m1;
    int32_t h1;
    int32_t e1;
    TINYC_FC_RQ2(r, 0, m0, h0, e0, m1, h1, e1);
    o[0] = (int8_t)tinyc_rq_x2(a0 * 2, m0, h0, e0);
    o[1] = (int8_t)tinyc_rq_x2(a1 * 2, m1, h1, e1);
    TINYC_FC_RQ2(r, 24, m0, h0, e0, m1, h1, e1);
    o[2] = (int8_t)tinyc_rq_x2(a2 * 2, m0, h0, e0);
    o[3] = (int8_t)tinyc_rq_x2(a3 * 2, m1, h1, e1);
    *rq = r + 4;
}

#else

static inline void tinyc_fc_rq4(int32_t a0, int32_t a1, int32_t a2, int32_t a3,
                                const tinyc_rq **rq, int8_t *o)
{
    tinyc_rq4_chans(a0, a1, a2, a3, rq, o, 0);
}

#endif /* TINYC_DSP */

#endif /* TINYC_FULLY_CONNECTED_RQ_H */
