/*
 * tinyc_pad_s8.c - constant padding of a 4-D int8 tensor: the input lands at offset
 * params->before in the output; every other element is params->pad_value.
 */
#include <string.h>

#include "tinyc_nn.h"

static int tinyc_pad_inside(int32_t i, int32_t before, int32_t size)
{
    return i >= before && i < before + size;
}

/* One output row along the innermost axis whose input row is `in` (NULL: all padding). */
static void tinyc_pad_row(const tinyc_pad_params *p, const int8_t *in, int32_t in_c,
                          int8_t *out, int32_t out_c)
{
    const int fill = (int)(int8_t)p->pad_value;
    if (in == 0) {
        memset(out, fill, (size_t)out_c);
        return;
    }
    memset(out, fill, (size_t)p->before.c);
    memcpy(out + p->before.c, in, (size_t)in_c);
    memset(out + p->before.c + in_c, fill, (size_t)(out_c - p->before.c - in_c));
}

void tinyc_pad_s8(const tinyc_pad_params *params,
                  const tinyc_dims *input_dims, const int8_t *input,
                  const tinyc_dims *output_dims, int8_t *output)
{
    const tinyc_dims *b = &params->before;
    const tinyc_dims *d = input_dims;
    int32_t n;
    int32_t h;
    int32_t w;
    for (n = 0; n < output_dims->n; ++n) {
        for (h = 0; h < output_dims->h; ++h) {
            for (w = 0; w < output_dims->w; ++w) {
                const int8_t *row = 0;
                if (tinyc_pad_inside(n, b->n, d->n) && tinyc_pad_inside(h, b->h, d->h) &&
                    tinyc_pad_inside(w, b->w, d->w)) {
                    row = input + (((n - b->n) * d->h + (h - b->h)) * d->w + (w - b->w)) * d->c;
                }
                tinyc_pad_row(params, row, d->c, output, output_dims->c);
                output += output_dims->c;
            }
        }
    }
}
