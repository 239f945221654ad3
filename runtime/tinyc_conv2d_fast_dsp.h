/*
 * tinyc_conv2d_fast_dsp.h - the DSP inner loops of tinyc_conv2d_fast_s8.c (TINYC_DSP);
 * tinyc_conv2d_fast_c.h is the portable twin with the same interface and results.
 *
 * The im2col block holds TINYC_COLS (6) columns, interleaved per group of four k:
 * blk[(k / 4) * TINYC_GROUP + col * 4 + TINYC_LANE(k % 4)], int16 with the input offset added.
 *   tinyc_col_zero4 / tinyc_col_copy4: runs of 4 n values into one column (dst at the column's
 *     first group; it advances by one group per four values); tinyc_col_copy16: the same copy
 *     for long runs (16 values per loop step).
 *   tinyc_gemm2x3: two output channels' sums over three columns (a channel pair's weights
 *     interleaved per group of four k: LDRD + 4 SXTB16, then per column LDRD + 4 SMLAD:
 *     20 instructions, 28 estimated M4 cycles for 24 MACs).
 *   tinyc_st6_cols: six int8 results to o + i * oc; o advances by one.
 */
#ifndef TINYC_CONV2D_FAST_DSP_H
#define TINYC_CONV2D_FAST_DSP_H

#include "tinyc_fast.h"

/* The asm below steps over a group of TINYC_COLS = 6 columns: 48 bytes. */
typedef char tinyc_conv_cols_are_6[(TINYC_COLS == 6 && TINYC_GROUP == 24) ? 1 : -1];

static inline void tinyc_col_zero4(int16_t *dst, int32_t n4)
{
    const int32_t z = 0;
    for (; n4 > 0; --n4) {
        __asm__("strd %[z], %[z], [%[d]], #%c[step]"
                : [d] "+r"(dst), "=m"(*(int16_t(*)[4])dst)
                : [z] "r"(z), [step] "i"(2 * TINYC_GROUP));
    }
}

/* Four input values widened into the column: two SXTAB16 of the word v, one STRD (dst steps to
 * the next group). */
#define TINYC_COPY4_ST(v)                                                                  \
    __asm__("sxtab16 %[lo], %[off2], %[w]\n\t"                                             \
            "sxtab16 %[hi], %[off2], %[w], ror #8\n\t"                                     \
            "strd %[lo], %[hi], [%[d]], #%c[step]"                                          \
            : [lo] "=&r"(lo), [hi] "=&r"(hi), [d] "+r"(dst), "=m"(*(int16_t(*)[4])dst)    \
            : [w] "r"(v), [off2] "r"(off), [step] "i"(2 * TINYC_GROUP))

/* off = tinyc_widen_offset(input offset); src needs no alignment. */
static inline void tinyc_col_copy4(int16_t *dst, const int8_t *src, int32_t n4, int32_t off)
{
    uint32_t v;
    int32_t lo;
    int32_t hi;
    for (; n4 > 0; --n4) {
        __asm__("ldr %[v], [%[s]], #4\n\t"
                "sxtab16 %[lo], %[off2], %[v]\n\t"
                "sxtab16 %[hi], %[off2], %[v], ror #8\n\t"
                "strd %[lo], %[hi], [%[d]], #%c[step]"
                : [v] "=&r"(v), [lo] "=&r"(lo), [hi] "=&r"(hi), [s] "+r"(src),
                  [d] "+r"(dst), "=m"(*(int16_t(*)[4])dst)
                : [off2] "r"(off), [step] "i"(2 * TINYC_GROUP),
                  "m"(*(const int8_t(*)[4])src));
    }
}

/* As tinyc_col_copy4, for long runs (n4 >= 4): sixteen values at a time (four LDR in a row:
 * pipelined, 5 estimated M4 cycles, and one loop branch per 16 values), then the rest. */
