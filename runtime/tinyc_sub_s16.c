/*
 * tinyc_sub_s16.c - int16 elementwise subtract with broadcasting (TFLite Micro's int16 SUB,
 * reference_ops::Sub<int16_t> / BroadcastQuantSubSlow): both inputs shifted left by
 * left_shift (15) and rescaled to twice the larger input scale, the difference requantized
 * to the output; 32-bit arithmetic, offsets 0 for symmetric int16.
 */
#include "tinyc_broadcast_s16.h"
#include "tinyc_nn_s16.h"
#include "tinyc_requant.h"

static int16_t tinyc_sub16_one(const tinyc_add_params *p, int32_t x1, int32_t x2)
{
    const int32_t s1 = tinyc_shl_wrap(x1 + p->in1_offset, p->left_shift);
    const int32_t s2 = tinyc_shl_wrap(x2 + p->in2_offset, p->left_shift);
    const int32_t r1 = tinyc_requantize(s1, p->in1_multiplier, p->in1_shift);
    const int32_t r2 = tinyc_requantize(s2, p->in2_multiplier, p->in2_shift);
    const int32_t d = tinyc_s32((uint32_t)r1 - (uint32_t)r2);
    const int32_t out = tinyc_requantize(d, p->out_multiplier, p->out_shift);
    return tinyc_clamp_s16(out, p->out_offset, p->activation.min, p->activation.max);
}

void tinyc_sub_s16(const tinyc_add_params *params,
                   const tinyc_dims *in1_strides, const int16_t *in1,
                   const tinyc_dims *in2_strides, const int16_t *in2,
                   const tinyc_dims *output_dims, int16_t *output)
{
    tinyc_broadcast_s16(params, in1_strides, in1, in2_strides, in2, output_dims, output,
                        tinyc_sub16_one);
}
