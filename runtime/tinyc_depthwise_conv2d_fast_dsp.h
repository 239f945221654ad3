/*
 * tinyc_depthwise_conv2d_fast_dsp.h - the DSP tap of tinyc_depthwise_conv2d_fast_s8.c
 * (TINYC_DSP); tinyc_depthwise_conv2d_fast_c.h is the portable twin with the same interface
 * and results.  TINYC_DW_TAP(a, x, w, ofs, off): a += (x[0..3] + offset) * the four int16
 * weights at byte ofs of w (off = tinyc_widen_offset(offset)); TINYC_DW_TAP0 leaves the offset out;
 * tinyc_dw_step(p, d) = p + d.
 */
#ifndef TINYC_DEPTHWISE_CONV2D_FAST_DSP_H
#define TINYC_DEPTHWISE_CONV2D_FAST_DSP_H

#include "tinyc_fast.h"

#if defined(__GNUC__) && !defined(__clang__)
/* GCC's scheduling before register allocation hoists the 9 taps' loads and spills them (this
 * header is included by the depthwise kernel only). */
#pragma GCC optimize("no-schedule-insns", "align-loops=4")
#endif

/* x lanes {x0, x2} (xe) and {x1, x3} (xo) times the filter's {w0, w2}, {w1, w3} at byte
 * ofs (a constant) of w: one LDRD (constant data: no memory operand needed), four MACs. */
#define TINYC_DW_MAC(a, xe, xo, w, ofs)                                                    \
    do {                                                                                   \
        int32_t we_;                                                                       \
        int32_t wo_;                                                                       \
        __asm__("ldrd %0, %1, [%2, #%c3]" : "=r"(we_), "=r"(wo_) : "r"(w), "i"(ofs));      \
        (a).a0 = __smlabb(xe, we_, (a).a0);                                                \
        (a).a2 = __smlatt(xe, we_, (a).a2);                                                \
        (a).a1 = __smlabb(xo, wo_, (a).a1);                                                \
        (a).a3 = __smlatt(xo, wo_, (a).a3);                                                \
    } while (0)

/* x at the tap's inputs, filter at byte ofs of w. */
#define TINYC_DW_TAP(a, x, w, ofs, off)                                                    \
    do {                                                                                   \
        const uint32_t v_ = tinyc_ld4(x);                                                  \
        TINYC_DW_MAC(a, __sxtab16(off, tinyc_s32(v_)), tinyc_sxtab16_ror8(off, v_), w, ofs); \
    } while (0)

#define TINYC_DW_TAP0(a, x, w, ofs, off)                                                   \
    do {                                                                                   \
        const uint32_t v_ = tinyc_ld4(x);                                                  \
        TINYC_DW_MAC(a, __sxtb16(tinyc_s32(v_)), tinyc_sxtb16_ror8(v_), w, ofs);           \
    } while (0)

/* p + d, opaque to the optimiser: the taps walk one pointer instead of holding 9 offsets. */
static inline const int8_t *tinyc_dw_step(const int8_t *p, int32_t d)
{
    __asm__("add %0, %0, %1" : "+r"(p) : "r"(d));
    return p;
}


/* ---- the 3x3 path (stride 1 or 2): rows widened once into int16 planes ----------------------
 * TINYC_DW3 pieces: tinyc_dw3_row_s1 / _s2(a, x, w): a.a0..a3 += one filter row times the inputs
 * of four output pixels next to each other, x at the first pixel's first tap in a plane of one
 * channel (int16, 4-byte aligned), w the row's {w0, w1, w1, w2}; SMLAD over tap pairs.
 * tinyc_dw3_widen2(x, xc, off, d, pw): two columns (x, x + xc) of four channels, + offset, to
 * the planes d, d + pw, d + 2 pw, d + 3 pw (a word each, d 4-byte aligned); tinyc_dw3_widen4(x,
 * xc, off, d, pw): four columns, two words a plane. */

