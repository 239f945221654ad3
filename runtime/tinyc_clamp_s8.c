/*
 * tinyc_clamp_s8.c - the activation clamp of the fast kernels: they saturate to [-128, 127]
 * and, when the fused activation is narrower, clamp their output afterwards (the same bits:
 * clamp(sat(v)) == clamp(v) for [min, max] inside [-128, 127]).
 */
#include "tinyc_nn.h"

void tinyc_clamp_s8_inplace(const tinyc_activation *act, int8_t *data, int32_t n)
{
    const int32_t lo = act->min;
    const int32_t hi = act->max;
    int32_t i;
    for (i = 0; i < n; ++i) {
        int32_t v = data[i];
        v = v < lo ? lo : v;
        data[i] = (int8_t)(v > hi ? hi : v);
    }
}
