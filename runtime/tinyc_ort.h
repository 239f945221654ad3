/*
 * tinyc_ort.h - ONNX Runtime's float32 requantization of conv2d / depthwise / fully connected
 * outputs, in integer arithmetic only (no float in the C): ORT-family QDQ imports (IR attrs
 * ort_mult, ort_exp; tinyc/ir/ops/conv.py, qmath.ort_requantize_int).
 *
 * ORT (MLAS MlasRequantizeOutput after QLinearConv / QGemm / QLinearMatMul) computes
 *   y = clamp(rint(float32(acc + bias) * scale) + zero point),  IEEE float32, half to even,
 * with scale = ort_mult * 2^ort_exp (ort_mult the 24-bit significand). Here: |acc| rounded to
 * 24 significant bits (float32(acc)), times ort_mult (exact, < 2^48), rounded to 24 bits (the
 * float32 product), rounded half to even to an integer by the exponents' sum, sign put back.
 * The generic kernels take it in place of tinyc_requant_out_s8 (tinyc_*_ort_s8.c): the
 * quant params' multiplier[] holds ort_mult, shift[] ort_exp. Kept in its own header so that
 * other models keep tinyc_nn.h and the kernels as they are.
 */
#ifndef TINYC_ORT_H
#define TINYC_ORT_H

#include <stdint.h>

#include "tinyc_nn.h"
#include "tinyc_requant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The number of significant bits of x (0 for 0); CLZ where the compiler has it. */
static inline int32_t tinyc_ort_bits32(uint32_t x)
{
#if (defined(__GNUC__) || defined(__clang__)) && !defined(TINYC_ORT_NO_CLZ)
    return (x == 0u) ? 0 : 32 - (int32_t)__builtin_clz(x);
#else
    int32_t n = 0;
    while (x != 0u) {
        x >>= 1;
        n += 1;
    }
    return n;
#endif
}

static inline int32_t tinyc_ort_bits(uint64_t x)
{
    const uint32_t hi = (uint32_t)(x >> 32);
    return (hi != 0u) ? 32 + tinyc_ort_bits32(hi) : tinyc_ort_bits32((uint32_t)x);
}

/* x / 2^n rounded half to even, n in [0, 63]. */
static inline uint64_t tinyc_ort_shift_even(uint64_t x, int32_t n)
{
    uint64_t q, r, half;
    if (n <= 0) {
        return x;
    }
    q = x >> n;
    r = x & ((UINT64_C(1) << n) - 1u);
    half = UINT64_C(1) << (n - 1);
    return q + ((r > half || (r == half && (q & 1u) != 0u)) ? 1u : 0u);
}

/* rint(float32(acc) * float32(mult * 2^exp)), saturated to int32; 2^23 <= mult < 2^24. */
static inline int32_t tinyc_ort_requantize(int32_t acc, int32_t mult, int32_t exp)
{
    const uint64_t a0 = (acc < 0) ? (uint64_t)(-(int64_t)acc) : (uint64_t)acc;
    int32_t k = tinyc_ort_bits(a0) - 24;
    int32_t d, s;
    uint64_t a, p, r;
    if (a0 == 0u) {
        return 0;
    }
    if (k < 0) {
        k = 0;
    }
    a = tinyc_ort_shift_even(a0, k);                  /* float32(|acc|) = a * 2^k */
    p = a * (uint64_t)(uint32_t)mult;                 /* < 2^48 */
    d = tinyc_ort_bits(p) - 24;
    if (d < 0) {
        d = 0;
    }
    p = tinyc_ort_shift_even(p, d);                   /* float32 product = p * 2^(d+k+exp) */
    s = d + k + exp;
    if (s >= 0) {
        r = (s > 31) ? UINT64_C(0x80000000) : (p << s);
        if (r > UINT64_C(0x80000000)) {
            r = UINT64_C(0x80000000);
        }
    } else {
        r = (s < -62) ? 0u : tinyc_ort_shift_even(p, -s);
    }
    if (acc < 0) {
        return (r >= UINT64_C(0x80000000)) ? INT32_MIN : -(int32_t)r;
    }
    return (r >= UINT64_C(0x80000000)) ? INT32_MAX : (int32_t)r;
}

/* tinyc_requant_out_s8 with ONNX Runtime's requantization: q->multiplier[oc] = ort_mult,
 * q->shift[oc] = ort_exp. */
static inline int8_t tinyc_ort_requant_out_s8(int32_t acc, int32_t bias,
                                              const tinyc_per_channel_quant_params *q,
                                              int32_t oc, int32_t out_offset,
                                              const tinyc_activation *act)
{
    acc = tinyc_ort_requantize(tinyc_add_wrap(acc, bias), q->multiplier[oc], q->shift[oc]);
    return tinyc_clamp_s8(acc, out_offset, act->min, act->max);
}

/* The generic kernels (tinyc_conv2d_s8, tinyc_depthwise_conv2d_s8, tinyc_fully_connected_s8)
 * with ONNX Runtime's requantization (tinyc_*_ort_s8.c). */
void tinyc_conv2d_ort_s8(const tinyc_conv_params *params,
                         const tinyc_per_channel_quant_params *quant,
                         const tinyc_dims *input_dims, const int8_t *input,
                         const tinyc_dims *filter_dims, const int8_t *filter,
                         const int32_t *bias,
                         const tinyc_dims *output_dims, int8_t *output);

void tinyc_depthwise_conv2d_ort_s8(const tinyc_dw_conv_params *params,
                                   const tinyc_per_channel_quant_params *quant,
                                   const tinyc_dims *input_dims, const int8_t *input,
                                   const tinyc_dims *filter_dims, const int8_t *filter,
                                   const int32_t *bias,
                                   const tinyc_dims *output_dims, int8_t *output);

void tinyc_fully_connected_ort_s8(const tinyc_fc_params *params,
                                  const tinyc_per_channel_quant_params *quant,
                                  const tinyc_dims *input_dims, const int8_t *input,
                                  const tinyc_dims *filter_dims, const int8_t *filter,
                                  const int32_t *bias,
                                  const tinyc_dims *output_dims, int8_t *output);

/* tinyc_mul_s8 with ONNX Runtime's QLinearMul requantization (tinyc_mul_ort_s8.c): the
 * params' out_multiplier / out_shift hold the float32 ratio sa * sb / sc as ort_mult /
 * ort_exp. */
void tinyc_mul_ort_s8(const tinyc_mul_params *params,
                      const tinyc_dims *in1_strides, const int8_t *in1,
                      const tinyc_dims *in2_strides, const int8_t *in2,
                      const tinyc_dims *output_dims, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYC_ORT_H */
