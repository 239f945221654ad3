/*
 * tinyc_logistic_s16.c - 16x8 LOGISTIC and TANH (TFLite Micro reference_integer_ops::Logistic / Tanh, int16,
 * zero points 0, output scale 2^-15): each input rescaled by (mult, shift) from LogisticPrepare
 * and looked up in the uint16 sigmoid table with linear interpolation (the 16x8 LSTM's gate
 * function, tinyc_lstm.h).
 */
#include "tinyc_nn_s16.h"
#include "tinyc_lstm.h"

void tinyc_logistic_s16(int32_t mult, int32_t shift, const uint16_t *table, int32_t size,
                        const int16_t *input, int16_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        output[i] = lstm_sigmoid_scaled(input[i], mult, shift, table);
    }
}

void tinyc_tanh_s16(int32_t mult, int32_t shift, const uint16_t *table, int32_t size,
                    const int16_t *input, int16_t *output)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        output[i] = lstm_tanh(input[i], mult, shift, table);
    }
}