static inline void tinyc_col_copy16(int16_t *dst, const int8_t *src, int32_t n4, int32_t off)
{
    uint32_t v;
    uint32_t v1;
    uint32_t v2;
    uint32_t v3;
    int32_t lo;
    int32_t hi;
    for (; n4 >= 4; n4 -= 4) {
        __asm__("ldr %[v0], [%[s]], #16\n\t"
                "ldr %[v1], [%[s], #-12]\n\t"
                "ldr %[v2], [%[s], #-8]\n\t"
                "ldr %[v3], [%[s], #-4]"
                : [v0] "=&r"(v), [v1] "=&r"(v1), [v2] "=&r"(v2), [v3] "=&r"(v3), [s] "+r"(src)
                : "m"(*(const int8_t(*)[16])src));
        TINYC_COPY4_ST(v);
        TINYC_COPY4_ST(v1);
        TINYC_COPY4_ST(v2);
        TINYC_COPY4_ST(v3);
    }
    tinyc_col_copy4(dst, src, n4, off);
}

/* One group of four k of a channel pair (8 bytes: channel a's four weights, then b's):
 * LDRD + 4 SXTB16 into {w0, w2}, {w1, w3} of each channel. */
#define TINYC_G23_W                                                                        \
    __asm__("ldrd %[wo0], %[wo1], [%[w]], #8\n\t"                                          \
            "sxtb16 %[we0], %[wo0]\n\t"                                                    \
            "sxtb16 %[wo0], %[wo0], ror #8\n\t"                                            \
            "sxtb16 %[we1], %[wo1]\n\t"                                                    \
            "sxtb16 %[wo1], %[wo1], ror #8"                                                \
            : [w] "+r"(w), [we0] "=&r"(we0), [wo0] "=&r"(wo0), [we1] "=&r"(we1),          \
              [wo1] "=&r"(wo1)                                                             \
            : "m"(*(const int8_t(*)[8])w))
/* One pixel of the group: LDRD of its four int16 inputs, 2 SMLAD per channel; the first
 * pixel's load steps x to the next group, the others read at -40 / -32 bytes from there. */
#define TINYC_G23_COL0(A, B)                                                               \
    __asm__("ldrd %[x0], %[x1], [%[x]], #48\n\t"                                           \
            "smlad %[a], %[we0], %[x0], %[a]\n\t"                                          \
            "smlad %[a], %[wo0], %[x1], %[a]\n\t"                                          \
            "smlad %[b], %[we1], %[x0], %[b]\n\t"                                          \
            "smlad %[b], %[wo1], %[x1], %[b]"                                              \
            : [a] "+r"(A), [b] "+r"(B), [x0] "=&r"(x0), [x1] "=&r"(x1), [x] "+r"(x)       \
            : [we0] "r"(we0), [wo0] "r"(wo0), [we1] "r"(we1), [wo1] "r"(wo1),             \
              "m"(*(const int16_t(*)[TINYC_GROUP])x))
/* The pair's weights and the first pixel in one asm: four LDR in a row (pipelined: 5 cycles,
 * where two LDRD take 6), the four SXTB16, then the pixel's 4 SMLAD. */
#define TINYC_G23_W_COL0(A, B)                                                             \
    __asm__("ldr %[wo0], [%[w]], #8\n\t"                                                    \
            "ldr %[wo1], [%[w], #-4]\n\t"                                                   \
            "ldr %[x0], [%[x]], #48\n\t"                                                    \
            "ldr %[x1], [%[x], #-44]\n\t"                                                   \
            "sxtb16 %[we0], %[wo0]\n\t"                                                    \
            "sxtb16 %[wo0], %[wo0], ror #8\n\t"                                            \
            "sxtb16 %[we1], %[wo1]\n\t"                                                    \
            "sxtb16 %[wo1], %[wo1], ror #8\n\t"                                            \
            "smlad %[a], %[we0], %[x0], %[a]\n\t"                                          \
            "smlad %[a], %[wo0], %[x1], %[a]\n\t"                                          \
            "smlad %[b], %[we1], %[x0], %[b]\n\t"                                          \
            "smlad %[b], %[wo1], %[x1], %[b]"                                              \
            : [a] "+r"(A), [b] "+r"(B), [w] "+r"(w), [x] "+r"(x), [we0] "=&r"(we0),       \
              [wo0] "=&r"(wo0), [we1] "=&r"(we1), [wo1] "=&r"(wo1), [x0] "=&r"(x0),        \
              [x1] "=&r"(x1)                                                               \
            : "m"(*(const int8_t(*)[8])w), "m"(*(const int16_t(*)[TINYC_GROUP])x))
