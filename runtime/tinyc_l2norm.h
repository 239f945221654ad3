/*
 * tinyc_l2norm.h - int8 L2 normalization over the last axis (TFLite L2_NORMALIZATION, ONNX
 * LpNormalization p=2): output in 1/128, zero point 0.
 */
#ifndef TINYC_L2NORM_H
#define TINYC_L2NORM_H

#include <stdint.h>

/* Each of the num_rows rows of row_size values: acc = sum (x - zp)^2, 1/sqrt(acc) as TFLite's
 * GetInvSqrtQuantizedMultiplierExp (gemmlowp Newton-Raphson), y = clamp(requantize(x - zp,
 * multiplier, shift + 7)): TFLite Micro reference_integer_ops::L2Normalization. */
void tinyc_l2norm_s8(int32_t num_rows, int32_t row_size, int32_t input_offset,
                     const int8_t *input, int8_t *output);

#endif /* TINYC_L2NORM_H */
