/*
 * tinyc_batch_matmul_s8.c - int8 batched matrix product (tinyc_batch_matmul.h).
 */
#include "tinyc_batch_matmul.h"
#include "tinyc_requant.h"

void tinyc_batch_matmul_s8(const tinyc_batch_matmul_params *p, const int8_t *a,
                           const int8_t *b, int8_t *output)
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
                const int8_t *a_mat = a + b0 * p->a_batch[0] + b1 * p->a_batch[1] +
                                      b2 * p->a_batch[2];
                const int8_t *b_mat = b + b0 * p->b_batch[0] + b1 * p->b_batch[1] +
                                      b2 * p->b_batch[2];
                for (i = 0; i < p->m; ++i) {
                    for (j = 0; j < p->n; ++j) {
                        int32_t acc = 0;
                        for (k = 0; k < p->k; ++k) {
                            const int32_t x = a_mat[i * p->a_m + k * p->a_k] + p->a_offset;
                            const int32_t y = b_mat[k * p->b_k + j * p->b_n] + p->b_offset;
                            acc = tinyc_add_wrap(acc, x * y);
                        }
                        acc = tinyc_requantize(acc, p->multiplier, p->shift);
                        *output++ = tinyc_clamp_s8(acc, p->out_offset, p->activation.min,
                                                   p->activation.max);
                    }
                }
            }
        }
    }
}