#define TINYC_G23_GROUP                                                                    \
    TINYC_G23_W_COL0(a0, b0);                                                              \
    TINYC_G23_COL_AT("#-40", a1, b1);                                                      \
    TINYC_G23_COL_AT("#-32", a2, b2)
#define TINYC_G23_COL_AT(OFS, A, B)                                                         \
    __asm__("ldrd %[x0], %[x1], [%[x], " OFS "]\n\t"                                       \
            "smlad %[a], %[we0], %[x0], %[a]\n\t"                                          \
            "smlad %[a], %[wo0], %[x1], %[a]\n\t"                                          \
            "smlad %[b], %[we1], %[x0], %[b]\n\t"                                          \
            "smlad %[b], %[wo1], %[x1], %[b]"                                              \
            : [a] "+r"(A), [b] "+r"(B), [x0] "=&r"(x0), [x1] "=&r"(x1)                    \
            : [x] "r"(x), [we0] "r"(we0), [wo0] "r"(wo0), [we1] "r"(we1), [wo1] "r"(wo1), \
              "m"(*(const int16_t(*)[TINYC_GROUP])(x - TINYC_GROUP)))

/* Two channels x three pixels: a* += channel a's weights . pixel i, b* likewise, over k4
 * values (k4 / 4 groups of 8 weight bytes at w; x at the first pixel's column). */
static TINYC_ALWAYS_INLINE void tinyc_gemm2x3(tinyc_acc2x3 *acc, const int8_t *w,
                                              const int16_t *x, int32_t k4)
{
    int32_t a0 = acc->a0;
    int32_t a1 = acc->a1;
    int32_t a2 = acc->a2;
    int32_t b0 = acc->b0;
    int32_t b1 = acc->b1;
    int32_t b2 = acc->b2;
    int32_t g;
    int32_t we0;
    int32_t wo0;
    int32_t we1;
    int32_t wo1;
    int32_t x0;
    int32_t x1;
    /* groups of four k, eight at a time (14 live values: the count lives on the stack) ... */
    for (g = k4 >> 5; g > 0; --g) {
        TINYC_G23_GROUP;
        TINYC_G23_GROUP;
        TINYC_G23_GROUP;
        TINYC_G23_GROUP;
        TINYC_G23_GROUP;
        TINYC_G23_GROUP;
        TINYC_G23_GROUP;
        TINYC_G23_GROUP;
    }
    for (g = (k4 >> 2) & 7; g > 0; --g) {   /* ... and the rest one by one */
        TINYC_G23_GROUP;
    }
    acc->a0 = a0;
    acc->a1 = a1;
    acc->a2 = a2;
    acc->b0 = b0;
    acc->b1 = b1;
    acc->b2 = b2;
}

/* One group of four k of one channel of a pair (its four weights, 8 bytes from the next
 * group's): a[i] += w[0..3] . column i, i = 0..5 (21 instructions, 24 MACs). */
/* As seven asm pieces of at most six operands, so that every register allocator (gcc LTO -O3
 * included) can place them: the weights (LDR stepping to the next group's, two SXTB16),
 * column 0 (LDRD with writeback past the group), then columns 1..5 at negative offsets. */
#define TINYC_GEMM_W                                                                       \
    __asm__("ldr %[wv], [%[w]], #8\n\t"                                                    \
            "sxtb16 %[we], %[wv]\n\t"                                                      \
            "sxtb16 %[wv], %[wv], ror #8"                                                  \
            : [w] "+r"(w), [wv] "=&r"(wv), [we] "=&r"(we)                                  \
            : "m"(*(const int8_t(*)[4])w))
