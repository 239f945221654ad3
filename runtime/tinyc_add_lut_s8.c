/*
 * tinyc_add_lut_s8.c - int8 add (TFLite int8 add) through compile-time tables: each input's
 * offset, left shift and rescale depend on its int8 value only, so table[x + 128] holds twice
 * it (the sum scaled by 2 is what SMMLAR wants); the kernel adds the two and requantizes to the
 * output (tinyc_rq).
 */
#include "tinyc_fast.h"

static void tinyc_add_lut_row(const tinyc_add_lut_params *p, const int8_t *a, int32_t a_step,
                              const int32_t *t1, const int8_t *b, int32_t b_step,
                              const int32_t *t2, int8_t *out, int32_t n)
{
    const tinyc_rq rq = p->out_rq;
    const int32_t zp = p->out_offset;
    int32_t i = 0;
#if defined(TINYC_DSP)
    if (a_step == 1 && b_step == 1 && n > 0) {      /* 12 instructions per element */
        const int8_t *end = out + n;
        int32_t x;
        int32_t y;
        int32_t t;
        __asm__ volatile("1:\n\t"
                         "ldrsb %[x], [%[a]], #1\n\t"
                         "ldrsb %[y], [%[b]], #1\n\t"
                         "ldr %[x], [%[t1], %[x], lsl #2]\n\t"
                         "ldr %[y], [%[t2], %[y], lsl #2]\n\t"
                         "add %[x], %[x], %[y]\n\t"
                         "add %[t], %[h], %[x], asr #31\n\t"
                         "smmlar %[x], %[x], %[m], %[t]\n\t"
                         "asr %[x], %[x], %[e]\n\t"
                         "ssat %[x], #8, %[x]\n\t"
                         "strb %[x], [%[o]], #1\n\t"
                         "cmp %[o], %[end]\n\t"
                         "bne 1b"
                         : [a] "+r"(a), [b] "+r"(b), [o] "+r"(out), [x] "=&r"(x), [y] "=&r"(y),
                           [t] "=&r"(t)
                         : [t1] "r"(t1), [t2] "r"(t2), [h] "r"(rq.h), [m] "r"(rq.m),
                           [e] "r"(rq.e), [end] "r"(end)
                         : "memory", "cc");
        return;
    }
#endif
    for (; i < n; ++i, a += a_step, b += b_step) {
        const int32_t sum = tinyc_add_wrap(t1[*a], t2[*b]) / 2;
        out[i] = (int8_t)tinyc_rq_apply3(sum, rq.m, rq.h, rq.e, zp);
    }
}

void tinyc_add_lut_s8(const tinyc_add_lut_params *params,
                      const tinyc_dims *in1_strides, const int8_t *in1, const int32_t *table1,
                      const tinyc_dims *in2_strides, const int8_t *in2, const int32_t *table2,
                      const tinyc_dims *output_dims, int8_t *output)
{
    const tinyc_dims s1 = *in1_strides;
    const tinyc_dims s2 = *in2_strides;
    const tinyc_dims d = *output_dims;
    int8_t *out = output;
    int32_t n;
    int32_t h;
    int32_t w;
    for (n = 0; n < d.n; ++n) {
        for (h = 0; h < d.h; ++h) {
            for (w = 0; w < d.w; ++w) {
                const int32_t i1 = n * s1.n + h * s1.h + w * s1.w;
                const int32_t i2 = n * s2.n + h * s2.h + w * s2.w;
                tinyc_add_lut_row(params, in1 + i1, s1.c, table1 + 128, in2 + i2, s2.c,
                                  table2 + 128, out, d.c);
                out += d.c;
            }
        }
    }
    tinyc_fast_activation(&params->activation, output, d.n * d.h * d.w * d.c);
}
