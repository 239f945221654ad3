/*
 * tinyc_conv2d_wino_s8.c - int8 3x3 stride-1 convolution as exact integer Winograd F(2x2, 3x3)
 * (weight format "wino", storage="speed"; backend_c/wino.py).
 *
 * Per block of TINYC_WINO_T output tiles of 2x2 pixels: each tile's 4x4 input patch in the
 * offset domain (d = x + input_offset, 0 outside the input) becomes V = B^T d B (adds and
 * subtractions, |V| <= 4 * 255: int16) in the scratch, as words of two input channels
 * ({c0, c2}, {c1, c3} of each group of four): V[p][k][t].  The weights were transformed at
 * compile time, U = (2G) g (2G)^T = 4 G g G^T (exact int16), stored per output channel pair
 * [pair][p][k][2 channels].  For each output channel pair the 16 GEMMs
 * M[p][j][t] = sum_k U[p][k][j] . V[p][k][t] (int16 pairs, exact int32), then per channel and
 * tile Y = A^T M A = 4 x the 2x2 accumulators of the direct convolution (same int32 values,
 * hence the same bits): Y / 4 + bias, requantized as the fast kernels (tinyc_rq), stored where
 * the tile lies inside the output.  The compile-time bound (backend_c/wino.py) keeps every
 * partial sum in int32.
 *
 * One loop structure for both paths; the input transform of four channels and the GEMM of one
 * channel pair come from tinyc_conv2d_wino_dsp.h (SXTAB16, SADD16 / SSUB16, SMLAD) or
 * tinyc_conv2d_wino_c.h (portable), which share one interface.
 */
#include <stddef.h>

#include "tinyc_fast.h"

/* Tiles per block (the channel pair's GEMM keeps 2 x TINYC_WINO_T sums in registers). */
#define TINYC_WINO_T 3

/* Channel ch (j = ch % 4 within its group) of the patch to V, as tinyc_wino_in4; a channel
 * at or past cin (the padding to four) is zero. */
static inline void tinyc_wino_in1(const int8_t *const px[16], int32_t ch, int32_t off,
                                  int32_t *v, int32_t k2, int32_t j)
{
    int16_t *vh = (int16_t *)(void *)(v + (j & 1) * TINYC_WINO_T) + (j >> 1);
    const int32_t step = 2 * k2 * TINYC_WINO_T;          /* int16 per position p */
    int32_t d[16];
    int32_t e[16];
    int32_t r;
    for (r = 0; r < 16; ++r) {
        d[r] = px[r] != NULL ? px[r][ch] + off : 0;
    }
    for (r = 0; r < 4; ++r) {
        const int32_t *x = d + 4 * r;
        e[4 * r + 0] = x[0] - x[2];
        e[4 * r + 1] = x[1] + x[2];
        e[4 * r + 2] = x[2] - x[1];
        e[4 * r + 3] = x[1] - x[3];
    }
    for (r = 0; r < 4; ++r) {
        vh[(0 + r) * step] = (int16_t)(e[r] - e[8 + r]);
        vh[(4 + r) * step] = (int16_t)(e[4 + r] + e[8 + r]);
        vh[(8 + r) * step] = (int16_t)(e[8 + r] - e[4 + r]);
        vh[(12 + r) * step] = (int16_t)(e[4 + r] - e[12 + r]);
    }
}

#if defined(TINYC_DSP)
#include "tinyc_conv2d_wino_dsp.h"
#else
#include "tinyc_conv2d_wino_c.h"
#endif

/* Y = A^T M A of one channel and tile (m[p * step], p = 4 r + c): the four sums y[i][j]. */
static inline void tinyc_wino_out(const int32_t *m, int32_t step, int32_t y[4])
{
    int32_t s0[4];
    int32_t s1[4];
    int32_t r;
    for (r = 0; r < 4; ++r) {
        const int32_t *x = m + 4 * r * step;
        s0[r] = x[0] + x[step] + x[2 * step];
        s1[r] = x[step] - x[2 * step] - x[3 * step];
    }
    y[0] = s0[0] + s0[1] + s0[2];
    y[1] = s1[0] + s1[1] + s1[2];
    y[2] = s0[1] - s0[2] - s0[3];
    y[3] = s1[1] - s1[2] - s1[3];
}

