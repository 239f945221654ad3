/*
 * tinyc_mul_s16.c - int16 elementwise multiply with broadcasting (TFLite Micro's int16 MUL,
 * reference_integer_ops::Mul<int16_t> / BroadcastMul4DSlow, offsets 0): the int32 product
 * requantized by the output multiplier, clamped to the activation range.
 */
#include "tinyc_broadcast_s16.h"
#include "tinyc_nn_s16.h"
#include "tinyc_requant.h"

static int16_t tinyc_mul16_one(const tinyc_add_params *p, int32_t x1, int32_t x2)
{
    const int32_t prod = (x1 + p->in1_offset) * (x2 + p->in2_offset);
    const int32_t out = tinyc_requantize(prod, p->out_multiplier, p->out_shift);
    return tinyc_clamp_s16(out, p->out_offset, p->activation.min, p->activation.max);
}

void tinyc_mul_s16(const tinyc_add_params *params,
                   const tinyc_dims *in1_strides, const int16_t *in1,
                   const tinyc_dims *in2_strides, const int16_t *in2,
                   const tinyc_dims *output_dims, int16_t *output)
{
    tinyc_broadcast_s16(params, in1_strides, in1, in2_strides, in2, output_dims, output,
                        tinyc_mul16_one);
}
