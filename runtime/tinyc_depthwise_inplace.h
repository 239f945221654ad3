/*
 * tinyc_depthwise_inplace.h - the in-place int8 depthwise convolution (channel multiplier 1,
 * one image): the output is written over the input (`buffer`; the output no larger than the
 * input), channel by channel through `scratch` (input h * w bytes). The arithmetic per output
 * element is tinyc_depthwise_conv2d_s8's.
 */
#ifndef TINYC_DEPTHWISE_INPLACE_H
#define TINYC_DEPTHWISE_INPLACE_H

#include "tinyc_nn.h"

void tinyc_depthwise_conv2d_inplace_s8(const tinyc_dw_conv_params *params,
                                       const tinyc_per_channel_quant_params *quant,
                                       const tinyc_dims *input_dims,
                                       const tinyc_dims *filter_dims, const int8_t *filter,
                                       const int32_t *bias, const tinyc_dims *output_dims,
                                       int8_t *scratch, int8_t *buffer);

#endif /* TINYC_DEPTHWISE_INPLACE_H */
