/*
 * tinyc_add_s16.c - int16 elementwise add with broadcasting (TFLite Micro's int16 add with
 * general scales, reference_ops::AddElementwise<int16_t>): both inputs shifted left by
 * left_shift (15) and rescaled to twice the larger input scale, summed, requantized to the
 * output; 32-bit arithmetic, offsets 0 for symmetric int16.
 */
#include "tinyc_broadcast_s16.h"
#include "tinyc_nn_s16.h"
#include "tinyc_requant.h"

static int16_t tinyc_add16_one(const tinyc_add_params *p, int32_t x1, int32_t x2)
{
    const int32_t s1 = tinyc_shl_wrap(x1 + p->in1_offset, p->left_shift);
    const int32_t s2 = tinyc_shl_wrap(x2 + p->in2_offset, p->left_shift);
    const int32_t r1 = tinyc_requantize(s1, p->in1_multiplier, p->in1_shift);
    const int32_t r2 = tinyc_requantize(s2, p->in2_multiplier, p->in2_shift);
    const int32_t out = tinyc_requantize(tinyc_add_wrap(r1, r2), p->out_multiplier,
                                         p->out_shift);
    return tinyc_clamp_s16(out, p->out_offset, p->activation.min, p->activation.max);
}

#if defined(TINYC_DSP)
/* The DSP path (same bits): with multiplier m >= 0 and shift <= 0, gemmlowp's
 * SaturatingRoundingDoublingHighMul(a, m) is floor((2a m + 2^31) / 2^32) = SMMULR(2a, m) for
 * every 2a that fits int32, and RoundingDivideByPOT(v, e) is floor((v + h - [v < 0]) / 2^e)
 * with h = 2^(e-1) (e >= 1; v < 0 only when a < 0).  So each rescale is one SMMLAR with
 * h + (k & sign(a)) as the high addend and an ASR (k = -1 when e >= 1, else 0).  2a fits: the
 * inputs are int16 << 16; each rescaled input is at most 2^29 (m <= 2^30 when e = 0), so twice
 * their sum fits too. */
typedef struct {
    int32_t m;
    int32_t h;
    int32_t k;
    int32_t e;
} tinyc_add16_rq;

static int tinyc_add16_rq_of(int32_t m, int32_t shift, int32_t m_max, tinyc_add16_rq *q)
{
    if (shift > 0 || shift < -31 || m < 0 || m > m_max) {
        return 0;
    }
    q->m = m;
    q->e = -shift;
    q->h = (q->e > 0) ? (int32_t)(UINT32_C(1) << (q->e - 1)) : 0;
    q->k = (q->e > 0) ? -1 : 0;
    return 1;
}

/* Specialised at each call (its int flags are constants there). */
#define TINYC_ADD16_INLINE inline __attribute__((always_inline))

/* Whether strides s walk an input of the output's shape d element by element. */
static int tinyc_add16_dense(const tinyc_dims *s, const tinyc_dims *d)
{
    return s->c == 1 && s->w == d->c && s->h == d->w * d->c
           && (d->n == 1 || s->n == d->h * d->w * d->c);
}

/* RoundingDivideByPOT(SRDHM(a, m), e) from a2 = 2a. */
static inline int32_t tinyc_add16_rescale(int32_t a2, int32_t m, int32_t h, int32_t k,
                                          int32_t e)
{
    const int32_t t = h + (tinyc_asr(a2, 31) & k);
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a2), "r"(m), "r"(t));
    return tinyc_asr(r, e);
}

/* One element: k1 / k2 (constants at each call) say whether input 1 / 2 rounds (e >= 1); an
 * input with e = 0 is one SMMULR (h = 0, no sign term, no shift); the output has e >= 1. */
static TINYC_ADD16_INLINE int16_t tinyc_add16_elem(int32_t x1, int32_t x2,
                                                   const tinyc_add16_rq *q1,
                                                   const tinyc_add16_rq *q2,
                                                   const tinyc_add16_rq *qo, int32_t lo,
                                                   int32_t hi, int k1, int k2)
{
    const int32_t a1 = tinyc_shl_wrap(x1, 16);
    const int32_t a2 = tinyc_shl_wrap(x2, 16);
    const int32_t r1 = k1 ? tinyc_add16_rescale(a1, q1->m, q1->h, -1, q1->e)
                          : tinyc_add16_rescale(a1, q1->m, 0, 0, 0);
    const int32_t r2 = k2 ? tinyc_add16_rescale(a2, q2->m, q2->h, -1, q2->e)
                          : tinyc_add16_rescale(a2, q2->m, 0, 0, 0);
    int32_t y = tinyc_add16_rescale(tinyc_shl_wrap(r1 + r2, 1), qo->m, qo->h, -1, qo->e);
    y = (y < lo) ? lo : y;
    y = (y > hi) ? hi : y;
    return (int16_t)y;
}

