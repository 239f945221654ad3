/*
 * tinyc_fully_connected_sparse.c - int8 fully connected layer over the nonzero weights only
 * (tinyc_packed.h "sparse", and "mask": tinyc_fully_connected_mask); same bits as
 * tinyc_fully_connected_s8.
 */
#include "tinyc_packed.h"
#include "tinyc_requant.h"

void tinyc_fully_connected_sparse(const tinyc_fc_params *params,
                                  const tinyc_per_channel_quant_params *quant,
                                  const tinyc_dims *input_dims, const int8_t *input,
                                  const tinyc_dims *filter_dims, const uint16_t *count,
                                  const uint8_t *skip, const int8_t *value,
                                  const int32_t *bias, const int16_t *bias16,
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
            const int32_t acc = tinyc_sparse_dot(input, skip, value, k, n, params->input_offset);
            k += n;
            output[oc] = tinyc_requant_out_s8(acc, tinyc_bias_at(bias, bias16, oc), quant, oc,
                                              params->output_offset, &params->activation);
        }
        input += depth;
        output += out_c;
    }
}

/* mask: a bitmask of the nonzeros and the nonzero values (tinyc_packed.h). */
void tinyc_fully_connected_mask(const tinyc_fc_params *params,
                                const tinyc_per_channel_quant_params *quant,
                                const tinyc_dims *input_dims, const int8_t *input,
                                const tinyc_dims *filter_dims, const uint8_t *mask,
                                const int8_t *value, const int32_t *bias,
                                const int16_t *bias16, const tinyc_dims *output_dims,
                                int8_t *output)
{
    const int32_t depth = input_dims->c;
    const int32_t out_c = filter_dims->n;
    int32_t b;
    int32_t oc;
    for (b = 0; b < output_dims->n; ++b) {
        const int8_t *v = value;
        uint32_t bit = 0;
        for (oc = 0; oc < out_c; ++oc) {
            int32_t acc = 0;
            int32_t i;
            for (i = 0; i < depth; ++i, ++bit) {
                if (tinyc_mask_bit(mask, bit)) {
                    acc += ((int32_t)input[i] + params->input_offset) * (int32_t)*v++;
                }
            }
            output[oc] = tinyc_requant_out_s8(acc, tinyc_bias_at(bias, bias16, oc), quant, oc,
                                              params->output_offset, &params->activation);
        }
        input += depth;
        output += out_c;
    }
}
