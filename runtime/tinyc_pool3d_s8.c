/*
 * tinyc_pool3d_s8.c - int8 3-D max and average pooling (tinyc_nd.h).
 */
#include "tinyc_nd.h"
#include "tinyc_requant.h"
#include "tinyc_window.h"

/* One axis of a window: the taps [k0, k1) inside the input (k1 <= k0: none; dilated taps
 * k0, k0 + 1, ... map to positions start + k * dilation) and the number of counted taps. */
typedef struct {
    int32_t start;
    int32_t k0;
    int32_t k1;
    int32_t counted;
} tinyc_axis;

static tinyc_axis tinyc_pool_axis(int32_t out, int32_t stride, int32_t pad, int32_t dilation,
                                  int32_t kernel, int32_t size, int32_t count_begin,
                                  int32_t count_end)
{
    tinyc_axis a;
    int32_t k;
    a.start = out * stride - pad;
    a.k0 = kernel;
    a.k1 = 0;
    a.counted = 0;
    for (k = 0; k < kernel; ++k) {
        const int32_t pos = a.start + k * dilation;
        if (pos >= 0 && pos < size) {
            if (k < a.k0) {
                a.k0 = k;
            }
            a.k1 = k + 1;
        }
        if (pos >= -count_begin && pos < size + count_end) {
            ++a.counted;
        }
    }
    return a;
}

static void tinyc_pool3d(const tinyc_pool3d_params *p, const tinyc_dims5 *in_dims,
                         const int8_t *input, const tinyc_dims5 *out_dims, int8_t *output,
                         int32_t is_max)
{
    const int32_t depth = in_dims->c;
    int32_t n;
    int32_t od;
    int32_t oy;
    int32_t ox;
    int32_t ch;
    int32_t kd;
    int32_t ky;
    int32_t kx;
    for (n = 0; n < out_dims->n; ++n) {
        const int8_t *image = input + n * in_dims->d * in_dims->h * in_dims->w * depth;
        for (od = 0; od < out_dims->d; ++od) {
            const tinyc_axis ad = tinyc_pool_axis(od, p->stride.d, p->padding.d, p->dilation.d,
                                                  p->kernel.d, in_dims->d, p->count_begin.d,
                                                  p->count_end.d);
            for (oy = 0; oy < out_dims->h; ++oy) {
                const tinyc_axis ay = tinyc_pool_axis(oy, p->stride.h, p->padding.h,
                                                      p->dilation.h, p->kernel.h, in_dims->h,
                                                      p->count_begin.h, p->count_end.h);
                for (ox = 0; ox < out_dims->w; ++ox) {
                    const tinyc_axis ax = tinyc_pool_axis(ox, p->stride.w, p->padding.w,
                                                          p->dilation.w, p->kernel.w,
                                                          in_dims->w, p->count_begin.w,
                                                          p->count_end.w);
                    int32_t valid = 0;
                    if (ad.k1 > ad.k0 && ay.k1 > ay.k0 && ax.k1 > ax.k0) {
                        valid = (ad.k1 - ad.k0) * (ay.k1 - ay.k0) * (ax.k1 - ax.k0);
                    }
                    for (ch = 0; ch < depth; ++ch) {
                        int32_t acc = is_max ? INT32_MIN : 0;
                        int32_t y;
                        for (kd = ad.k0; kd < ad.k1; ++kd) {
                            const int32_t id = ad.start + kd * p->dilation.d;
                            for (ky = ay.k0; ky < ay.k1; ++ky) {
                                const int32_t iy = ay.start + ky * p->dilation.h;
                                for (kx = ax.k0; kx < ax.k1; ++kx) {
                                    const int32_t ix = ax.start + kx * p->dilation.w;
                                    const int32_t x =
                                        image[((id * in_dims->h + iy) * in_dims->w + ix) * depth
                                              + ch];
                                    if (is_max) {
                                        acc = (x > acc) ? x : acc;
                                    } else {
                                        acc += x;
                                    }
                                }
                            }
                        }
                        if (is_max) {
                            y = acc;
                        } else {
                            const int32_t count = ad.counted * ay.counted * ax.counted;
                            y = tinyc_avg_round(acc + (count - valid) * p->pad_value, count);
                        }
                        *output++ = tinyc_clamp_s8(y, 0, p->activation.min, p->activation.max);
                    }
                }
            }
        }
    }
}

void tinyc_avg_pool3d_s8(const tinyc_pool3d_params *params,
                         const tinyc_dims5 *input_dims, const int8_t *input,
                         const tinyc_dims5 *output_dims, int8_t *output)
{
    tinyc_pool3d(params, input_dims, input, output_dims, output, 0);
}

void tinyc_max_pool3d_s8(const tinyc_pool3d_params *params,
                         const tinyc_dims5 *input_dims, const int8_t *input,
                         const tinyc_dims5 *output_dims, int8_t *output)
{
    tinyc_pool3d(params, input_dims, input, output_dims, output, 1);
}
