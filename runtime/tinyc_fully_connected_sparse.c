/*
 * tinyc_fully_connected_sparse.c - int8 fully connected layer over the nonzero weights only
 * (tinyc_packed.h "sparse"); same bits as tinyc_fully_connected_s8.
 */
#include "tinyc_packed.h"
#include "tinyc_requant.h"

void tinyc_fully_connected_sparse(const tinyc_fc_params *params,
                                  const tinyc_per_channel_quant_params *quant,
                                  const tinyc_dims *input_dims, const int8_t *input,
                                  const tinyc_dims *filter_dims, const uint16_t *count,
                                  const uint8_t *skip, const int8_t *value, const int32_t *bias,
                                  const tinyc_dims *output_dims, int8_t *output)
{
    const int32_t depth = input_dims->c;
    const int32_t out_c = filter_dims->n;
    int32_t b;
    int32_t oc;
    for (b = 0; b < output_dims->n; ++b) {
        int32_t k = 0;
        for (oc = 0; oc < out_c; ++oc) {
            const int32_t n = (int32_t)count[oc];
            int32_t pos = -1;
            int32_t acc = 0;
            int32_t j;
            for (j = 0; j < n; ++j, ++k) {
                pos += (int32_t)skip[k] + 1;
                acc += ((int32_t)input[pos] + params->input_offset) * (int32_t)value[k];
            }
            if (bias != 0) {
                acc = tinyc_add_wrap(acc, bias[oc]);
            }
            acc = tinyc_requantize(acc, quant->multiplier[oc], quant->shift[oc]);
            output[oc] = tinyc_clamp_s8(acc, params->output_offset, params->activation.min,
                                        params->activation.max);
        }
        input += depth;
        output += out_c;
    }
}
