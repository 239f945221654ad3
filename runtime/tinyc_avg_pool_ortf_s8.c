/*
 * tinyc_avg_pool_ortf_s8.c - avg_pool2d as ONNX Runtime computes it in float32, in integers
 * (tinyc_ort_float.h); the same bits as ir/ort_float.py (numpy float32).
 */
#include "tinyc_ort_float.h"
#include "tinyc_window.h"

/* Eigen's vectorized sum (4-float packets) of the n taps of channel ch, whose first element is
 * `start` floats past a 16-byte boundary in ORT's NCHW buffer. */
static tinyc_sf tinyc_ortf_eigen_sum(const int8_t *image, int32_t stride, int32_t n,
                                     int32_t start, int32_t zp, tinyc_sf s)
{
    tinyc_sf p0[4];
    tinyc_sf p1[4];
    tinyc_sf sum;
    int32_t a = (4 - start % 4) % 4;
    int32_t size4;
    int32_t size8;
    int32_t i;
    int32_t k;
#define TINYC_ORTF_TAP(t) tinyc_sf_mul(tinyc_sf_from_int((int32_t)image[(t) * stride] - zp), s)
    if (a > n) {
        a = n;
    }
    size4 = ((n - a) / 4) * 4;
    size8 = ((n - a) / 8) * 8;
    if (size4 == 0) {
        sum = TINYC_ORTF_TAP(0);
        for (i = 1; i < n; ++i) {
            sum = tinyc_sf_add(sum, TINYC_ORTF_TAP(i));
        }
        return sum;
    }
    for (k = 0; k < 4; ++k) {
        p0[k] = TINYC_ORTF_TAP(a + k);
    }
    if (size4 > 4) {
        for (k = 0; k < 4; ++k) {
            p1[k] = TINYC_ORTF_TAP(a + 4 + k);
        }
        for (i = a + 8; i < a + size8; i += 8) {
            for (k = 0; k < 4; ++k) {
                p0[k] = tinyc_sf_add(p0[k], TINYC_ORTF_TAP(i + k));
                p1[k] = tinyc_sf_add(p1[k], TINYC_ORTF_TAP(i + 4 + k));
            }
        }
        for (k = 0; k < 4; ++k) {
            p0[k] = tinyc_sf_add(p0[k], p1[k]);
        }
        if (size4 > size8) {
            for (k = 0; k < 4; ++k) {
                p0[k] = tinyc_sf_add(p0[k], TINYC_ORTF_TAP(a + size8 + k));
            }
        }
    }
    sum = tinyc_sf_add(tinyc_sf_add(p0[0], p0[2]), tinyc_sf_add(p0[1], p0[3]));
    for (i = 0; i < a; ++i) {
        sum = tinyc_sf_add(sum, TINYC_ORTF_TAP(i));
    }
    for (i = a + size4; i < n; ++i) {
        sum = tinyc_sf_add(sum, TINYC_ORTF_TAP(i));
    }
#undef TINYC_ORTF_TAP
    return sum;
}

void tinyc_avg_pool2d_ortf_s8(const tinyc_pool_params *params, int32_t mode,
                              int32_t zero_point, int32_t scale_m, int32_t scale_e,
                              int32_t out_zero_point, int32_t out_scale_m, int32_t out_scale_e,
                              const tinyc_dims *input_dims, const int8_t *input,
                              const tinyc_dims *filter_dims,
                              const tinyc_dims *output_dims, int8_t *output)
{
    const int32_t taps_all = input_dims->h * input_dims->w;
    tinyc_sf s;
    tinyc_sf so;
    tinyc_pixels px;
    s.m = scale_m;
    s.e = scale_e;
    so.m = out_scale_m;
    so.e = out_scale_e;
    tinyc_pixels_init(&px, &params->stride, &params->padding, 0, input_dims, filter_dims,
                      output_dims);
    while (tinyc_pixels_next(&px)) {
        const tinyc_window *win = &px.win;
        const int8_t *image = input + px.image;
        const int32_t count = (win->ky1 - win->ky0) * (win->kx1 - win->kx0);
        int32_t ch;
        for (ch = 0; ch < input_dims->c; ++ch) {
            tinyc_sf sum = {0, 0};
            tinyc_sf v;
            int32_t r = 0;
            int32_t ky;
            int32_t kx;
            if (count > 0) {
                if (mode == TINYC_ORT_FLOAT_REDUCE_MEAN) {
                    const int32_t row = px.b * input_dims->c + ch;     /* ORT's NCHW row */
                    sum = tinyc_ortf_eigen_sum(image + ch, input_dims->c, taps_all,
                                               (int32_t)(((int64_t)row * taps_all) % 4),
                                               zero_point, s);
                } else {
                    for (ky = win->ky0; ky < win->ky1; ++ky) {
                        const int32_t at = (win->y0 + ky) * input_dims->w + win->x0;
                        for (kx = win->kx0; kx < win->kx1; ++kx) {
                            const int32_t x = image[(at + kx) * input_dims->c + ch];
                            sum = tinyc_sf_add(sum, tinyc_sf_mul(
                                tinyc_sf_from_int(x - zero_point), s));
                        }
                    }
                }
                v = tinyc_sf_div(tinyc_sf_div(sum, tinyc_sf_from_int(count)), so);
                if (mode == TINYC_ORT_FLOAT_REDUCE_MEAN) {
                    r = tinyc_sf_rint(v) + out_zero_point;
                } else {
                    r = tinyc_sf_rint(tinyc_sf_add(v, tinyc_sf_from_int(out_zero_point + 128)));
                    r = (r < 0 ? 0 : (r > 255 ? 255 : r)) - 128;
                }
            }
            r = r < params->activation.min ? params->activation.min : r;
            r = r > params->activation.max ? params->activation.max : r;
            output[px.out + ch] = (int8_t)r;
        }
    }
}
