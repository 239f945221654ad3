/*
 * tinyc_fully_connected_wide_c.h - the portable inner loop of tinyc_fully_connected_wide.c
 * (not TINYC_DSP); interface and results as tinyc_fully_connected_wide_dsp.h.
 */
#ifndef TINYC_FULLY_CONNECTED_WIDE_C_H
#define TINYC_FULLY_CONNECTED_WIDE_C_H

#include "tinyc_fast.h"

static inline void tinyc_fc_wide_pair(const int16_t *w, const int16_t *xs, int32_t chunks,
                                      int32_t *a0, int32_t *a1)
{
    int32_t acc0 = *a0;
    int32_t acc1 = *a1;
    int32_t j;
    for (; chunks > 0; --chunks, w += 16, xs += 8) {
        for (j = 0; j < 8; ++j) {
            const int32_t xj = xs[(j & 4) + TINYC_LANE(j & 3)];
            const int32_t pos = (j & 4) + TINYC_WIDE_POS(j & 3);
            acc0 += w[pos] * xj;
            acc1 += w[8 + pos] * xj;
        }
    }
    *a0 = acc0;
    *a1 = acc1;
}

#endif /* TINYC_FULLY_CONNECTED_WIDE_C_H */
