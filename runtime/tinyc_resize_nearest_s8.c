/*
 * tinyc_resize_nearest_s8.c - int8 nearest-neighbour resize (tinyc_nn_move.h): the source
 * row and column of every output pixel are computed by the compiler (TFLite Micro's
 * GetNearestNeighbor, or ONNX Resize's coordinate mode); the kernel copies C bytes each.
 */
#include <string.h>

#include "tinyc_nn_move.h"

void tinyc_resize_nearest_s8(const tinyc_resize_params *params, const int32_t *h_index,
                             const int32_t *w_index, const int8_t *input, int8_t *output)
{
    const tinyc_dims *d = &params->input_dims;
    const int32_t row = d->w * d->c;
    int32_t n;
    int32_t i;
    int32_t j;
    for (n = 0; n < d->n; ++n) {
        const int8_t *image = input + n * d->h * row;
        for (i = 0; i < params->out_h; ++i) {
            const int8_t *in_row = image + h_index[i] * row;
            for (j = 0; j < params->out_w; ++j) {
                memcpy(output, in_row + w_index[j] * d->c, (size_t)d->c);
                output += d->c;
            }
        }
    }
}
