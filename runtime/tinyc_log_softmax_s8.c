/*
 * tinyc_log_softmax_s8.c - int8 log_softmax over the last axis, TFLite's fixed-point
 * algorithm (reference_ops::LogSoftmaxQuantized): for each row,
 *   sum = sum over x - max >= diff_min of exp(d) / 2^12, d = (x - max) * M in Q5.26
 *   log_sum = log(sum) in Q5.26 (log_x_for_x_greater_than_or_equal_to_1<5, 12>)
 *   y = (d - log_sum) / 2^22 rounded + 127, clamped; -128 where x - max <= the threshold.
 * Bit-exact with tinyc/ir/ops/softmax.py (log_softmax_int).  The gemmlowp helpers are those
 * of tinyc_softmax_s8.c (kept there unchanged so existing models' C stays the same).
 */
#include "tinyc_gemmlowp.h"
#include "tinyc_log_softmax.h"
#include "tinyc_requant.h"

#define TINYC_LSM_ACC_BITS 12      /* integer bits of the sum of exps */
#define TINYC_LSM_OUT_BITS 5       /* integer bits of log(sum) */

static int32_t tinyc_lsm_sat(int64_t x)
{
    return (int32_t)(x > INT32_MAX ? INT32_MAX : (x < INT32_MIN ? INT32_MIN : x));
}

static int32_t tinyc_lsm_add(int32_t a, int32_t b)
{
    return tinyc_add_wrap(a, b);
}

static int32_t tinyc_lsm_sub(int32_t a, int32_t b)
{
    return tinyc_s32((uint32_t)a - (uint32_t)b);
}

/* TFLite log_x_for_x_greater_than_or_equal_to_1_impl<5, 12>: z in Q12.19, log(z) in Q5.26. */
static int32_t tinyc_lsm_log(int32_t z)
{
    const int32_t accum_bits = TINYC_LSM_OUT_BITS + 1;
    const int32_t log_2 = 1488522236;
    const int32_t sqrt_sqrt_half = 1805811301;
    const int32_t sqrt_half = 1518500250;
    const int32_t alpha_n = 117049297;
    const int32_t alpha_d = 127690142;
    const int32_t alpha_i = 1057819769;
    const int32_t alpha_f = 638450708;
    const int32_t shifted_quarter = tinyc_rdbpot(536870912, accum_bits);
    const int32_t hp1 = tinyc_clz32((uint32_t)z);
    const int32_t r_a_tmp = tinyc_sat_mul_pot(z, hp1 - 1);
    const int32_t r_a = tinyc_sat_mul_pot(tinyc_srdhm(r_a_tmp, sqrt_half), 1);
    const int32_t z_a_adj = tinyc_lsm_sat(
        (int64_t)tinyc_sat_mul_pot(TINYC_LSM_ACC_BITS - hp1, 31 - accum_bits)
        + shifted_quarter);
    const int32_t z_b = tinyc_srdhm(z, sqrt_half);
    const int32_t hb = tinyc_clz32((uint32_t)z_b) - 1;
    const int32_t r_b = tinyc_sat_mul_pot(z, hb);
    const int32_t z_b_adj = tinyc_lsm_sat(
        (int64_t)tinyc_sat_mul_pot(TINYC_LSM_ACC_BITS - hb, 31 - accum_bits)
        - shifted_quarter);
    const int32_t r = (r_a < r_b) ? r_a : r_b;
    const int32_t z_adj = (z_a_adj > z_b_adj) ? z_a_adj : z_b_adj;
    const int64_t half_sum = (int64_t)r + sqrt_sqrt_half;
    const int32_t p = (int32_t)((half_sum + ((half_sum >= 0) ? 1 : -1)) / 2);
    const int32_t q1 = tinyc_lsm_sub(r, sqrt_sqrt_half);
    const int32_t q = tinyc_lsm_add(q1, q1);
    const int32_t common_sq = tinyc_srdhm(q, q);
    const int32_t num = tinyc_lsm_add(tinyc_srdhm(q, r),
                                      tinyc_srdhm(tinyc_srdhm(q, common_sq), alpha_n));
    const int32_t inner = tinyc_lsm_add(tinyc_lsm_add(alpha_i, q),
                                        tinyc_srdhm(alpha_d, common_sq));
    const int32_t denom_minus_one = tinyc_lsm_add(tinyc_srdhm(p, inner),
                                                  tinyc_srdhm(alpha_f, q));
    const int32_t recip = tinyc_one_over_one_plus_x(denom_minus_one);
    const int32_t num_scaled = tinyc_rdbpot(num, accum_bits);
    const int32_t total = tinyc_lsm_add(tinyc_srdhm(z_adj, log_2),
                                        tinyc_srdhm(num_scaled, recip));
    return tinyc_sat_mul_pot(total, accum_bits - TINYC_LSM_OUT_BITS);
}

static void tinyc_log_softmax_row(const tinyc_log_softmax_params *p, const int8_t *in,
                                  int8_t *out, int32_t n)
{
    int32_t max = INT8_MIN;
    uint32_t sum = 0u;                          /* wraps like the int32 sum */
    int32_t log_sum;
    int32_t adjusted;
    int32_t i;
    for (i = 0; i < n; ++i) {
        max = (in[i] > max) ? in[i] : max;
    }
    for (i = 0; i < n; ++i) {
        const int32_t diff = (int32_t)in[i] - max;
        if (diff >= p->diff_min) {
            const int32_t d = tinyc_requantize(diff, p->input_multiplier, p->input_left_shift);
            sum += (uint32_t)tinyc_rdbpot(tinyc_exp_on_negative_values(d), TINYC_LSM_ACC_BITS);
        }
    }
    log_sum = tinyc_lsm_log(tinyc_s32(sum));
    adjusted = tinyc_requantize(tinyc_add_wrap(log_sum, INT32_MIN), p->reverse_multiplier,
                                p->reverse_shift);
    if (adjusted < p->diff_min - 1) {
        adjusted = p->diff_min - 1;
    }
    for (i = 0; i < n; ++i) {
        const int32_t diff = (int32_t)in[i] - max;
        if (diff > adjusted) {
            const int32_t d = tinyc_requantize(diff, p->input_multiplier, p->input_left_shift);
            const int32_t y = tinyc_rdbpot(tinyc_lsm_sub(d, log_sum), 31 - 5 - 4);
            out[i] = tinyc_clamp_s8(y, 127, -128, 127);
        } else {
            out[i] = (int8_t)-128;
        }
    }
}

void tinyc_log_softmax_s8(const tinyc_log_softmax_params *params, int32_t num_rows,
                          int32_t row_size, const int8_t *input, int8_t *output)
{
    int32_t r;
    for (r = 0; r < num_rows; ++r) {
        tinyc_log_softmax_row(params, input + r * row_size, output + r * row_size, row_size);
    }
}
