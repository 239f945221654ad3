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

/* RoundingDivideByPOT(SRDHM(a, m), e) from a2 = 2a. */
static inline int32_t tinyc_add16_rescale(int32_t a2, int32_t m, int32_t h, int32_t k,
                                          int32_t e)
{
    const int32_t t = h + (tinyc_asr(a2, 31) & k);
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a2), "r"(m), "r"(t));
    return tinyc_asr(r, e);
}

static void tinyc_add16_dsp(const tinyc_add_params *p, const tinyc_add16_rq *q,
                            const tinyc_dims *s1, const int16_t *in1,
                            const tinyc_dims *s2, const int16_t *in2,
                            const tinyc_dims *d, int16_t *output)
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
    for (n = 0; n < d->n; ++n) {
        for (h = 0; h < d->h; ++h) {
            for (w = 0; w < d->w; ++w) {
                const int16_t *a = in1 + n * s1->n + h * s1->h + w * s1->w;
                const int16_t *b = in2 + n * s2->n + h * s2->h + w * s2->w;
                for (c = 0; c < d->c; ++c) {
                    const int32_t r1 = tinyc_add16_rescale(tinyc_shl_wrap(a[c * c1], 16),
                                                           q1.m, q1.h, q1.k, q1.e);
                    const int32_t r2 = tinyc_add16_rescale(tinyc_shl_wrap(b[c * c2], 16),
                                                           q2.m, q2.h, q2.k, q2.e);
                    int32_t y = tinyc_add16_rescale(tinyc_shl_wrap(r1 + r2, 1),
                                                    qo.m, qo.h, qo.k, qo.e);
                    y = (y < lo) ? lo : y;
                    y = (y > hi) ? hi : y;
                    output[c] = (int16_t)y;
                }
                output += d->c;
            }
        }
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
        && tinyc_add16_rq_of(params->out_multiplier, params->out_shift, INT32_MAX, &q[2])) {
        tinyc_add16_dsp(params, q, in1_strides, in1, in2_strides, in2, output_dims, output);
        return;
    }
#endif
    tinyc_broadcast_s16(params, in1_strides, in1, in2_strides, in2, output_dims, output,
                        tinyc_add16_one);
}