#define TINYC_GEMM_COL0(a)                                                                 \
    __asm__("ldrd %[x0], %[x1], [%[x]], #48\n\t"                                           \
            "smlad %[acc], %[we], %[x0], %[acc]\n\t"                                       \
            "smlad %[acc], %[wv], %[x1], %[acc]"                                           \
            : [acc] "+r"(a), [x] "+r"(x), [x0] "=&r"(x0), [x1] "=&r"(x1)                   \
            : [we] "r"(we), [wv] "r"(wv), "m"(*(const int16_t(*)[TINYC_GROUP])x))
#define TINYC_GEMM_COL(a, ofs)                                                             \
    __asm__("ldrd %[x0], %[x1], [%[x], #" ofs "]\n\t"                                      \
            "smlad %[acc], %[we], %[x0], %[acc]\n\t"                                       \
            "smlad %[acc], %[wv], %[x1], %[acc]"                                           \
            : [acc] "+r"(a), [x0] "=&r"(x0), [x1] "=&r"(x1)                                \
            : [x] "r"(x), [we] "r"(we), [wv] "r"(wv),                                      \
              "m"(*(const int16_t(*)[TINYC_GROUP])(x - TINYC_GROUP)))
#define TINYC_GEMM_GROUP                                                                   \
    do {                                                                                   \
        TINYC_GEMM_W;                                                                      \
        TINYC_GEMM_COL0(a0);                                                               \
        TINYC_GEMM_COL(a1, "-40");                                                         \
        TINYC_GEMM_COL(a2, "-32");                                                         \
        TINYC_GEMM_COL(a3, "-24");                                                         \
        TINYC_GEMM_COL(a4, "-16");                                                         \
        TINYC_GEMM_COL(a5, "-8");                                                          \
    } while (0)

static TINYC_ALWAYS_INLINE void tinyc_gemm6(tinyc_acc6 *acc, const int8_t *w,
                                            const int16_t *x, int32_t k4)
{
    int32_t a0 = acc->a0;
    int32_t a1 = acc->a1;
    int32_t a2 = acc->a2;
    int32_t a3 = acc->a3;
    int32_t a4 = acc->a4;
    int32_t a5 = acc->a5;
    int32_t g;
    int32_t wv;
    int32_t we;
    int32_t x0;
    int32_t x1;
    for (g = k4 >> 4; g > 0; --g) {     /* groups of four k, four at a time ... */
        TINYC_GEMM_GROUP;
        TINYC_GEMM_GROUP;
        TINYC_GEMM_GROUP;
        TINYC_GEMM_GROUP;
    }
    for (g = (k4 >> 2) & 3; g > 0; --g) {   /* ... and the rest one by one */
        TINYC_GEMM_GROUP;
    }
    acc->a0 = a0;
    acc->a1 = a1;
    acc->a2 = a2;
    acc->a3 = a3;
    acc->a4 = a4;
    acc->a5 = a5;
}

/* Rows of eight k (k4 == 8: vww's 8 -> 16 1x1 conv): one channel over the six columns with its
 * weights ({w0, w2}, {w1, w3} of both groups), bias and requantization constants kept in
 * registers.  Per column two LDRD + 4 SMLAD, the requantization (LSL, ADD, SMMLAR, ASR, SSAT)
 * and one STRB; three asm pieces of at most seven operands (every register allocator, -Os
 * included, can place them). */
