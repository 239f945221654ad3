/*
 * tinyc_fully_connected_s8.c - int8 fully connected layer: out[b][o] =
 * clamp(requantize(bias[o] + sum_k (x[b][k] + input_offset) * w[o][k], mult[o], shift[o])
 *       + output_offset)  (TFLite Micro reference_integer_ops::FullyConnected, per channel).
 */
#include "tinyc_nn.h"
#include "tinyc_dot.h"
#include "tinyc_requant.h"

/* tinyc_fully_connected_ort_s8.c compiles these loops with ONNX Runtime's requantization */
#ifndef TINYC_LAYER_REQUANT
#define TINYC_LAYER_REQUANT tinyc_requant_out_s8
#endif

void tinyc_fully_connected_s8(const tinyc_fc_params *params,
                              const tinyc_per_channel_quant_params *quant,
                              const tinyc_dims *input_dims, const int8_t *input,
                              const tinyc_dims *filter_dims, const int8_t *filter,
                              const int32_t *bias,
                              const tinyc_dims *output_dims, int8_t *output)
{
    const int32_t depth = input_dims->c;
    const int32_t out_c = filter_dims->n;
    int32_t b;
    int32_t oc;
    for (b = 0; b < output_dims->n; ++b) {
        for (oc = 0; oc < out_c; ++oc) {
            const int32_t acc = tinyc_dot_s8(input, filter + oc * depth, depth,
                                             params->input_offset);
            output[oc] = TINYC_LAYER_REQUANT(acc, bias != 0 ? bias[oc] : 0, quant, oc,
                                              params->output_offset, &params->activation);
        }
        input += depth;
        output += out_c;
    }
}
