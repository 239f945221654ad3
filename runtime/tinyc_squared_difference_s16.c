/*
 * tinyc_squared_difference_s16.c - int16 (x1 - x2)^2 with broadcasting (TFLite Micro's
 * SQUARED_DIFFERENCE for int16: left shift 0): both inputs rescaled to twice the larger input
 * scale, the difference squared in int32 (at most 32767^2), requantized to the output.
 */
#include "tinyc_broadcast_s16.h"
#include "tinyc_nn_s16.h"
#include "tinyc_requant.h"

static int16_t tinyc_sqdiff16_one(const tinyc_add_params *p, int32_t x1, int32_t x2)
{
    const int32_t s1 = tinyc_shl_wrap(x1 + p->in1_offset, p->left_shift);
    const int32_t s2 = tinyc_shl_wrap(x2 + p->in2_offset, p->left_shift);
    const int32_t r1 = tinyc_requantize(s1, p->in1_multiplier, p->in1_shift);
    const int32_t r2 = tinyc_requantize(s2, p->in2_multiplier, p->in2_shift);
    const int32_t d = tinyc_s32((uint32_t)r1 - (uint32_t)r2);
    const int32_t sq = tinyc_s32((uint32_t)d * (uint32_t)d);
    const int32_t out = tinyc_requantize(sq, p->out_multiplier, p->out_shift);
    return tinyc_clamp_s16(out, p->out_offset, p->activation.min, p->activation.max);
}

void tinyc_squared_difference_s16(const tinyc_add_params *params,
                                  const tinyc_dims *in1_strides, const int16_t *in1,
                                  const tinyc_dims *in2_strides, const int16_t *in2,
                                  const tinyc_dims *output_dims, int16_t *output)
{
    tinyc_broadcast_s16(params, in1_strides, in1, in2_strides, in2, output_dims, output,
                        tinyc_sqdiff16_one);
}
