/*
 * tinyc_fully_connected_wide_c.h - the portable inner loop of tinyc_fully_connected_wide.c
 * (not TINYC_DSP); interface and results as tinyc_fully_connected_wide_dsp.h.
 */
#ifndef TINYC_FULLY_CONNECTED_WIDE_C_H
#define TINYC_FULLY_CONNECTED_WIDE_C_H

#include "tinyc_fast.h"

static inline void tinyc_fc_wide_sums(const int16_t *w, const int16_t *xs, int32_t groups,
                                      const int32_t *b, int32_t acc[4])
{
    int32_t g;
    int32_t c;
    int32_t j;
    for (c = 0; c < 4; ++c) {
        acc[c] = b[c];
    }
    for (g = 0; g < groups; ++g, w += 16, xs += 4) {
        for (c = 0; c < 4; ++c) {
            for (j = 0; j < 4; ++j) {
                acc[c] += w[4 * c + TINYC_WIDE_POS(j)] * xs[TINYC_LANE(j)];
            }
        }
    }
}

#endif /* TINYC_FULLY_CONNECTED_WIDE_C_H */
