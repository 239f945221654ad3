/*
 * tinyc_conv2d_fast_s16_c.h - the portable inner loop of tinyc_conv2d_fast_s16.c (same
 * interface and bits as tinyc_conv2d_fast_s16_dsp.h).  The weights of each group of four k
 * are stored {w0, w2, w1, w3}.
 */
#ifndef TINYC_CONV2D_FAST_S16_C_H
#define TINYC_CONV2D_FAST_S16_C_H

static inline int32_t tinyc_dot4_s16(const int16_t *x, const int8_t *w)
{
    return (int32_t)x[0] * w[0] + (int32_t)x[1] * w[2] + (int32_t)x[2] * w[1]
           + (int32_t)x[3] * w[3];
}

/* a.ai += sum over k < k4 of x[i][k] * w[k]: four pixels interleaved per group of four k
 * (blk[(k / 4) * 16 + i * 4 + k % 4]), one filter row. */
static TINYC_S16_INLINE void tinyc_gemm4_s16(tinyc_acc4_s16 *a, const int8_t *w,
                                             const int16_t *blk, int32_t k4)
{
    int32_t k;
    for (k = 0; k < k4; k += 4, blk += 16) {
        a->a0 += tinyc_dot4_s16(blk, w + k);
        a->a1 += tinyc_dot4_s16(blk + 4, w + k);
        a->a2 += tinyc_dot4_s16(blk + 8, w + k);
        a->a3 += tinyc_dot4_s16(blk + 12, w + k);
    }
}

#endif /* TINYC_CONV2D_FAST_S16_C_H */
