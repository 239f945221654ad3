/*
 * tinyc_fully_connected_fast_c.h - the portable inner loops of tinyc_fully_connected_fast_s8.c
 * (not TINYC_DSP); the interface and results are those of tinyc_fully_connected_fast_dsp.h
 * (see there).
 */
#ifndef TINYC_FULLY_CONNECTED_FAST_C_H
#define TINYC_FULLY_CONNECTED_FAST_C_H

#include "tinyc_fast.h"

static inline void tinyc_fc_block(const int8_t *w, const int16_t *xs, int32_t k4,
                                  int32_t acc[4])
{
    int32_t g;
    int32_t j;
    for (g = 0; g < k4; g += 4, w += 16) {
        for (j = 0; j < 4; ++j) {
            const int32_t xj = xs[g + j];
            acc[0] += xj * w[j];
            acc[1] += xj * w[4 + j];
            acc[2] += xj * w[8 + j];
            acc[3] += xj * w[12 + j];
        }
    }
}

static inline void tinyc_fc_pk_sums(const int16_t *w, const int16_t *xs, int32_t groups,
                                    const int32_t *b, int32_t acc[4])
{
    int32_t g;
    int32_t j;
    int32_t c;
    acc[0] = b[0];
    acc[1] = b[1];
    acc[2] = b[2];
    acc[3] = b[3];
    for (g = 0; g < groups; ++g, w += 8, xs += 4) {
        for (j = 0; j < 4; ++j) {
            const int32_t xj = xs[TINYC_LANE(j)];
            for (c = 0; c < 2; ++c) {
                const int32_t h = w[4 * c + TINYC_PK_POS(j)];
                const int32_t lo = (int32_t)((uint32_t)h & 0xFFu);
                const int32_t low = (lo ^ 0x80) - 0x80;
                acc[2 * c] += low * xj;
                acc[2 * c + 1] += (h - low) / 256 * xj;
            }
        }
    }
}

#endif /* TINYC_FULLY_CONNECTED_FAST_C_H */
