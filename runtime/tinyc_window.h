/*
 * tinyc_window.h - internal helper of the windowed kernels (conv, depthwise, pools):
 * the valid taps of a filter window over an input with implicit padding, and the loop over
 * the output pixels (tinyc_pixels) that every portable windowed kernel runs.
 */
#ifndef TINYC_WINDOW_H
#define TINYC_WINDOW_H

#include <stdint.h>

#include "tinyc_nn.h"

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

/* The average pools' sum / count, rounded half away from zero (C division truncates toward
 * zero); 0 for a window without taps. */
static inline int32_t tinyc_avg_round(int32_t sum, int32_t count)
{
    if (count <= 0) {
        return 0;
    }
    if (sum > 0) {
        return (sum + count / 2) / count;
    }
    return (sum - count / 2) / count;
}

/*
 * The output pixels of a windowed kernel in NHWC order, without a callback:
 *
 *     tinyc_pixels px;
 *     tinyc_pixels_init(&px, &params->stride, &params->padding, &params->dilation,
 *                       input_dims, filter_dims, output_dims);
 *     while (tinyc_pixels_next(&px)) {
 *         ... input + px.image, &px.win, output + px.out ...
 *     }
 *
 * After a tinyc_pixels_next that returns 1: win is the pixel's window (its rows are computed
 * once per output row), image the element offset of its batch's input image, out the element
 * offset of its output_dims->c outputs.  Element offsets serve int8 and int16 data alike.
 */
typedef struct {
    tinyc_window win;
    int32_t image;
    int32_t out;
    int32_t b;                  /* the pixel's batch, row and column */
    int32_t oy;
    int32_t ox;
    int32_t n;                  /* batches (0 when the output has no pixels) */
    int32_t out_h;
    int32_t out_w;
    int32_t out_c;
    int32_t image_size;
    int32_t in_h;
    int32_t in_w;
    tinyc_tile kernel;
    tinyc_tile stride;
    tinyc_tile padding;
    tinyc_tile dilation;
} tinyc_pixels;

/* dilation: NULL for none (pools); filter_dims gives the window's kh and kw. */
static inline void tinyc_pixels_init(tinyc_pixels *px, const tinyc_tile *stride,
                                     const tinyc_tile *padding, const tinyc_tile *dilation,
                                     const tinyc_dims *in_dims, const tinyc_dims *f_dims,
                                     const tinyc_dims *out_dims)
{
    px->n = (out_dims->h > 0 && out_dims->w > 0) ? out_dims->n : 0;
    px->out_h = out_dims->h;
    px->out_w = out_dims->w;
    px->out_c = out_dims->c;
    px->image_size = in_dims->h * in_dims->w * in_dims->c;
    px->in_h = in_dims->h;
    px->in_w = in_dims->w;
    px->kernel.h = f_dims->h;
    px->kernel.w = f_dims->w;
    px->stride = *stride;
    px->padding = *padding;
    px->dilation.h = dilation != 0 ? dilation->h : 1;
    px->dilation.w = dilation != 0 ? dilation->w : 1;
    px->win.y0 = 0;             /* set by the first tinyc_pixels_next */
    px->win.ky0 = 0;
    px->win.ky1 = 0;
    px->b = -1;                 /* one step before the first pixel: the end of a last row */
    px->oy = out_dims->h - 1;
    px->ox = out_dims->w - 1;
    px->image = -px->image_size;
    px->out = -out_dims->c;
}

/* Moves to the next output pixel: 1, or 0 after the last one. */
static inline int tinyc_pixels_next(tinyc_pixels *px)
{
    px->out += px->out_c;
    if (++px->ox == px->out_w) {
        px->ox = 0;
        if (++px->oy == px->out_h) {
            px->oy = 0;
            px->image += px->image_size;
            if (++px->b == px->n) {
                return 0;
            }
        }
        tinyc_window_rows(&px->win, px->oy, px->stride.h, px->padding.h, px->dilation.h,
                          px->kernel.h, px->in_h);
    }
    tinyc_window_cols(&px->win, px->ox, px->stride.w, px->padding.w, px->dilation.w,
                      px->kernel.w, px->in_w);
    return 1;
}

#endif /* TINYC_WINDOW_H */
