/*
 * tinyc_depthwise_conv2d_fast_s16.c - 16x8 depthwise convolution, channel multiplier 1,
 * channels % 4 == 0: the same sums and requantization as tinyc_depthwise_conv2d_s16 (int64
 * bias + sum, tinyc_requantize_s64), the sum taken in int32 (exact: |x| <= 2^15, |w| <= 2^7,
 * the generator checked sum |w| * 2^15 < 2^31).  Per output pixel the window's valid taps are
 * listed once (input and weight offsets; on the DSP path their addresses); then per group of
 * four channels each tap is two words of int16 input and two of int16 weights (widened at
 * compile time, [tap][channel]), four 16x16 MACs (SMLABB / SMLATT on the DSP path,
 * tinyc_depthwise_conv2d_fast_s16_dsp.h; tinyc_depthwise_conv2d_fast_s16_c.h otherwise, same
 * bits).
 */
#include "tinyc_fast_s16.h"

typedef struct {
    int32_t a0;
    int32_t a1;
    int32_t a2;
    int32_t a3;
} tinyc_dw_acc4_s16;

#if defined(TINYC_DSP)
#include "tinyc_depthwise_conv2d_fast_s16_dsp.h"
#else
#include "tinyc_depthwise_conv2d_fast_s16_c.h"
#endif

/* One output pixel, every channel, SMMULR requantization (tinyc_rq16_table gave 1), clamped
 * as tinyc_rq16_clamp's `mode` says. */
static TINYC_S16_INLINE void tinyc_dw_pixel_body(const int16_t *image, const int16_t *filter,
                                                 const int32_t *taps, int32_t n,
                                                 const tinyc_rq16 *r, int16_t *o, int32_t ch,
                                                 int32_t lo, int32_t hi, int32_t mode)
{
    int32_t c;
    for (c = 0; c < ch; c += 4, r += 4) {
        tinyc_dw_acc4_s16 a;
        tinyc_dw_taps4_s16(&a, image, filter, c, taps, n);
        o[c] = tinyc_rq16_clamp(tinyc_rq16_smmulr(a.a0 + r[0].bias, r[0].reduced), lo, hi,
                                mode);
        o[c + 1] = tinyc_rq16_clamp(tinyc_rq16_smmulr(a.a1 + r[1].bias, r[1].reduced), lo, hi,
                                    mode);
        o[c + 2] = tinyc_rq16_clamp(tinyc_rq16_smmulr(a.a2 + r[2].bias, r[2].reduced), lo, hi,
                                    mode);
        o[c + 3] = tinyc_rq16_clamp(tinyc_rq16_smmulr(a.a3 + r[3].bias, r[3].reduced), lo, hi,
                                    mode);
    }
}

/* One function per clamp (its own register allocation, lo / hi folded where known). */
#define TINYC_DW16_PIXEL __attribute__((noinline, aligned(16)))

static TINYC_DW16_PIXEL void tinyc_dw_pixel_relu_s16(const int16_t *image,
                                                     const int16_t *filter,
                                                     const int32_t *taps, int32_t n,
                                                     const tinyc_rq16 *r, int16_t *o,
                                                     int32_t ch)
{
    tinyc_dw_pixel_body(image, filter, taps, n, r, o, ch, 0, 32767, TINYC_RQ16_RELU);
}

static TINYC_DW16_PIXEL void tinyc_dw_pixel_full_s16(const int16_t *image,
                                                     const int16_t *filter,
                                                     const int32_t *taps, int32_t n,
                                                     const tinyc_rq16 *r, int16_t *o,
                                                     int32_t ch)
{
    tinyc_dw_pixel_body(image, filter, taps, n, r, o, ch, -32768, 32767, TINYC_RQ16_FULL);
}

static TINYC_DW16_PIXEL void tinyc_dw_pixel_any_s16(const int16_t *image,
                                                    const int16_t *filter,
                                                    const int32_t *taps, int32_t n,
                                                    const tinyc_rq16 *r, int16_t *o,
                                                    int32_t ch, int32_t lo, int32_t hi)
{
    tinyc_dw_pixel_body(image, filter, taps, n, r, o, ch, lo, hi, TINYC_RQ16_ANY);
}