void tinyc_conv2d_wino_s8(const tinyc_conv_wino_params *params, const tinyc_rq *rq,
                          const int8_t *input, const int32_t *filter, const int32_t *bias,
                          int16_t *scratch, int8_t *output)
{
    const tinyc_conv_wino_params p = *params;
    const int32_t cin = p.input.c;
    const int32_t cout = p.output.c;
    const int32_t k2 = p.cin4 >> 1;
    const int32_t tw = (p.output.w + 1) >> 1;
    const int32_t ntiles = ((p.output.h + 1) >> 1) * tw;
    const int32_t off = tinyc_widen_offset(p.input_offset);
    int32_t *v = (int32_t *)(void *)scratch;
    int32_t *m = v + 16 * k2 * TINYC_WINO_T;
    int32_t b;
    int32_t tile0;
    for (b = 0; b < p.output.n; ++b) {
        const int8_t *image = input + b * p.input.h * p.input.w * cin;
        int8_t *out = output + b * p.output.h * p.output.w * cout;
        for (tile0 = 0; tile0 < ntiles; tile0 += TINYC_WINO_T) {
            const int32_t *u = filter;
            int32_t t;
            int32_t cp;
            for (t = 0; t < TINYC_WINO_T; ++t) {
                const int32_t tile = tile0 + t < ntiles ? tile0 + t : ntiles - 1;
                const int32_t y0 = 2 * (tile / tw) - p.padding.h;
                const int32_t x0 = 2 * (tile % tw) - p.padding.w;
                const int8_t *px[16];
                int32_t q;
                int32_t g;
                for (q = 0; q < 16; ++q) {
                    const int32_t iy = y0 + (q >> 2);
                    const int32_t ix = x0 + (q & 3);
                    px[q] = iy >= 0 && iy < p.input.h && ix >= 0 && ix < p.input.w
                            ? image + (iy * p.input.w + ix) * cin : NULL;
                }
                for (g = 0; 4 * g + 4 <= cin; ++g) {
                    tinyc_wino_in4(px, 4 * g, off, v + 2 * g * TINYC_WINO_T + t, k2);
                }
                for (q = 4 * g; q < p.cin4; ++q) {
                    const int8_t *const none[16] = {NULL};
                    tinyc_wino_in1(q < cin ? px : none, q, p.input_offset,
                                   v + 2 * g * TINYC_WINO_T + t, k2, q & 3);
                }
            }
            for (cp = 0; 2 * cp < cout; ++cp) {
                int32_t j;
                tinyc_wino_gemm(u, v, k2, m);
                u += 32 * k2;
                for (j = 0; j < 2 && 2 * cp + j < cout; ++j) {
                    const int32_t co = 2 * cp + j;
                    const tinyc_rq r = rq[co];
                    for (t = 0; t < TINYC_WINO_T && tile0 + t < ntiles; ++t) {
                        const int32_t oy = 2 * ((tile0 + t) / tw);
                        const int32_t ox = 2 * ((tile0 + t) % tw);
                        int32_t y[4];
                        int32_t i;
                        tinyc_wino_out(m + j * TINYC_WINO_T + t, 2 * TINYC_WINO_T, y);
                        for (i = 0; i < 4; ++i) {
                            const int32_t yy = oy + (i >> 1);
                            const int32_t xx = ox + (i & 1);
                            if (yy < p.output.h && xx < p.output.w) {
                                const int32_t acc = bias[co] + tinyc_asr(y[i], 2);
                                out[(yy * p.output.w + xx) * cout + co] =
                                    (int8_t)tinyc_rq_apply3(acc, r.m, r.h, r.e, 0);
                            }
                        }
                    }
                }
            }
        }
    }
    tinyc_fast_activation(&p.activation, output, p.output.n * p.output.h * p.output.w * cout);
}
