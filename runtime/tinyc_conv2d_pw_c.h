/*
 * tinyc_conv2d_pw_c.h - the portable pieces of tinyc_conv2d_pw_s8 (Cortex-M0/M3, hosts): the
 * same interface and the same sums as tinyc_conv2d_pw_dsp.h, in int32 (the sums are bounded
 * at compile time: nothing overflows).  The stream's int16 pairs are read as halfwords (the
 * first lane at the lower address).
 */
#ifndef TINYC_CONV2D_PW_C_H
#define TINYC_CONV2D_PW_C_H

#include "tinyc_fast.h"

/* Channels 4 g .. 4 g + 3 of the three pixels into x[(2 g + h) * 3 + pixel] (h = 0: lanes
 * {c0, c2}, h = 1: {c1, c3}), with the input offset added, for g < g4. */
static void tinyc_pw_widen(const int8_t *x0, const int8_t *x1, const int8_t *x2, int32_t g4,
                           int32_t off, int32_t *x)
{
    int16_t *h = (int16_t *)(void *)x;
    const int8_t *px[TINYC_PW_PIX];
    int32_t g;
    int32_t t;
    px[0] = x0;
    px[1] = x1;
    px[2] = x2;
    for (g = 0; g < g4; ++g) {
        for (t = 0; t < TINYC_PW_PIX; ++t) {
            const int8_t *s = px[t] + 4 * g;
            int16_t *d = h + 2 * (2 * TINYC_PW_PIX * g + t);
            d[0] = (int16_t)(s[0] + off);
            d[1] = (int16_t)(s[2] + off);
            d[2 * TINYC_PW_PIX] = (int16_t)(s[1] + off);
            d[2 * TINYC_PW_PIX + 1] = (int16_t)(s[3] + off);
        }
    }
}

/* All channel pairs of the block (stream: the first pair's record, tinyc_conv2d_pw.h): pixel
 * t's output channel c to o[t * os + c]. */
static void tinyc_pw_block(const int32_t *w, const int32_t *x, int32_t k2, int32_t pairs,
                           int8_t *o, int32_t os)
{
    const int16_t *xh = (const int16_t *)(const void *)x;
    int32_t c;
    int32_t t;
    int32_t j;
    for (; pairs > 0; --pairs) {
        const int16_t *wh = (const int16_t *)(const void *)(w + 2);
        const int32_t *rq = w + 2 + 2 * k2;
        for (c = 0; c < 2; ++c) {
            for (t = 0; t < TINYC_PW_PIX; ++t) {
                int32_t acc = w[c];
                for (j = 0; j < k2; ++j) {
                    const int16_t *a = wh + 4 * j + 2 * c;
                    const int16_t *b = xh + 2 * (TINYC_PW_PIX * j + t);
                    acc += (int32_t)a[0] * b[0] + (int32_t)a[1] * b[1];
                }
                o[t * os + c] = (int8_t)tinyc_rq_x2(acc, rq[3 * c], rq[3 * c + 1],
                                                    rq[3 * c + 2]);
            }
        }
        o += 2;
        w = rq + 6;
    }
}

#endif /* TINYC_CONV2D_PW_C_H */
