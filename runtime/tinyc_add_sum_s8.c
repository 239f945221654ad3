/*
 * tinyc_add_sum_s8.c - int8 add (TFLite int8 add) as the sum of two compile-time tables:
 * table1[x + 128] + table2[y + 128] is the output in 16.16 fixed point (the output offset and
 * rounding folded into table1), so each element is two table loads, one add and one
 * SSAT #8 with ASR #16.  backend_c/fast.py builds the tables and checks all 65,536 input
 * pairs against TFLite's arithmetic; the kernel is used only when every one is equal.
 */
#include "tinyc_fast.h"

#if defined(TINYC_DSP)
/* t[x]: one LDR with the index shifted; the tables are constant data (no memory operand). */
static inline int32_t tinyc_sum_lut(const int32_t *t, int32_t x)
{
    int32_t v;
    __asm__("ldr %0, [%1, %2, lsl #2]" : "=r"(v) : "r"(t), "r"(x));
    return v;
}

/* s / 2^16 rounded down, saturated to int8: SSAT #8 with ASR #16. */
static inline int8_t tinyc_sum_out(int32_t s)
{
    int32_t r;
    __asm__("ssat %0, #8, %1, asr #16" : "=r"(r) : "r"(s));
    return (int8_t)r;
}
#else
static inline int32_t tinyc_sum_lut(const int32_t *t, int32_t x)
{
    return t[x];
}

static inline int8_t tinyc_sum_out(int32_t s)
{
    const int32_t r = tinyc_asr(s, 16);
    return (int8_t)(r < -128 ? -128 : (r > 127 ? 127 : r));
}
#endif

#if defined(TINYC_DSP)
/* The contiguous loop, four elements per pass, each step one volatile one-instruction asm so
 * that no compiler reorders them: the eight byte loads and the eight table loads run back to
 * back (a Cortex-M4 load after a load whose result it does not address with takes one cycle),
 * the output pointer advances by the first, post-indexed store; ~35 cycles per four
 * elements. Reads of element i come before the write of element i (in place is allowed). */
#define TINYC_LDSB(v, p, k) __asm__ volatile("ldrsb %0, [%1, %2]" : "=r"(v) : "r"(p), "i"(k))
#define TINYC_LUT(v, t) __asm__ volatile("ldr %0, [%1, %0, lsl #2]" : "+r"(v) : "r"(t))
#define TINYC_SUM(u, v) __asm__ volatile("add %0, %0, %1\n\tssat %0, #8, %0, asr #16" \
                                         : "+r"(u) : "r"(v))
#define TINYC_STB(v, p, k) __asm__ volatile("strb %0, [%1, %2]" : : "r"(v), "r"(p), "i"(k))
#define TINYC_STB4(v, p) __asm__ volatile("strb %1, [%0], #4" : "+r"(p) : "r"(v))

static void tinyc_add_sum_run(const int8_t *a, const int32_t *t1, const int8_t *b,
                              const int32_t *t2, int8_t *out, int32_t n4)
{
    const int8_t *end = a + 4 * n4;
    __asm__ volatile("" : : : "memory");        /* earlier stores before the asm loads */
    while (a != end) {
        int32_t a0;
        int32_t b0;
        int32_t a1;
        int32_t b1;
        int32_t a2;
        int32_t b2;
        int32_t a3;
        int32_t b3;
        TINYC_LDSB(a0, a, 0);
        TINYC_LDSB(b0, b, 0);
        TINYC_LDSB(a1, a, 1);
        TINYC_LDSB(b1, b, 1);
        TINYC_LUT(a0, t1);
        TINYC_LUT(b0, t2);
        TINYC_LUT(a1, t1);
        TINYC_LUT(b1, t2);
        TINYC_LDSB(a2, a, 2);
        TINYC_LDSB(b2, b, 2);
        TINYC_LDSB(a3, a, 3);
        TINYC_LDSB(b3, b, 3);
        TINYC_LUT(a2, t1);
        TINYC_LUT(b2, t2);
        TINYC_LUT(a3, t1);
        TINYC_LUT(b3, t2);
        TINYC_SUM(a0, b0);
        TINYC_SUM(a1, b1);
        TINYC_SUM(a2, b2);
        TINYC_SUM(a3, b3);
        TINYC_STB4(a0, out);
        TINYC_STB(a1, out, -3);
        TINYC_STB(a2, out, -2);
        TINYC_STB(a3, out, -1);
        a += 4;
        b += 4;
    }
    __asm__ volatile("" : : : "memory");        /* the asm stores before later loads */
}
#else
static void tinyc_add_sum_run(const int8_t *a, const int32_t *t1, const int8_t *b,
                              const int32_t *t2, int8_t *out, int32_t n4)
{
    int32_t i;
    for (i = 0; i < 4 * n4; ++i) {
        out[i] = tinyc_sum_out(tinyc_add_wrap(t1[a[i]], t2[b[i]]));
    }
}
#endif

static void tinyc_add_sum_row(const int8_t *a, int32_t a_step, const int32_t *t1,
                              const int8_t *b, int32_t b_step, const int32_t *t2,
                              int8_t *out, int32_t n)
{
    int8_t *end = out + n;
    if (a_step == 1 && b_step == 1) {
        const int32_t n4 = n >> 2;
        tinyc_add_sum_run(a, t1, b, t2, out, n4);
        a += 4 * n4;
        b += 4 * n4;
        out += 4 * n4;
    }
    for (; out != end; a += a_step, b += b_step) {
        *out++ = tinyc_sum_out(tinyc_add_wrap(tinyc_sum_lut(t1, *a), tinyc_sum_lut(t2, *b)));
    }
}

/* Whether strides s walk an input of the output's shape d element by element. */
static int tinyc_add_sum_dense(const tinyc_dims *s, const tinyc_dims *d)
{
    return s->c == 1 && s->w == d->c && s->h == d->w * d->c
           && (d->n == 1 || s->n == d->h * d->w * d->c);
}

void tinyc_add_sum_s8(const tinyc_activation *activation,
                      const tinyc_dims *in1_strides, const int8_t *in1, const int32_t *table1,
                      const tinyc_dims *in2_strides, const int8_t *in2, const int32_t *table2,
                      const tinyc_dims *output_dims, int8_t *output)
{
    const tinyc_dims s1 = *in1_strides;
    const tinyc_dims s2 = *in2_strides;
    const tinyc_dims d = *output_dims;
    const int32_t size = d.n * d.h * d.w * d.c;
    int8_t *out = output;
    int32_t n;
    int32_t h;
    int32_t w;
    if (tinyc_add_sum_dense(&s1, &d) && tinyc_add_sum_dense(&s2, &d)) {
        /* both inputs have the output's shape: one row of every element */
        tinyc_add_sum_row(in1, 1, table1 + 128, in2, 1, table2 + 128, out, size);
    } else {
        for (n = 0; n < d.n; ++n) {
            for (h = 0; h < d.h; ++h) {
                for (w = 0; w < d.w; ++w) {
                    const int32_t i1 = n * s1.n + h * s1.h + w * s1.w;
                    const int32_t i2 = n * s2.n + h * s2.h + w * s2.w;
                    tinyc_add_sum_row(in1 + i1, s1.c, table1 + 128, in2 + i2, s2.c,
                                      table2 + 128, out, d.c);
                    out += d.c;
                }
            }
        }
    }
    tinyc_fast_activation(activation, output, size);
}
