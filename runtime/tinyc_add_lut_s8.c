/*
 * tinyc_add_lut_s8.c - int8 add (TFLite int8 add) through compile-time tables: each input's
 * offset, left shift and rescale depend on its int8 value only, so table[x + 128] holds twice
 * it (the sum scaled by 2 is what SMMLAR wants); the kernel adds the two and requantizes to the
 * output (tinyc_rq).
 */
#include "tinyc_fast.h"

/* t[x]: one LDR with the index shifted (GCC 12 would compute the address apart); the tables
 * are constant data, so no memory operand. */
#if defined(TINYC_DSP)
static inline int32_t tinyc_lut(const int32_t *t, int32_t x)
{
    int32_t v;
    __asm__("ldr %0, [%1, %2, lsl #2]" : "=r"(v) : "r"(t), "r"(x));
    return v;
}
#else
static inline int32_t tinyc_lut(const int32_t *t, int32_t x)
{
    return t[x];
}
#endif

static void tinyc_add_lut_row(const tinyc_add_lut_params *p, const int8_t *a, int32_t a_step,
                              const int32_t *t1, const int8_t *b, int32_t b_step,
                              const int32_t *t2, int8_t *out, int32_t n)
{
    const tinyc_rq rq = p->out_rq;
    const int8_t *end = out + n;
    (void)p->out_offset;            /* folded into rq.h */
    if (a_step == 1 && b_step == 1) {   /* 12 instructions per element on DSP cores */
        while (out != end) {
            *out++ = (int8_t)tinyc_rq_x2(tinyc_add_wrap(tinyc_lut(t1, *a++), tinyc_lut(t2, *b++)), rq.m, rq.h, rq.e);
        }
        return;
    }
    for (; out != end; a += a_step, b += b_step) {
        *out++ = (int8_t)tinyc_rq_x2(tinyc_add_wrap(tinyc_lut(t1, *a), tinyc_lut(t2, *b)), rq.m, rq.h, rq.e);
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
