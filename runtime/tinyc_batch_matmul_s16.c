/*
 * tinyc_batch_matmul_s16.c - 16x8 batched matrix product (tinyc_batch_matmul_s16.h).
 */
#include "tinyc_batch_matmul_s16.h"
#include "tinyc_nn_s16.h"

void tinyc_batch_matmul_s16(const tinyc_batch_matmul_params *p, const int16_t *a,
                            const int16_t *b, int16_t *output)
{
    int32_t b0;
    int32_t b1;
    int32_t b2;
    int32_t i;
    int32_t j;
    int32_t k;
    for (b0 = 0; b0 < p->batch[0]; ++b0) {
        for (b1 = 0; b1 < p->batch[1]; ++b1) {
            for (b2 = 0; b2 < p->batch[2]; ++b2) {
                const int16_t *a_mat = a + b0 * p->a_batch[0] + b1 * p->a_batch[1] +
                                       b2 * p->a_batch[2];
                const int16_t *b_mat = b + b0 * p->b_batch[0] + b1 * p->b_batch[1] +
                                       b2 * p->b_batch[2];
                for (i = 0; i < p->m; ++i) {
                    for (j = 0; j < p->n; ++j) {
                        int64_t acc = 0;
                        for (k = 0; k < p->k; ++k) {
                            const int64_t x = (int64_t)a_mat[i * p->a_m + k * p->a_k] +
                                              p->a_offset;
                            const int64_t y = (int64_t)b_mat[k * p->b_k + j * p->b_n] +
                                              p->b_offset;
                            acc += x * y;
                        }
                        *output++ = tinyc_clamp_s16(
                            tinyc_requantize_s64(acc, p->multiplier, p->shift),
                            p->out_offset, p->activation.min, p->activation.max);
                    }
                }
            }
        }
    }
}