static TINYC_ADD16_INLINE void tinyc_add16_loops(const tinyc_add_params *p,
                                                 const tinyc_add16_rq *q,
                                                 const tinyc_dims *s1, const int16_t *in1,
                                                 const tinyc_dims *s2, const int16_t *in2,
                                                 const tinyc_dims *d, int16_t *output,
                                                 int k1, int k2)
{
    const tinyc_add16_rq q1 = q[0];
    const tinyc_add16_rq q2 = q[1];
    const tinyc_add16_rq qo = q[2];
    const int32_t lo = p->activation.min;
    const int32_t hi = p->activation.max;
    const int32_t c1 = s1->c;
    const int32_t c2 = s2->c;
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
    if (tinyc_add16_dense(s1, d) && tinyc_add16_dense(s2, d)) {
        /* both inputs have the output's shape: one run over every element */
        const int16_t *end = in1 + d->n * d->h * d->w * d->c;
        while (in1 != end) {
            *output++ = tinyc_add16_elem(*in1++, *in2++, &q1, &q2, &qo, lo, hi, k1, k2);
        }
        return;
    }
    for (n = 0; n < d->n; ++n) {
        for (h = 0; h < d->h; ++h) {
            for (w = 0; w < d->w; ++w) {
                const int16_t *a = in1 + n * s1->n + h * s1->h + w * s1->w;
                const int16_t *b = in2 + n * s2->n + h * s2->h + w * s2->w;
                for (c = 0; c < d->c; ++c) {
                    output[c] = tinyc_add16_elem(a[c * c1], b[c * c2], &q1, &q2, &qo, lo, hi,
                                                 k1, k2);
                }
                output += d->c;
            }
        }
    }
}

/* One function per rounding pattern, each allocated on its own (not inlined together). */
#define TINYC_ADD16_VARIANT(name, k1, k2) \
    static __attribute__((noinline)) void name(const tinyc_add_params *p, \
                                               const tinyc_add16_rq *q, \
                                               const tinyc_dims *s1, const int16_t *in1, \
                                               const tinyc_dims *s2, const int16_t *in2, \
                                               const tinyc_dims *d, int16_t *output) \
    { \
        tinyc_add16_loops(p, q, s1, in1, s2, in2, d, output, k1, k2); \
    }
TINYC_ADD16_VARIANT(tinyc_add16_dsp11, 1, 1)
TINYC_ADD16_VARIANT(tinyc_add16_dsp10, 1, 0)
TINYC_ADD16_VARIANT(tinyc_add16_dsp01, 0, 1)
TINYC_ADD16_VARIANT(tinyc_add16_dsp00, 0, 0)

static void tinyc_add16_dsp(const tinyc_add_params *p, const tinyc_add16_rq *q,
                            const tinyc_dims *s1, const int16_t *in1,
                            const tinyc_dims *s2, const int16_t *in2,
                            const tinyc_dims *d, int16_t *output)
{
    if (q[0].e > 0 && q[1].e > 0) {
        tinyc_add16_dsp11(p, q, s1, in1, s2, in2, d, output);
    } else if (q[0].e > 0) {
        tinyc_add16_dsp10(p, q, s1, in1, s2, in2, d, output);
    } else if (q[1].e > 0) {
        tinyc_add16_dsp01(p, q, s1, in1, s2, in2, d, output);
    } else {
        tinyc_add16_dsp00(p, q, s1, in1, s2, in2, d, output);
    }
}
#endif

void tinyc_add_s16(const tinyc_add_params *params,
                   const tinyc_dims *in1_strides, const int16_t *in1,
                   const tinyc_dims *in2_strides, const int16_t *in2,
                   const tinyc_dims *output_dims, int16_t *output)
{
#if defined(TINYC_DSP)
    tinyc_add16_rq q[3];
    if (params->left_shift == 15 && params->in1_offset == 0 && params->in2_offset == 0
        && params->out_offset == 0 && params->activation.min >= -32768
        && params->activation.max <= 32767
        && tinyc_add16_rq_of(params->in1_multiplier, params->in1_shift,
                             (params->in1_shift == 0) ? (INT32_C(1) << 30) : INT32_MAX, &q[0])
        && tinyc_add16_rq_of(params->in2_multiplier, params->in2_shift,
                             (params->in2_shift == 0) ? (INT32_C(1) << 30) : INT32_MAX, &q[1])
        && tinyc_add16_rq_of(params->out_multiplier, params->out_shift, INT32_MAX, &q[2])
        && q[2].e > 0) {
        tinyc_add16_dsp(params, q, in1_strides, in1, in2_strides, in2, output_dims, output);
        return;
    }
#endif
    tinyc_broadcast_s16(params, in1_strides, in1, in2_strides, in2, output_dims, output,
                        tinyc_add16_one);
}