/* scratch: 2 * kh * kw int32 (the tap list), then 20 * c bytes (tinyc_rq16 rows, acc32). */
TINYC_S16_ALIGN void tinyc_depthwise_conv2d_fast_s16(const tinyc_dw_fast_params *params,
                                     const tinyc_per_channel_quant_params *quant,
                                     const int16_t *input, const int16_t *filter,
                                     const int64_t *bias, int32_t acc32, int32_t *scratch,
                                     int16_t *output)
{
    const tinyc_dw_fast_params p = *params;
    const int32_t ch = p.input.c;
    const int32_t image_size = p.input.h * p.input.w * ch;
    int32_t *taps = scratch;
    tinyc_rq16 *rqt = (tinyc_rq16 *)(void *)(scratch + 2 * p.kernel.h * p.kernel.w);
    const int32_t lo = p.activation.min;
    const int32_t hi = p.activation.max;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t ky;
    int32_t kx;
    int32_t c;
    int32_t high = 0;
    if (acc32) {
        high = tinyc_rq16_table(rqt, bias, quant, ch);
    }
    for (b = 0; b < p.output.n; ++b) {
        const int16_t *image = input + b * image_size;
        int16_t *o = output + b * p.output.h * p.output.w * ch;
        for (oy = 0; oy < p.output.h; ++oy) {
            const int32_t y0 = oy * p.stride.h - p.padding.h;
            for (ox = 0; ox < p.output.w; ++ox, o += ch) {
                const int32_t x0 = ox * p.stride.w - p.padding.w;
                int32_t n = 0;
                for (ky = 0; ky < p.kernel.h; ++ky) {
                    const int32_t y = y0 + ky * p.dilation.h;
                    if (y < 0 || y >= p.input.h) {
                        continue;
                    }
                    for (kx = 0; kx < p.kernel.w; ++kx) {
                        const int32_t x = x0 + kx * p.dilation.w;
                        if (x >= 0 && x < p.input.w) {
#if defined(TINYC_DW16_ADDRESSES)
                            tinyc_dw16_tap(taps + 2 * n, image + (y * p.input.w + x) * ch,
                                           filter + (ky * p.kernel.w + kx) * ch);
#else
                            tinyc_dw16_tap(taps + 2 * n, (y * p.input.w + x) * ch,
                                           (ky * p.kernel.w + kx) * ch);
#endif
                            ++n;
                        }
                    }
                }
                if (high) {
                    if (lo == 0 && hi == 32767) {
                        tinyc_dw_pixel_relu_s16(image, filter, taps, n, rqt, o, ch);
                    } else if (lo == -32768 && hi == 32767) {
                        tinyc_dw_pixel_full_s16(image, filter, taps, n, rqt, o, ch);
                    } else {
                        tinyc_dw_pixel_any_s16(image, filter, taps, n, rqt, o, ch, lo, hi);
                    }
                    continue;
                }
                for (c = 0; c < ch; c += 4) {
                    tinyc_dw_acc4_s16 a;
                    tinyc_dw_taps4_s16(&a, image, filter, c, taps, n);
                    if (high) {
                        const tinyc_rq16 *r = rqt + c;
                        o[c] = tinyc_rq16_high(a.a0, r[0].bias, r[0].reduced, lo, hi);
                        o[c + 1] = tinyc_rq16_high(a.a1, r[1].bias, r[1].reduced, lo, hi);
                        o[c + 2] = tinyc_rq16_high(a.a2, r[2].bias, r[2].reduced, lo, hi);
                        o[c + 3] = tinyc_rq16_high(a.a3, r[3].bias, r[3].reduced, lo, hi);
                        continue;
                    }
                    if (acc32) {
                        o[c] = tinyc_rq16_apply(a.a0, rqt + c, lo, hi);
                        o[c + 1] = tinyc_rq16_apply(a.a1, rqt + c + 1, lo, hi);
                        o[c + 2] = tinyc_rq16_apply(a.a2, rqt + c + 2, lo, hi);
                        o[c + 3] = tinyc_rq16_apply(a.a3, rqt + c + 3, lo, hi);
                        continue;
                    }
                    o[c] = tinyc_requant_out_s16(a.a0, bias, quant, c, &p.activation);
                    o[c + 1] = tinyc_requant_out_s16(a.a1, bias, quant, c + 1, &p.activation);
                    o[c + 2] = tinyc_requant_out_s16(a.a2, bias, quant, c + 2, &p.activation);
                    o[c + 3] = tinyc_requant_out_s16(a.a3, bias, quant, c + 3, &p.activation);
                }
            }
        }
    }
}
