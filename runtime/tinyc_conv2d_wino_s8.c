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
 * at or past cin (the padding to four: valid 0) is zero. off: the input offset. Not inlined:
 * the DSP path calls it only for the last, partial group of four channels (its frame stays out
 * of the kernel's). */
static __attribute__((noinline)) void tinyc_wino_in1(const int8_t *const px[16], int32_t ch,
                                                      int32_t valid,
                                  int32_t off, int32_t *v, int32_t k2, int32_t j)
{
    int16_t *vh = (int16_t *)(void *)(v + (j & 1) * TINYC_WINO_T) + (j >> 1);
    const int32_t step = 2 * k2 * TINYC_WINO_T;          /* int16 per position p */
    int32_t e[16];
    int32_t r;
    for (r = 0; r < 4; ++r) {
        const int32_t x0 = valid ? px[4 * r + 0][ch] + off : 0;
        const int32_t x1 = valid ? px[4 * r + 1][ch] + off : 0;
        const int32_t x2 = valid ? px[4 * r + 2][ch] + off : 0;
        const int32_t x3 = valid ? px[4 * r + 3][ch] + off : 0;
        e[4 * r + 0] = x0 - x2;
        e[4 * r + 1] = x1 + x2;
        e[4 * r + 2] = x2 - x1;
        e[4 * r + 3] = x1 - x3;
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

/* Y = A^T M A of one channel and tile in two halves (m[p * 2 T], p = 4 r + c, for the rows r
 * 2 h, 2 h + 1 of the half h; the second half in the kernel's loop): s0[r] = m[r][0] + m[r][1] + m[r][2], s1[r] = m[r][1] - m[r][2]
 * - m[r][3]; y[0] = s0[0] + s0[1] + s0[2], y[1] = s1[0] + s1[1] + s1[2], y[2] = s0[1] - s0[2]
 * - s0[3], y[3] = s1[1] - s1[2] - s1[3]. */
static inline void tinyc_wino_row(const int32_t *x, int32_t *s0, int32_t *s1)
{
    const int32_t s = 2 * TINYC_WINO_T;
    *s0 = x[0] + x[s] + x[2 * s];
    *s1 = x[s] - x[2 * s] - x[3 * s];
}

static inline void tinyc_wino_out0(const int32_t *m, int32_t y[4])
{
    int32_t a0, a1, b0, b1;
    tinyc_wino_row(m, &a0, &a1);
    tinyc_wino_row(m + 8 * TINYC_WINO_T, &b0, &b1);
    y[0] = a0 + b0;
    y[1] = a1 + b1;
    y[2] = b0;
    y[3] = b1;
}

void tinyc_conv2d_wino_s8(const tinyc_conv_wino_params *params, const tinyc_rq *rq,
                          const int8_t *input, const int32_t *filter, const int32_t *bias,
                          int16_t *scratch, int8_t *output)
{
    /* scratch: V [16][k2][T] words, M of half the positions [8][2][T], Y [2][T][4] */
    const tinyc_conv_wino_params p = *params;
    const int32_t cin = p.input.c;
    const int32_t cout = p.output.c;
    const int32_t k2 = p.cin4 >> 1;
    const int32_t tw = (p.output.w + 1) >> 1;
    const int32_t ntiles = ((p.output.h + 1) >> 1) * tw;
    const int32_t off = tinyc_widen_offset(p.input_offset);
    const int32_t row = p.output.w * cout;
    int32_t *v = (int32_t *)(void *)scratch;
    int32_t *m = v + 16 * k2 * TINYC_WINO_T;
    int32_t *ys = m + 16 * TINYC_WINO_T;
    const int8_t *zeros = p.zeros;          /* cin4 input zero points: the padding's pixels */
    int32_t b;
    int32_t tile0;
    for (b = 0; b < p.output.n; ++b) {
        const int8_t *image = input + b * p.input.h * p.input.w * cin;
        int8_t *out = output + b * p.output.h * row;
        for (tile0 = 0; tile0 < ntiles; tile0 += TINYC_WINO_T) {
            const int32_t *u = filter;
            const int32_t nt = ntiles - tile0 < TINYC_WINO_T ? ntiles - tile0 : TINYC_WINO_T;
            int8_t *o_at[TINYC_WINO_T];
            int32_t edge[TINYC_WINO_T];     /* bit 0: no right column, bit 1: no bottom row */
            int32_t t;
            int32_t cp;
            for (t = 0; t < TINYC_WINO_T; ++t) {
                const int32_t tile = t < nt ? tile0 + t : ntiles - 1;
                const int32_t ty = tile / tw;
                const int32_t tx = tile - ty * tw;
                const int32_t y0 = 2 * ty - p.padding.h;
                const int32_t x0 = 2 * tx - p.padding.w;
                const int8_t *px[16];
                int32_t q;
                int32_t g;
                o_at[t] = out + (2 * ty * p.output.w + 2 * tx) * cout;
                edge[t] = (2 * tx + 1 >= p.output.w) | ((2 * ty + 1 >= p.output.h) << 1);
                for (q = 0; q < 16; ++q) {
                    const int32_t iy = y0 + (q >> 2);
                    const int32_t ix = x0 + (q & 3);
                    px[q] = iy >= 0 && iy < p.input.h && ix >= 0 && ix < p.input.w
                            ? image + (iy * p.input.w + ix) * cin : zeros;
                }
                for (g = 0; 4 * g + 4 <= cin; ++g) {
                    tinyc_wino_in4(px, 4 * g, off, v + 2 * g * TINYC_WINO_T + t, k2);
                }
                for (q = 4 * g; q < p.cin4; ++q) {
                    tinyc_wino_in1(px, q, q < cin, p.input_offset,
                                   v + 2 * g * TINYC_WINO_T + t, k2, q & 3);
                }
            }
            for (cp = 0; 2 * cp < cout; ++cp) {
                const int32_t nc = 2 * cp + 1 < cout ? 2 : 1;
                int32_t j;
                tinyc_wino_gemm(u, v, k2, m, 8);
                for (j = 0; j < nc; ++j) {
                    for (t = 0; t < nt; ++t) {
                        tinyc_wino_out0(m + j * TINYC_WINO_T + t, ys + 4 * (j * TINYC_WINO_T + t));
                    }
                }
                tinyc_wino_gemm(u + 16 * k2, v + 8 * k2 * TINYC_WINO_T, k2, m, 8);
                u += 32 * k2;
                for (j = 0; j < nc; ++j) {
                    const int32_t co = 2 * cp + j;
                    const tinyc_rq r = rq[co];
                    const int32_t bs = bias[co] * TINYC_WINO_BIAS_SCALE;
                    for (t = 0; t < nt; ++t) {
                        int8_t *o = o_at[t] + co;
                        const int32_t *y = ys + 4 * (j * TINYC_WINO_T + t);
                        const int32_t *x = m + j * TINYC_WINO_T + t;
                        int32_t a0, a1, b0, b1;
                        tinyc_wino_row(x, &a0, &a1);
                        tinyc_wino_row(x + 8 * TINYC_WINO_T, &b0, &b1);
                        b0 += a0;
                        b1 += a1;
                        a0 += y[0];
                        a1 += y[1];
                        b0 = y[2] - b0;
                        b1 = y[3] - b1;
                        o[0] = (int8_t)tinyc_wino_rq(a0, bs, &r);
                        if (edge[t] == 0) {
                            o[cout] = (int8_t)tinyc_wino_rq(a1, bs, &r);
                            o[row] = (int8_t)tinyc_wino_rq(b0, bs, &r);
                            o[row + cout] = (int8_t)tinyc_wino_rq(b1, bs, &r);
                        } else {
                            if ((edge[t] & 1) == 0) {
                                o[cout] = (int8_t)tinyc_wino_rq(a1, bs, &r);
                            }
                            if ((edge[t] & 2) == 0) {
                                o[row] = (int8_t)tinyc_wino_rq(b0, bs, &r);
                            }
                        }
                    }
                }
            }
        }
    }
    tinyc_fast_activation(&p.activation, output, p.output.n * p.output.h * row);
}
