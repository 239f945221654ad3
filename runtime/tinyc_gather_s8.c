/*
 * tinyc_gather_s8.c - int8 gather along one axis with constant indices (tinyc_nn_move.h):
 * raw copies of inner-byte blocks, as TFLite Micro's GATHER.
 */
#include <string.h>

#include "tinyc_nn_move.h"

void tinyc_gather_s8(const tinyc_gather_params *params, const int32_t *indices,
                     const int8_t *input, int8_t *output)
{
    const int32_t inner = params->inner;
    int32_t o;
    int32_t j;
    for (o = 0; o < params->outer; ++o) {
        const int8_t *block = input + o * params->axis_len * inner;
        for (j = 0; j < params->count; ++j) {
            memcpy(output, block + indices[j] * inner, (size_t)inner);
            output += inner;
        }
    }
}
