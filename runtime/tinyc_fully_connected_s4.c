/*
 * tinyc_fully_connected_s4.c - int8 fully connected layer with int4 weights packed two per
 * byte (tinyc_packed.h "s4"); otherwise exactly tinyc_fully_connected_s8.
 */
#include "tinyc_packed.h"
#include "tinyc_requant.h"

void tinyc_fully_connected_s4(const tinyc_fc_params *params,
                              const tinyc_per_channel_quant_params *quant,
                              const tinyc_dims *input_dims, const int8_t *input,
                              const tinyc_dims *filter_dims, const uint8_t *filter,
                              const int32_t *bias, const int16_t *bias16,
                              const tinyc_dims *output_dims,
                              int8_t *output)
{
    const int32_t depth = input_dims->c;
    const int32_t out_c = filter_dims->n;
    int32_t b;
    int32_t oc;
    for (b = 0; b < output_dims->n; ++b) {
        for (oc = 0; oc < out_c; ++oc) {
            int32_t acc = tinyc_s4_dot(input, filter, oc * depth, depth, params->input_offset);
            acc = tinyc_add_wrap(acc, tinyc_bias_at(bias, bias16, oc));
            acc = tinyc_requantize(acc, quant->multiplier[oc], quant->shift[oc]);
            output[oc] = tinyc_clamp_s8(acc, params->output_offset, params->activation.min,
                                        params->activation.max);
        }
        input += depth;
        output += out_c;
    }
}
