/*
 * tinyc_nn_s16.h - the 16x8 kernels: int16 activations (symmetric, zero point 0), int8
 * weights, int64 bias (TFLite's 16x8 quantization scheme, as TFLite Micro's reference kernels
 * and CMSIS-NN's *_s16 kernels compute it).
 *
 * The parameter structs are tinyc_nn.h's; their offsets are 0 for int16 tensors and the
 * activation range lies within [-32768, 32767].  Convolutions accumulate in int64 and
 * requantize with the 64-bit MultiplyByQuantizedMultiplier (tinyc_requantize_s64, shift < 8);
 * add and the int8 <-> int16 conversions use the 32-bit tinyc_requantize.
 */
#ifndef TINYC_NN_S16_H
#define TINYC_NN_S16_H

#include <stdint.h>

#include "tinyc_nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* filter_dims: {out_c, kh, kw, in_c}; bias may be NULL. */
void tinyc_conv2d_s16(const tinyc_conv_params *params,
                      const tinyc_per_channel_quant_params *quant,
                      const tinyc_dims *input_dims, const int16_t *input,
                      const tinyc_dims *filter_dims, const int8_t *filter,
                      const int64_t *bias,
                      const tinyc_dims *output_dims, int16_t *output);

/* filter_dims: {1, kh, kw, out_c}; bias may be NULL. */
void tinyc_depthwise_conv2d_s16(const tinyc_dw_conv_params *params,
                                const tinyc_per_channel_quant_params *quant,
                                const tinyc_dims *input_dims, const int16_t *input,
                                const tinyc_dims *filter_dims, const int8_t *filter,
                                const int64_t *bias,
                                const tinyc_dims *output_dims, int16_t *output);

/* input_dims: {batches, 1, 1, in}; filter_dims: {out, 1, 1, in}; output_dims: {batches, 1, 1,
 * out}; bias may be NULL. */
void tinyc_fully_connected_s16(const tinyc_fc_params *params,
                               const tinyc_per_channel_quant_params *quant,
                               const tinyc_dims *input_dims, const int16_t *input,
                               const tinyc_dims *filter_dims, const int8_t *filter,
                               const int64_t *bias,
                               const tinyc_dims *output_dims, int16_t *output);

/* left_shift 15; strides as tinyc_add_s8's (0 where broadcast); may run in place. */
void tinyc_add_s16(const tinyc_add_params *params,
                   const tinyc_dims *in1_strides, const int16_t *in1,
                   const tinyc_dims *in2_strides, const int16_t *in2,
                   const tinyc_dims *output_dims, int16_t *output);

/* filter_dims: {1, kh, kw, 1}; padding never counts. */
void tinyc_avg_pool2d_s16(const tinyc_pool_params *params,
                          const tinyc_dims *input_dims, const int16_t *input,
                          const tinyc_dims *filter_dims,
                          const tinyc_dims *output_dims, int16_t *output);

void tinyc_max_pool2d_s16(const tinyc_pool_params *params,
                          const tinyc_dims *input_dims, const int16_t *input,
                          const tinyc_dims *filter_dims,
                          const tinyc_dims *output_dims, int16_t *output);

/* y = clamp(requantize(x + input_offset) + output_offset) to the output type (TFLite QUANTIZE
 * between integer types). */
typedef struct {
    int32_t input_offset;       /* -input zero point */
    int32_t output_offset;      /* +output zero point */
    int32_t multiplier;
    int32_t shift;
} tinyc_requantize_params;

void tinyc_requantize_s8_s16(const tinyc_requantize_params *params, int32_t size,
                             const int8_t *input, int16_t *output);

void tinyc_requantize_s16_s8(const tinyc_requantize_params *params, int32_t size,
                             const int16_t *input, int8_t *output);

/* int16 -> int16 with another scale (TFLite QUANTIZE int16 -> int16, zero points 0). */
void tinyc_requantize_s16_s16(const tinyc_requantize_params *params, int32_t size,
                              const int16_t *input, int16_t *output);

