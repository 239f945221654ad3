/*
 * tinyc_log_softmax.h - int8 log_softmax over the last axis (TFLite Micro LOG_SOFTMAX:
 * output scale 16/256, zero point 127).
 */
#ifndef TINYC_LOG_SOFTMAX_H
#define TINYC_LOG_SOFTMAX_H

#include <stdint.h>

typedef struct {
    int32_t input_multiplier;      /* beta * s_in in Q5.26 (PreprocessSoftmaxScaling) */
    int32_t input_left_shift;
    int32_t reverse_multiplier;    /* its inverse (PreprocessLogSoftmaxScalingExp) */
    int32_t reverse_shift;         /* <= 0 */
    int32_t diff_min;
} tinyc_log_softmax_params;

void tinyc_log_softmax_s8(const tinyc_log_softmax_params *params, int32_t num_rows,
                          int32_t row_size, const int8_t *input, int8_t *output);

#endif /* TINYC_LOG_SOFTMAX_H */
