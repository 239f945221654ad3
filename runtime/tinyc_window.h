/*
 * tinyc_window.h - internal helper of the windowed kernels (conv, depthwise, pools):
 * the valid taps of a filter window over an input with implicit padding.
 */
#ifndef TINYC_WINDOW_H
#define TINYC_WINDOW_H

#include <stdint.h>

typedef struct {
    int32_t y0;                 /* input coordinates of tap (0, 0); negative inside padding */
    int32_t x0;
    int32_t ky0;                /* valid taps: [ky0, ky1) x [kx0, kx1) */
    int32_t ky1;
    int32_t kx0;
    int32_t kx1;
} tinyc_window;

/* The taps [*start, *end) of a k-tap window at origin (dilation dil) that fall in [0, size). */
static inline void tinyc_tap_range(int32_t origin, int32_t dil, int32_t k, int32_t size,
                                   int32_t *start, int32_t *end)
{
    int32_t s = 0;
    int32_t e = k;
    while (s < e && origin + s * dil < 0) {
        ++s;
    }
    while (e > s && origin + (e - 1) * dil >= size) {
        --e;
    }
    *start = s;
    *end = e;
}

/* The rows of the window of output row oy. */
static inline void tinyc_window_rows(tinyc_window *win, int32_t oy, int32_t stride, int32_t pad,
                                     int32_t dil, int32_t k, int32_t size)
{
    win->y0 = oy * stride - pad;
    tinyc_tap_range(win->y0, dil, k, size, &win->ky0, &win->ky1);
}

/* The columns of the window of output column ox. */
static inline void tinyc_window_cols(tinyc_window *win, int32_t ox, int32_t stride, int32_t pad,
                                     int32_t dil, int32_t k, int32_t size)
{
    win->x0 = ox * stride - pad;
    tinyc_tap_range(win->x0, dil, k, size, &win->kx0, &win->kx1);
}

#endif /* TINYC_WINDOW_H */