/* ---- helpers shared by the 16x8 kernels (static inline) ------------------------------------ */

/* floor(x / 2^n), n in [0, 63], defined for negative x. */
static inline int64_t tinyc_asr64(int64_t x, int32_t n)
{
    return (x >= 0) ? (x >> n) : ~((~x) >> n);
}

/*
 * TFLite MultiplyByQuantizedMultiplier(int64_t x, ...) = CMSIS-NN arm_nn_requantize_s64: the
 * Q31 multiplier reduced to Q15 (rounded, at most 0x7FFF), then x * reduced / 2^(15 - shift)
 * rounded half up, narrowed to int32.  |acc| < 2^47, shift in [-31, 7].
 */
static inline int32_t tinyc_requantize_s64(int64_t acc, int32_t multiplier, int32_t shift)
{
    const int64_t reduced = (multiplier < 0x7FFF0000) ? (((int64_t)multiplier + 32768) >> 16)
                                                      : 0x7FFF;
    const int32_t total = 15 - shift;
    const int64_t prod = acc * reduced + ((int64_t)1 << (total - 1));
    const uint32_t low = (uint32_t)((uint64_t)tinyc_asr64(prod, total) & 0xFFFFFFFFu);
    return (low <= (uint32_t)INT32_MAX) ? (int32_t)low : (int32_t)(low - 0x80000000u) + INT32_MIN;
}

/* value + out_offset (without overflow), clamped to [lo, hi] within the int16 range. */
static inline int16_t tinyc_clamp_s16(int32_t value, int32_t out_offset, int32_t lo, int32_t hi)
{
    int64_t y = (int64_t)value + (int64_t)out_offset;
    if (y < lo) {
        y = lo;
    }
    if (y > hi) {
        y = hi;
    }
    return (int16_t)y;
}

/* The tail of the 16x8 conv, depthwise and fully-connected kernels for output channel oc:
 * acc + bias[oc] (bias may be NULL) requantized with the channel's multiplier and shift,
 * clamped to the activation (int16 offsets are 0). */
static inline int16_t tinyc_requant_out_s16(int64_t acc, const int64_t *bias,
                                            const tinyc_per_channel_quant_params *q, int32_t oc,
                                            const tinyc_activation *act)
{
    if (bias != 0) {
        acc += bias[oc];
    }
    return tinyc_clamp_s16(tinyc_requantize_s64(acc, q->multiplier[oc], q->shift[oc]), 0,
                           act->min, act->max);
}

/* 16x8 RELU / LEAKY_RELU (TFLM ReluQuantized<int16_t>, QuantizeLeakyRelu<int16_t>, zero
 * points 0): x >= 0 ? requantize(x, mult_pos, shift_pos) : requantize(x, mult_neg, shift_neg),
 * clamped to int16 (mult_neg 0: RELU). */
typedef struct {
    int32_t mult_pos;
    int32_t shift_pos;
    int32_t mult_neg;
    int32_t shift_neg;
} tinyc_leaky_requantize_params;

void tinyc_leaky_requantize_s16(const tinyc_leaky_requantize_params *params, int32_t size,
                                const int16_t *input, int16_t *output);

/* 16x8 SUB (TFLM reference_ops::Sub<int16_t>): tinyc_add_s16's arithmetic with the
 * rescaled inputs' difference; same params and strides. */
void tinyc_sub_s16(const tinyc_add_params *params,
                   const tinyc_dims *in1_strides, const int16_t *in1,
                   const tinyc_dims *in2_strides, const int16_t *in2,
                   const tinyc_dims *output_dims, int16_t *output);

/* 16x8 MUL (TFLM reference_integer_ops::Mul<int16_t>, offsets 0): requantize(x1 * x2,
 * out_multiplier, out_shift), clamped; params as tinyc_add_s16's (the rescaling fields
 * unused). */
