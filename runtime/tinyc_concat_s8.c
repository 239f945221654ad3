/*
 * tinyc_concat_s8.c - one input of a concatenation: num_blocks contiguous blocks of
 * block_size bytes go to output + k * out_stride (the caller offsets output to the
 * input's place along the concatenation axis).  One call per input.
 */
#include <string.h>

#include "tinyc_nn.h"

void tinyc_concat_s8(const tinyc_concat_params *params, const int8_t *input, int8_t *output)
{
    int32_t k;
    for (k = 0; k < params->num_blocks; ++k) {
        memcpy(output + k * params->out_stride, input + k * params->block_size,
               (size_t)params->block_size);
    }
}