/* {lo(a), lo(b)}: PKHBT a, b, LSL #16. */
static inline int32_t tinyc_pkhbt16(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* {hi(b), hi(a)}: PKHTB a, b, ASR #16. */
static inline int32_t tinyc_pkhtb16(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

static inline int32_t tinyc_ldw(const int16_t *p)
{
    return tinyc_s32(*(const tinyc_u32a *)(const void *)p);
}

static TINYC_ALWAYS_INLINE void tinyc_dw3_row_s1(tinyc_acc4 *a, const int16_t *x,
                                                 const int16_t *w)
{
    const int32_t w01 = tinyc_ldw(w);
    const int32_t w12 = tinyc_ldw(w + 2);
    const int32_t x01 = tinyc_ldw(x);
    const int32_t x23 = tinyc_ldw(x + 2);
    const int32_t x45 = tinyc_ldw(x + 4);
    a->a0 = __smlabt(x23, w12, __smlad(x01, w01, a->a0));
    a->a1 = __smlad(x23, w12, __smlatb(x01, w01, a->a1));
    a->a2 = __smlabt(x45, w12, __smlad(x23, w01, a->a2));
    a->a3 = __smlad(x45, w12, __smlatb(x23, w01, a->a3));
}

static TINYC_ALWAYS_INLINE void tinyc_dw3_row_s2(tinyc_acc4 *a, const int16_t *x,
                                                 const int16_t *w)
{
    const int32_t w01 = tinyc_ldw(w);
    const int32_t w12 = tinyc_ldw(w + 2);
    const int32_t x01 = tinyc_ldw(x);
    const int32_t x23 = tinyc_ldw(x + 2);
    const int32_t x45 = tinyc_ldw(x + 4);
    const int32_t x67 = tinyc_ldw(x + 6);
    const int32_t x89 = tinyc_ldw(x + 8);
    a->a0 = __smlabt(x23, w12, __smlad(x01, w01, a->a0));
    a->a1 = __smlabt(x45, w12, __smlad(x23, w01, a->a1));
    a->a2 = __smlabt(x67, w12, __smlad(x45, w01, a->a2));
    a->a3 = __smlabt(x89, w12, __smlad(x67, w01, a->a3));
}

/* q + d bytes, opaque to the optimiser (one store pointer instead of four). */
static inline tinyc_u32a *tinyc_dw3_step(tinyc_u32a *q, int32_t d)
{
    __asm__("add %0, %0, %1" : "+r"(q) : "r"(d));
    return q;
}

static TINYC_ALWAYS_INLINE void tinyc_dw3_widen2(const int8_t *x, int32_t xc, int32_t off,
                                                 int16_t *d, int32_t pw)
{
    const uint32_t v0 = tinyc_ld4(x);
    const uint32_t v1 = tinyc_ld4(x + xc);
    const int32_t e0 = __sxtab16(off, tinyc_s32(v0));
    const int32_t e1 = __sxtab16(off, tinyc_s32(v1));
    const int32_t o0 = tinyc_sxtab16_ror8(off, v0);
    const int32_t o1 = tinyc_sxtab16_ror8(off, v1);
    const int32_t pwb = 2 * pw;
    tinyc_u32a *q = (tinyc_u32a *)(void *)d;
    *q = (uint32_t)tinyc_pkhbt16(e0, e1);
    q = tinyc_dw3_step(q, pwb);
    *q = (uint32_t)tinyc_pkhbt16(o0, o1);
    q = tinyc_dw3_step(q, pwb);
    *q = (uint32_t)tinyc_pkhtb16(e1, e0);
    q = tinyc_dw3_step(q, pwb);
    *q = (uint32_t)tinyc_pkhtb16(o1, o0);
}

/* Four columns (x, x + xc, x + 2 xc, x + 3 xc) of four channels, + offset, to the planes d,
 * d + pw, d + 2 pw, d + 3 pw (two words each, d 4-byte aligned): tinyc_dw3_widen2 twice with
 * one walk over the planes. */
static TINYC_ALWAYS_INLINE void tinyc_dw3_widen4(const int8_t *x, int32_t xc, int32_t off,
                                                 int16_t *d, int32_t pw)
{
    const int8_t *x2 = x;
    uint32_t v0;
    uint32_t v1;
    uint32_t v2;
    uint32_t v3;
    __asm__("add %0, %0, %1, lsl #1" : "+r"(x2) : "r"(xc));  /* x + 2 xc: xc alone held */
    v0 = tinyc_ld4(x);
    v1 = tinyc_ld4(x + xc);
    v2 = tinyc_ld4(x2);
    v3 = tinyc_ld4(x2 + xc);
    const int32_t e0 = __sxtab16(off, tinyc_s32(v0));
    const int32_t e1 = __sxtab16(off, tinyc_s32(v1));
    const int32_t e2 = __sxtab16(off, tinyc_s32(v2));
    const int32_t e3 = __sxtab16(off, tinyc_s32(v3));
    const int32_t o0 = tinyc_sxtab16_ror8(off, v0);
    const int32_t o1 = tinyc_sxtab16_ror8(off, v1);
    const int32_t o2 = tinyc_sxtab16_ror8(off, v2);
    const int32_t o3 = tinyc_sxtab16_ror8(off, v3);
    const int32_t pwb = 2 * pw;
    tinyc_u32a *q = (tinyc_u32a *)(void *)d;
    q[0] = (uint32_t)tinyc_pkhbt16(e0, e1);
    q[1] = (uint32_t)tinyc_pkhbt16(e2, e3);
    q = tinyc_dw3_step(q, pwb);
    q[0] = (uint32_t)tinyc_pkhbt16(o0, o1);
    q[1] = (uint32_t)tinyc_pkhbt16(o2, o3);
    q = tinyc_dw3_step(q, pwb);
    q[0] = (uint32_t)tinyc_pkhtb16(e1, e0);
    q[1] = (uint32_t)tinyc_pkhtb16(e3, e2);
    q = tinyc_dw3_step(q, pwb);
    q[0] = (uint32_t)tinyc_pkhtb16(o1, o0);
    q[1] = (uint32_t)tinyc_pkhtb16(o3, o2);
}

/* Two columns (x, x + xc) of four channels, + offset, to the planes at d (a word each): the
 * half of one step of the asm loops below (12 registers in all). */
#define TINYC_DW3_WIDEN_HALF                                                               \
    "ldr %[v0], [%[x]]\n\t"                                                                \
    "ldr %[v1], [%[x], %[xc]]\n\t"                                                         \
    "sxtab16 %[t], %[off], %[v0]\n\t"                                                      \
    "sxtab16 %[s], %[off], %[v1]\n\t"                                                      \
    "sxtab16 %[v0], %[off], %[v0], ror #8\n\t"                                             \
    "sxtab16 %[v1], %[off], %[v1], ror #8\n\t"                                             \
    "pkhbt %[u], %[t], %[s], lsl #16\n\t"                                                  \
    "str %[u], [%[d]]\n\t"                                                                 \
    "pkhbt %[u], %[v0], %[v1], lsl #16\n\t"                                                \
    "str %[u], [%[d], %[pwb]]\n\t"                                                         \
    "pkhtb %[t], %[s], %[t], asr #16\n\t"                                                  \
    "str %[t], [%[d], %[pwb], lsl #1]\n\t"                                                 \
    "pkhtb %[v1], %[v1], %[v0], asr #16\n\t"                                               \
    "str %[v1], [%[d], %[pw3]]\n\t"

#define TINYC_DW3_WIDEN_OPERANDS                                                           \
    : [x] "+r"(x), [d] "+r"(q), [n] "+r"(n), [v0] "=&r"(v0), [v1] "=&r"(v1),               \
      [t] "=&r"(t), [s] "=&r"(s), [u] "=&r"(u)                                             \
    : [xc] "r"(xc), [off] "r"(off), [pwb] "r"(2 * pw), [pw3] "r"(6 * pw)                   \
    : "cc", "memory"

/* tinyc_dw3_widen4 n >= 1 times: _groups steps channels (x += 4, d += 4 planes), _cols steps
 * columns (x += 4 xc, d += 4 int16).  Per step 4 LDR, 8 SXTAB16, 8 PKH, 8 STR (register
 * offsets walk the planes). */
static TINYC_ALWAYS_INLINE void tinyc_dw3_widen4_groups(const int8_t *x, int32_t xc, int32_t off,
                                                        int16_t *d, int32_t pw, int32_t n)
{
    tinyc_u32a *q = (tinyc_u32a *)(void *)d;
    uint32_t v0, v1, t, s, u;
    __asm__ volatile("1:\n\t"
                     TINYC_DW3_WIDEN_HALF
                     "add %[x], %[x], %[xc], lsl #1\n\t"
                     "add %[d], %[d], #4\n\t"
                     TINYC_DW3_WIDEN_HALF
                     "sub %[x], %[x], %[xc], lsl #1\n\t"
                     "add %[x], %[x], #4\n\t"
                     "add %[d], %[d], %[pwb], lsl #2\n\t"
                     "sub %[d], %[d], #4\n\t"
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b"
                     TINYC_DW3_WIDEN_OPERANDS);
}

static TINYC_ALWAYS_INLINE void tinyc_dw3_widen4_cols(const int8_t *x, int32_t xc, int32_t off,
                                                      int16_t *d, int32_t pw, int32_t n)
{
    tinyc_u32a *q = (tinyc_u32a *)(void *)d;
    uint32_t v0, v1, t, s, u;
    __asm__ volatile("1:\n\t"
                     TINYC_DW3_WIDEN_HALF
                     "add %[x], %[x], %[xc], lsl #1\n\t"
                     "add %[d], %[d], #4\n\t"
                     TINYC_DW3_WIDEN_HALF
                     "add %[x], %[x], %[xc], lsl #1\n\t"
                     "add %[d], %[d], #4\n\t"
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b"
                     TINYC_DW3_WIDEN_OPERANDS);
}

/* a + x[0] w[0] + x[1] w[1] + x[2] w[3] (x at any int16 position: unaligned word loads). */
typedef uint32_t tinyc_u32h __attribute__((may_alias, aligned(2)));

static TINYC_ALWAYS_INLINE int32_t tinyc_dw3_dot3(int32_t a, const int16_t *x, const int16_t *w)
{
    const int32_t x01 = tinyc_s32(*(const tinyc_u32h *)(const void *)x);
    const int32_t x2 = x[2];
    return __smlabt(x2, tinyc_ldw(w + 2), __smlad(x01, tinyc_ldw(w), a));
}

/* x + d bytes, opaque to the optimiser (one register per row instead of three pointers). */
static inline const int16_t *tinyc_dw3_at(const int16_t *x, int32_t d)
{
    __asm__("add %0, %0, %1" : "+r"(x) : "r"(d));
    return x;
}

/* One column x of four channels, + offset, to d, d + pw, d + 2 pw, d + 3 pw. */
static TINYC_ALWAYS_INLINE void tinyc_dw3_widen1(const int8_t *x, int32_t off, int16_t *d,
                                                 int32_t pw)
{
    const uint32_t v = tinyc_ld4(x);
    const int32_t e = __sxtab16(off, tinyc_s32(v));
    const int32_t o = tinyc_sxtab16_ror8(off, v);
    d[0] = (int16_t)e;
    d[pw] = (int16_t)o;
    d[2 * pw] = (int16_t)(e >> 16);
    d[3 * pw] = (int16_t)(o >> 16);
}

/* o + d, opaque to the optimiser (one output pointer instead of four). */
static inline int8_t *tinyc_dw3_next(int8_t *o, int32_t d)
{
    __asm__("add %0, %0, %1" : "+r"(o) : "r"(d));
    return o;
}

/* tinyc_dw3_row_s1 / _s2 and a fifth output pixel after the four: returns a4 + its row. */
static TINYC_ALWAYS_INLINE int32_t tinyc_dw3_row_s15(tinyc_acc4 *a, int32_t a4,
                                                     const int16_t *x, const int16_t *w)
{
    const int32_t w01 = tinyc_ldw(w);
    const int32_t w12 = tinyc_ldw(w + 2);
    const int32_t x01 = tinyc_ldw(x);
    const int32_t x23 = tinyc_ldw(x + 2);
    const int32_t x45 = tinyc_ldw(x + 4);
    const int32_t x6 = x[6];
    a->a0 = __smlabt(x23, w12, __smlad(x01, w01, a->a0));
    a->a1 = __smlad(x23, w12, __smlatb(x01, w01, a->a1));
    a->a2 = __smlabt(x45, w12, __smlad(x23, w01, a->a2));
    a->a3 = __smlad(x45, w12, __smlatb(x23, w01, a->a3));
    return __smlabt(x6, w12, __smlad(x45, w01, a4));
}

/* The five output pixels of a stride-1 row (kws's rows) for one channel, from the bias k[0],
 * requantized with the record's {m, h, e} and stored to o, o + ch, ... o + 4 ch: one asm
 * (13 registers; with GCC the stores too, o and ch read from the stack).  Per filter row
 * `LDRD` of the weights {2 w0, 2 w1} {2 w1, 2 w2}, two `LDRD` of the inputs x0..x7 and 10
 * `SMLAD`/`SMLATB`/`SMLABT`; the requantization as tinyc_rq_x2. */
#define TINYC_DW3_ROW5(x, ofs)                                                             \
    "ldrd %[w01], %[w12], [%[k], #" #ofs "]\n\t"                                           \
    "ldrd %[xa], %[xb], [%[" x "]]\n\t"                                                     \
    "smlad %[a0], %[xa], %[w01], %[a0]\n\t"                                                \
    "smlatb %[a1], %[xa], %[w01], %[a1]\n\t"                                               \
    "smlabt %[a0], %[xb], %[w12], %[a0]\n\t"                                               \
    "smlad %[a1], %[xb], %[w12], %[a1]\n\t"                                                \
    "smlad %[a2], %[xb], %[w01], %[a2]\n\t"                                                \
    "smlatb %[a3], %[xb], %[w01], %[a3]\n\t"                                               \
    "ldrd %[xa], %[xb], [%[" x "], #8]\n\t"                                                 \
    "smlabt %[a2], %[xa], %[w12], %[a2]\n\t"                                               \
    "smlad %[a3], %[xa], %[w12], %[a3]\n\t"                                                \
    "smlad %[a4], %[xa], %[w01], %[a4]\n\t"                                                \
    "smlabt %[a4], %[xb], %[w12], %[a4]\n\t"

/* a = tinyc_rq_x2(a, m = w01, h = w12, e = x1), x2 a temporary. */
#define TINYC_DW3_RQ5(a)                                                                   \
    "add %[x2], %[w12], %[" a "], asr #31\n\t"                                              \
    "smmlar %[" a "], %[" a "], %[w01], %[x2]\n\t"                                          \
    "asr %[" a "], %[" a "], %[x1]\n\t"                                                     \
    "ssat %[" a "], #8, %[" a "]\n\t"

/* The sums of the three filter rows (a0..a4 from the bias) and their {m, h, e}. */
#define TINYC_DW3_FIVE_SUMS                                                                \
    "ldr %[a4], [%[k]]\n\t"                                                                \
    "ldrd %[w01], %[w12], [%[k], #16]\n\t"                                                 \
    "ldrd %[xa], %[xb], [%[x0]]\n\t"                                                       \
    "smlad %[a0], %[xa], %[w01], %[a4]\n\t"                                                \
    "smlatb %[a1], %[xa], %[w01], %[a4]\n\t"                                               \
    "smlabt %[a0], %[xb], %[w12], %[a0]\n\t"                                               \
    "smlad %[a1], %[xb], %[w12], %[a1]\n\t"                                                \
    "smlad %[a2], %[xb], %[w01], %[a4]\n\t"                                                \
    "smlatb %[a3], %[xb], %[w01], %[a4]\n\t"                                               \
    "ldrd %[xa], %[xb], [%[x0], #8]\n\t"                                                   \
    "smlabt %[a2], %[xa], %[w12], %[a2]\n\t"                                               \
    "smlad %[a3], %[xa], %[w12], %[a3]\n\t"                                                \
    "smlad %[a4], %[xa], %[w01], %[a4]\n\t"                                                \
    "smlabt %[a4], %[xb], %[w12], %[a4]\n\t"                                               \
    TINYC_DW3_ROW5("x1", 24)                                                               \
    TINYC_DW3_ROW5("x2", 32)                                                               \
    "ldrd %[w01], %[w12], [%[k], #4]\n\t"                                                  \
    "ldr %[x1], [%[k], #12]\n\t"

#define TINYC_DW3_FIVE_OUT                                                                 \
    [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [a4] "=&r"(a4),       \
    [w01] "=&r"(w01), [w12] "=&r"(w12), [xa] "=&r"(xa), [xb] "=&r"(xb), [x1] "+r"(x1),    \
    [x2] "+r"(x2)

static TINYC_ALWAYS_INLINE void tinyc_dw3_five_s1(const int16_t *x, int32_t d1, int32_t d2,
                                                  const int32_t *k, int8_t *o, int32_t ch)
{
    const int16_t *x1 = tinyc_dw3_at(x, d1);
    const int16_t *x2 = tinyc_dw3_at(x, d2);
    int32_t a0, a1, a2, a3, a4, w01, w12, xa, xb;
#if defined(__clang__)
    /* clang 14 crashes on the stores' memory operands next to 13 registers: stores in C */
    __asm__ volatile(TINYC_DW3_FIVE_SUMS
                     TINYC_DW3_RQ5("a0")
                     TINYC_DW3_RQ5("a1")
                     TINYC_DW3_RQ5("a2")
                     TINYC_DW3_RQ5("a3")
                     TINYC_DW3_RQ5("a4")
                     : TINYC_DW3_FIVE_OUT
                     : [x0] "r"(x), [k] "r"(k)
                     : "memory");
    o[0] = (int8_t)a0;
    o[ch] = (int8_t)a1;
    o[2 * ch] = (int8_t)a2;
    o[3 * ch] = (int8_t)a3;
    o[4 * ch] = (int8_t)a4;
#else
    __asm__ volatile(TINYC_DW3_FIVE_SUMS
                     "ldr %[xa], %[o]\n\t"
                     "ldr %[xb], %[ch]\n\t"
                     TINYC_DW3_RQ5("a0")
                     "strb %[a0], [%[xa]]\n\t"
                     TINYC_DW3_RQ5("a1")
                     "strb %[a1], [%[xa], %[xb]]\n\t"
                     "add %[xa], %[xa], %[xb], lsl #1\n\t"
                     TINYC_DW3_RQ5("a2")
                     "strb %[a2], [%[xa]]\n\t"
                     TINYC_DW3_RQ5("a3")
                     "strb %[a3], [%[xa], %[xb]]\n\t"
                     TINYC_DW3_RQ5("a4")
                     "strb %[a4], [%[xa], %[xb], lsl #1]"
                     : TINYC_DW3_FIVE_OUT
                     : [x0] "r"(x), [k] "r"(k), [o] "m"(o), [ch] "m"(ch)
                     : "memory");
#endif
}

static TINYC_ALWAYS_INLINE int32_t tinyc_dw3_row_s25(tinyc_acc4 *a, int32_t a4,
                                                     const int16_t *x, const int16_t *w)
{
    const int32_t w01 = tinyc_ldw(w);
    const int32_t w12 = tinyc_ldw(w + 2);
    const int32_t x89 = tinyc_ldw(x + 8);
    const int32_t x10 = x[10];
    tinyc_dw3_row_s2(a, x, w);
    return __smlabt(x10, w12, __smlad(x89, w01, a4));
}

#endif /* TINYC_DEPTHWISE_CONV2D_FAST_DSP_H */
