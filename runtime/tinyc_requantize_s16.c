/*
 * tinyc_requantize_s16.c - conversions between int8 and int16 activations (TFLite Micro's
 * QUANTIZE between integer types, reference_ops::Requantize):
 * y = clamp(requantize(x + input_offset, multiplier, shift) + output_offset) to the output type.
 */
#include "tinyc_nn_s16.h"
#include "tinyc_requant.h"

static int32_t tinyc_requantize_one(const tinyc_requantize_params *p, int32_t x)
{
    return tinyc_requantize(x + p->input_offset, p->multiplier, p->shift);
}

void tinyc_requantize_s8_s16(const tinyc_requantize_params *params, int32_t size,
                             const int8_t *input, int16_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        output[i] = tinyc_clamp_s16(tinyc_requantize_one(params, input[i]),
                                    params->output_offset, INT16_MIN, INT16_MAX);
    }
}

void tinyc_requantize_s16_s8(const tinyc_requantize_params *params, int32_t size,
                             const int16_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        output[i] = tinyc_clamp_s8(tinyc_requantize_one(params, input[i]),
                                   params->output_offset, INT8_MIN, INT8_MAX);
    }
}

void tinyc_requantize_s16_s16(const tinyc_requantize_params *params, int32_t size,
                              const int16_t *input, int16_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        output[i] = tinyc_clamp_s16(tinyc_requantize_one(params, input[i]),
                                    params->output_offset, INT16_MIN, INT16_MAX);
    }
}
