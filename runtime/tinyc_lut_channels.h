/*
 * tinyc_lut_channels.h - int8 -> int8 lookup table per channel (channels last): IR op
 * lut_channels (ir/ops/lut_channels.py), ONNX Runtime's float BatchNormalization computed at
 * compile time (frontend/qdq_ort_bn.py). Kept in its own header so that other models keep
 * tinyc_nn.h as is.
 */
#ifndef TINYC_LUT_CHANNELS_H
#define TINYC_LUT_CHANNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* output[i] = table[(i % channels) * 256 + input[i] + 128] for i < size (a multiple of
 * channels); may run in place. */
void tinyc_lut_channels_s8(const int8_t *table, int32_t channels, int32_t size,
                           const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYC_LUT_CHANNELS_H */
