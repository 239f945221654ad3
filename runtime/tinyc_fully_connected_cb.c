/*
 * tinyc_fully_connected_cb.c - int8 fully connected layer with codebook weights
 * (tinyc_packed.h "cb"); otherwise exactly tinyc_fully_connected_s8.
 */
#include "tinyc_packed.h"
#include "tinyc_requant.h"

void tinyc_fully_connected_cb(const tinyc_fc_params *params,
                              const tinyc_per_channel_quant_params *quant,
                              const tinyc_dims *input_dims, const int8_t *input,
                              const tinyc_dims *filter_dims, const int8_t *codebook,
                              const uint8_t *indices, int32_t bits,
                              const int32_t *bias, const int16_t *bias16,
                              const tinyc_dims *output_dims, int8_t *output)
{
    const int32_t depth = input_dims->c;
    const int32_t out_c = filter_dims->n;
    int32_t b;
    int32_t oc;
    for (b = 0; b < output_dims->n; ++b) {
        for (oc = 0; oc < out_c; ++oc) {
            const int32_t acc = tinyc_cb_dot(input, codebook, indices, bits, oc * depth, depth,
                                             params->input_offset);
            output[oc] = tinyc_requant_out_s8(acc, tinyc_bias_at(bias, bias16, oc), quant, oc,
                                              params->output_offset, &params->activation);
        }
        input += depth;
        output += out_c;
    }
}