void tinyc_mul_s16(const tinyc_add_params *params,
                   const tinyc_dims *in1_strides, const int16_t *in1,
                   const tinyc_dims *in2_strides, const int16_t *in2,
                   const tinyc_dims *output_dims, int16_t *output);

/* 16x8 SQUARED_DIFFERENCE (TFLM squared_difference.cc, int16: left shift 0): the rescaled
 * inputs' difference squared in int32, requantized; params as tinyc_add_s16's. */
void tinyc_squared_difference_s16(const tinyc_add_params *params,
                                  const tinyc_dims *in1_strides, const int16_t *in1,
                                  const tinyc_dims *in2_strides, const int16_t *in2,
                                  const tinyc_dims *output_dims, int16_t *output);

/* 16x8 PRELU (TFLM BroadcastPrelu4DSlow<int16_t, int8_t>): x >= 0 ? requantize(x,
 * in1_multiplier, in1_shift) : requantize(x * (alpha + in2_offset), out_multiplier,
 * out_shift), clamped; int8 alpha broadcast by in2_strides. */
void tinyc_prelu_s16(const tinyc_add_params *params,
                     const tinyc_dims *in1_strides, const int16_t *in1,
                     const tinyc_dims *in2_strides, const int8_t *in2,
                     const tinyc_dims *output_dims, int16_t *output);

#ifdef __cplusplus
}
#endif

/* 16x8 LOGISTIC (TFLM reference_integer_ops::Logistic on int16): the input times mult,
 * rounded right by shift, on the uint16 sigmoid table (tinyc_lstm.h lstm_sigmoid_scaled);
 * Q0.15 output. */
void tinyc_logistic_s16(int32_t mult, int32_t shift, const uint16_t *table, int32_t size,
                        const int16_t *input, int16_t *output);
/* 16x8 TANH (TFLM reference_integer_ops::Tanh on int16): the same with lstm_tanh. */
void tinyc_tanh_s16(int32_t mult, int32_t shift, const uint16_t *table, int32_t size,
                    const int16_t *input, int16_t *output);

/* 16x8 SOFTMAX over the last axis (TFLM reference_ops::SoftmaxInt16): exp and 1/(1 + x)
 * int16 tables (513 entries, interpolated), output Q0.15 in [0, 32767]. */
void tinyc_softmax_s16(int32_t rows, int32_t depth, int32_t mult, int32_t shift,
                       const int16_t *exp_lut, const int16_t *recip_lut,
                       const int16_t *input, int16_t *output);

/* 16x8 RSQRT (TFLM RsqrtEvalQuantized<int16_t>): 1/sqrt per value, zero points 0. */
void tinyc_rsqrt_s16(int32_t mult, int32_t shift, int32_t size, const int16_t *input,
                     int16_t *output);
/* ---- 16x8 fast kernels (backend_c/fast_s16.py checks sum |w| * 2^15 < 2^31 per channel, so
 * the sums are exact in int32; same bits as tinyc_conv2d_s16 / tinyc_depthwise_conv2d_s16) -- */

/* filter [out_c][k4] int8 (rows of row4, zero padded), each group of four k stored
 * {w0, w2, w1, w3}; scratch 8 * k4 bytes; input/output offsets 0. */
void tinyc_conv2d_fast_s16(const tinyc_conv_fast_params *params,
                           const tinyc_per_channel_quant_params *quant,
                           const int16_t *input, const int8_t *filter, const int64_t *bias,
                           int32_t acc32, int16_t *scratch, int16_t *output);

/* Channel multiplier 1, channels % 4 == 0; filter int16 [kh * kw][c]; scratch 8 * kh * kw + 20 * c B. */
void tinyc_depthwise_conv2d_fast_s16(const tinyc_dw_fast_params *params,
                                     const tinyc_per_channel_quant_params *quant,
                                     const int16_t *input, const int16_t *filter,
                                     const int64_t *bias, int32_t acc32, int32_t *scratch,
                                     int16_t *output);

#endif /* TINYC_NN_S16_H */