#define TINYC_K8_SUM(OFS0, OFS1)                                                           \
    __asm__("ldrd %[x0], %[x1], [%[x], #" OFS0 "]\n\t"                                     \
            "smlad %[a], %[we], %[x0], %[b]\n\t"                                           \
            "smlad %[a], %[wo], %[x1], %[a]"                                               \
            : [a] "=&r"(a), [x0] "=&r"(x0), [x1] "=&r"(x1)                                 \
            : [x] "r"(x), [we] "r"(we0), [wo] "r"(wo0), [b] "r"(b),                       \
              "m"(*(const int16_t(*)[2 * TINYC_GROUP])x));                                 \
    __asm__("ldrd %[x0], %[x1], [%[x], #" OFS1 "]\n\t"                                     \
            "smlad %[a], %[we], %[x0], %[a]\n\t"                                           \
            "smlad %[a], %[wo], %[x1], %[a]"                                               \
            : [a] "+r"(a), [x0] "=&r"(x0), [x1] "=&r"(x1)                                  \
            : [x] "r"(x), [we] "r"(we1), [wo] "r"(wo1),                                    \
              "m"(*(const int16_t(*)[2 * TINYC_GROUP])x));                                 \
    __asm__("lsl %[a], %[a], #1\n\t"                                                       \
            "add %[t], %[h], %[a], asr #31\n\t"                                            \
            "smmlar %[a], %[a], %[m], %[t]\n\t"                                            \
            "asr %[a], %[a], %[e]\n\t"                                                     \
            "ssat %[a], #8, %[a]"                                                          \
            : [a] "+r"(a), [t] "=&r"(x1)                                                   \
            : [m] "r"(r.m), [h] "r"(r.h), [e] "r"(r.e))
/* Two columns: STRB at o and o + oc, then o steps by 2 oc. */
#define TINYC_K8_COLS(OFS0, OFS1, OFS2, OFS3)                                              \
    TINYC_K8_SUM(OFS0, OFS1);                                                              \
    o[0] = (int8_t)a;                                                                      \
    TINYC_K8_SUM(OFS2, OFS3);                                                              \
    o[oc] = (int8_t)a;                                                                     \
    o += 2 * oc

/* Channel (weights at w: k 0..3, then k 4..7 at w + 8; bias b; constants *rq, then rq
 * advances) over the six columns of x: outputs to o + i * oc. */
static TINYC_ALWAYS_INLINE void tinyc_k8_chan(const int8_t *w, int32_t b, const tinyc_rq **rq,
                                              const int16_t *x, int8_t *o, int32_t oc)
{
    const tinyc_rq r = tinyc_rq_next(rq);
    const uint32_t v0 = tinyc_load4(w);
    const uint32_t v1 = tinyc_load4(w + 8);
    const int32_t we0 = __sxtb16(tinyc_s32(v0));
    const int32_t wo0 = tinyc_sxtb16_ror8(v0);
    const int32_t we1 = __sxtb16(tinyc_s32(v1));
    const int32_t wo1 = tinyc_sxtb16_ror8(v1);
    int32_t a;
    int32_t x0;
    int32_t x1;
    __asm__("" : "+r"(o));      /* one pointer stepped here, not one per column over the loop */
    TINYC_K8_COLS("0", "48", "8", "56");
    TINYC_K8_COLS("16", "64", "24", "72");
    TINYC_K8_COLS("32", "80", "40", "88");
}

static inline void tinyc_st6_cols(int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4,
                                  int32_t a5, int8_t **o, int32_t oc)
{
    int8_t *out = *o;
    int8_t *t;
    __asm__ volatile("strb %[a0], [%[o]]\n\t"
                     "strb %[a1], [%[o], %[oc]]\n\t"
                     "add %[t], %[o], %[oc], lsl #1\n\t"
                     "strb %[a2], [%[t]]\n\t"
                     "strb %[a3], [%[t], %[oc]]\n\t"
                     "add %[t], %[t], %[oc], lsl #1\n\t"
                     "strb %[a4], [%[t]]\n\t"
                     "strb %[a5], [%[t], %[oc]]\n\t"
                     "add %[o], %[o], #1"
                     : [o] "+r"(out), [t] "=&r"(t)
                     : [a0] "r"(a0), [a1] "r"(a1), [a2] "r"(a2), [a3] "r"(a3), [a4] "r"(a4),
                       [a5] "r"(a5), [oc] "r"(oc)
                     : "memory");
    *o = out;
}

#endif /* TINYC_CONV2D_FAST_DSP_H */
