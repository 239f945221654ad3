/*
 * tinyc_lut_s8.c - int8 -> int8 lookup table (sigmoid, tanh, hard-swish... computed at
 * compile time): output[i] = table[input[i] + 128].  May run in place.
 */
#include "tinyc_nn.h"

void tinyc_lut_s8(const int8_t *table, int32_t size, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        output[i] = table[(int32_t)input[i] + 128];
    }
}
