/*
 * tinyc_pad_s16.c - constant padding of int16 tensors (PAD / PADV2 of 16x8 models): the
 * input copied into the output at offset `before`, every other element pad_value (TFLM pads
 * int16 with 0, the zero point, or PADV2's constant).
 */
#include <string.h>

#include "tinyc_move_s16.h"

static int tinyc_pad16_inside(int32_t i, int32_t before, int32_t size)
{
    return i >= before && i < before + size;
}

void tinyc_pad_s16(const tinyc_pad_params *params,
                   const tinyc_dims *input_dims, const int16_t *input,
                   const tinyc_dims *output_dims, int16_t *output)
{
    const tinyc_dims *b = &params->before;
    const tinyc_dims *d = input_dims;
    const int16_t fill = (int16_t)params->pad_value;
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
    for (n = 0; n < output_dims->n; ++n) {
        for (h = 0; h < output_dims->h; ++h) {
            for (w = 0; w < output_dims->w; ++w) {
                const int16_t *row = 0;
                if (tinyc_pad16_inside(n, b->n, d->n) && tinyc_pad16_inside(h, b->h, d->h) &&
                    tinyc_pad16_inside(w, b->w, d->w)) {
                    row = input + (((n - b->n) * d->h + (h - b->h)) * d->w + (w - b->w)) * d->c;
                }
                for (c = 0; c < output_dims->c; ++c) {
                    output[c] = fill;
                }
                if (row != 0) {
                    memcpy(output + b->c, row, (size_t)d->c * sizeof(int16_t));
                }
                output += output_dims->c;
            }
        }
    }
}
