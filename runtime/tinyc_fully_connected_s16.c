/*
 * tinyc_fully_connected_s16.c - 16x8 fully connected layer: out[b][o] =
 * clamp(requantize_s64(bias[o] + sum_k x[b][k] * w[o][k], mult[o], shift[o]))  (int64 sums;
 * TFLite Micro reference_integer_ops::FullyConnectedPerChannel, 16x8).
 */
#include "tinyc_nn_s16.h"

void tinyc_fully_connected_s16(const tinyc_fc_params *params,
                               const tinyc_per_channel_quant_params *quant,
                               const tinyc_dims *input_dims, const int16_t *input,
                               const tinyc_dims *filter_dims, const int8_t *filter,
                               const int64_t *bias,
                               const tinyc_dims *output_dims, int16_t *output)
{
    const int32_t depth = input_dims->c;
    const int32_t out_c = filter_dims->n;
    int32_t b;
    int32_t oc;
    int32_t k;
    for (b = 0; b < output_dims->n; ++b) {
        for (oc = 0; oc < out_c; ++oc) {
            const int8_t *w = filter + oc * depth;
            int64_t acc = 0;
            for (k = 0; k < depth; ++k) {
                acc += (int32_t)input[k] * (int32_t)w[k];
            }
            output[oc] = tinyc_requant_out_s16(acc, bias, quant, oc, &params->activation);
        }
        input += depth;
        output += out_c;
    }
}
