/*
 * tinyc_lut_channels_s8.c - int8 -> int8 lookup table per channel (tinyc_lut_channels.h).
 */
#include "tinyc_lut_channels.h"

void tinyc_lut_channels_s8(const int8_t *table, int32_t channels, int32_t size,
                           const int8_t *input, int8_t *output)
{
    int32_t i = 0;
    while (i < size) {
        int32_t c;
        for (c = 0; c < channels; ++c, ++i) {
            output[i] = table[c * 256 + (int32_t)input[i] + 128];
        }
    }
}
