/*
 * tinyc_resize_bilinear_s8.c - int8 bilinear resize as TFLite Micro's ResizeBilinearInteger
 * (tinyc_nn_move.h). Weights are in 1/1024 and may fall outside [0, 1024] at the borders
 * (half-pixel centres), as in TFLM; |sum| < 2^31 (at most 2048^2 * 128).
 */
#include "tinyc_nn_move.h"

void tinyc_resize_bilinear_s8(const tinyc_resize_params *params, const int32_t *rows,
                              const int32_t *cols, const int8_t *input, int8_t *output)
{
    const tinyc_dims *d = &params->input_dims;
    const int32_t row = d->w * d->c;
    int32_t n;
    int32_t i;
    int32_t j;
    int32_t c;
    for (n = 0; n < d->n; ++n) {
        const int8_t *image = input + n * d->h * row;
        for (i = 0; i < params->out_h; ++i) {
            const int8_t *lo_row = image + rows[3 * i] * row;
            const int8_t *hi_row = image + rows[3 * i + 1] * row;
            const int32_t dy = rows[3 * i + 2];
            for (j = 0; j < params->out_w; ++j) {
                const int32_t x0 = cols[3 * j] * d->c;
                const int32_t x1 = cols[3 * j + 1] * d->c;
                const int32_t dx = cols[3 * j + 2];
                const int32_t w_ll = (1024 - dy) * (1024 - dx);
                const int32_t w_lu = dy * (1024 - dx);
                const int32_t w_rl = (1024 - dy) * dx;
                const int32_t w_ru = dy * dx;
                for (c = 0; c < d->c; ++c) {
                    const int32_t acc = lo_row[x0 + c] * w_ll + hi_row[x0 + c] * w_lu +
                                        lo_row[x1 + c] * w_rl + hi_row[x1 + c] * w_ru;
                    const int32_t round = (acc > 0) ? (1 << 19) : -(1 << 19);
                    *output++ = (int8_t)((acc + round) / (1 << 20));
                }
            }
        }
    }
}
