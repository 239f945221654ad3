/*
 * tinyc_round_even.h - int8 averages rounded half to even, for ONNX QDQ imports whose average
 * keeps its input's quantization (IR attrs["round_half_even"] on avg_pool2d and mean): ONNX
 * Runtime rounds the exact average sum / count half to even, TFLite Micro half away from zero.
 * Kept in their own header so that models without them keep tinyc_nn.h as is.
 */
#ifndef TINYC_ROUND_EVEN_H
#define TINYC_ROUND_EVEN_H

#include <stdint.h>

#include "tinyc_nn.h"
#include "tinyc_nn_move.h"

#ifdef __cplusplus
extern "C" {
#endif

/* avg_pool2d: per output element clamp(zero_point + round_half_even((sum - count * zero_point)
 * / count)) over the valid (unpadded) taps; output quantization = input quantization;
 * zero_point: 0 (ORT's QLinearAveragePool) or the input's (its QLinearGlobalAveragePool). */
void tinyc_avg_pool2d_even_s8(const tinyc_pool_params *params, int32_t zero_point,
                              const tinyc_dims *input_dims, const int8_t *input,
                              const tinyc_dims *filter_dims,
                              const tinyc_dims *output_dims, int8_t *output);

/* mean: per output element, with s = sum + in_offset * count, clamp(out_offset +
 * round_half_even(s / count)) when multiplier is 0 (output quantization = input's), else
 * clamp(out_offset + round_half_even(s * multiplier * 2^(shift - 31))) (one rounding, 64-bit;
 * shift >= -31). */
void tinyc_reduce_mean_even_s8(const tinyc_reduce_params *params, const int8_t *input,
                               int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYC_ROUND_EVEN_H */
