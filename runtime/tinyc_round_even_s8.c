/*
 * tinyc_round_even_s8.c - int8 averages rounded half to even (tinyc_round_even.h); the same
 * bits as ir/qmath.py div_round_half_even in ir/ops/pool.py avg_int and ir/ops/reduce.py.
 */
#include "tinyc_round_even.h"
#include "tinyc_window.h"

/* num / den (den > 0) to the nearest integer, ties to the even one. */
static int64_t tinyc_div_round_even64(int64_t num, int64_t den)
{
    int64_t q = num / den;
    int64_t r = num % den;          /* C99: truncation, r has num's sign */
    if (r < 0) {                    /* floor division: 0 <= r < den */
        r += den;
        q -= 1;
    }
    if (2 * r > den || (2 * r == den && q % 2 != 0)) {
        q += 1;
    }
    return q;
}

static int8_t tinyc_even_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

static int32_t tinyc_div_round_even(int32_t num, int32_t den)
{
    return (int32_t)tinyc_div_round_even64(num, den);
}

void tinyc_avg_pool2d_even_s8(const tinyc_pool_params *params, int32_t zero_point,
                              const tinyc_dims *input_dims, const int8_t *input,
                              const tinyc_dims *filter_dims,
                              const tinyc_dims *output_dims, int8_t *output)
{
    tinyc_pixels px;
    tinyc_pixels_init(&px, &params->stride, &params->padding, 0, input_dims, filter_dims,
                      output_dims);
    while (tinyc_pixels_next(&px)) {
        const tinyc_window *win = &px.win;
        const int8_t *image = input + px.image;
        const int32_t count = (win->ky1 - win->ky0) * (win->kx1 - win->kx0);
        int32_t ch;
        for (ch = 0; ch < input_dims->c; ++ch) {
            int32_t sum = 0;
            int32_t ky;
            int32_t kx;
            int32_t avg = 0;
            for (ky = win->ky0; ky < win->ky1; ++ky) {
                const int32_t row = (win->y0 + ky) * input_dims->w + win->x0;
                for (kx = win->kx0; kx < win->kx1; ++kx) {
                    sum += image[(row + kx) * input_dims->c + ch];
                }
            }
            if (count > 0) {
                avg = tinyc_div_round_even(sum - count * zero_point, count) + zero_point;
            }
            output[px.out + ch] = tinyc_even_clamp(avg, params->activation.min,
                                                   params->activation.max);
        }
    }
}

void tinyc_reduce_mean_even_s8(const tinyc_reduce_params *params, const int8_t *input,
                               int8_t *output)
{
    const tinyc_dims *d = &params->out_dims;
    const tinyc_dims *s = &params->out_strides;
    const tinyc_dims *rd = &params->red_dims;
    const tinyc_dims *rs = &params->red_strides;
    const int32_t count = rd->n * rd->h * rd->w * rd->c;
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
    for (n = 0; n < d->n; ++n) {
        for (h = 0; h < d->h; ++h) {
            for (w = 0; w < d->w; ++w) {
                for (c = 0; c < d->c; ++c) {
                    const int8_t *in = input + n * s->n + h * s->h + w * s->w + c * s->c;
                    int32_t acc = 0;
                    int32_t i;
                    int32_t j;
                    int32_t k;
                    int32_t l;
                    for (i = 0; i < rd->n; ++i) {
                        for (j = 0; j < rd->h; ++j) {
                            for (k = 0; k < rd->w; ++k) {
                                for (l = 0; l < rd->c; ++l) {
                                    acc += in[i * rs->n + j * rs->h + k * rs->w + l * rs->c];
                                }
                            }
                        }
                    }
                    const int32_t sum = acc + params->in_offset * count;
                    /* multiplier 0: the same quantization, sum / count exactly; else
                     * sum * multiplier * 2^(shift - 31) with one rounding (shift >= -31) */
                    const int64_t y = params->multiplier == 0
                        ? tinyc_div_round_even64(sum, count)
                        : tinyc_div_round_even64((int64_t)sum * params->multiplier,
                                                 (int64_t)1 << (31 - params->shift));
                    *output++ = tinyc_even_clamp(
                        (int32_t)(y < -512 ? -512 : (y > 512 ? 512 : y)) + params->out_offset,
                        -128, 127);
                }
            }
        }
    }
}
