/*
 * tinyc_svdf.h - int8 SVDF (TFLite Micro svdf_common.cc, int16 or int8 weights_time and state)
 * on a fresh state: every call starts from TFLite Micro's reset state (tinyc models keep no
 * state between calls): the state resets to its zero point (int16: 0, int8: the zero point),
 * so of the time weights only the newest column contributes.
 */
#ifndef TINYC_SVDF_H
#define TINYC_SVDF_H

#include <stdint.h>

typedef struct {
    int32_t n_batch, n_input, n_unit, rank;
    int32_t in_offset;        /* -input zero point */
    int32_t state_offset;     /* state zero point */
    int32_t mult1, shift1;    /* input x weights_feature -> state */
    int32_t mult2, shift2;    /* state x weights_time -> output */
    int32_t out_offset;       /* output zero point */
    int32_t state_min, state_max;   /* the state type's range: int16 or int8 */
} tinyc_svdf_params;

/* weights_feature [n_unit * rank][n_input]; time_last [n_unit * rank]: the newest column of
 * weights_time (int8 time weights widened); bias [n_unit] (or NULL). */
void tinyc_svdf_s8(const tinyc_svdf_params *p, const int8_t *input,
                   const int8_t *weights_feature, const int16_t *time_last,
                   const int32_t *bias, int8_t *output);

#endif /* TINYC_SVDF_H */
