/*
 * tinyc_ort_float.h - the IEEE single-precision steps of ONNX Runtime's float averages of int8
 * values, in integer arithmetic only (no float in the C): avg_pool2d with IR attr "ort_float"
 * (ORT-family QDQ imports compiled with ort_exact; ir/ort_float.py is the numpy float32 model).
 *
 * A float is kept as m * 2^e with |m| in [2^23, 2^24) (24 significant bits, as float32) or
 * m = 0; every operation computes the exact result in 64-bit integers and rounds it once to 24
 * bits, half to even, as IEEE float32 does. The exponent is not bounded: equal to float32 as
 * long as float32 would stay a normal number (the import only marks scales in [2^-90, 2^90],
 * frontend/qdq_ort_float.py; int8 values times such a scale never leave that range).
 * Checked against numpy float32 on millions of random operands (tests/backend/test_ort_float.py).
 */
#ifndef TINYC_ORT_FLOAT_H
#define TINYC_ORT_FLOAT_H

#include <stdint.h>

#include "tinyc_nn.h"
#include "tinyc_ort.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t m;                  /* signed significand, |m| in [2^23, 2^24), or 0 */
    int32_t e;                  /* value = m * 2^e */
} tinyc_sf;

/* mag * 2^e (plus something below mag's last bit when sticky), rounded to 24 bits half to even,
 * with the sign of neg. */
static inline tinyc_sf tinyc_sf_round(uint64_t mag, int32_t neg, int32_t e, int32_t sticky)
{
    tinyc_sf r;
    int32_t n = tinyc_ort_bits(mag) - 24;
    uint64_t q;
    if (mag == 0u) {
        r.m = 0;
        r.e = 0;
        return r;
    }
    if (n > 0) {
        const uint64_t rem = mag & ((UINT64_C(1) << n) - 1u);
        const uint64_t half = UINT64_C(1) << (n - 1);
        q = mag >> n;
        if (rem > half || (rem == half && (sticky != 0 || (q & 1u) != 0u))) {
            q += 1u;
        }
        if (q == (UINT64_C(1) << 24)) {
            q >>= 1;
            n += 1;
        }
    } else {
        q = mag << (-n);
    }
    r.m = neg ? -(int32_t)q : (int32_t)q;
    r.e = e + n;
    return r;
}

static inline uint64_t tinyc_sf_mag(int32_t m)
{
    return (m < 0) ? (uint64_t)(-(int64_t)m) : (uint64_t)m;
}

/* float32(k) */
static inline tinyc_sf tinyc_sf_from_int(int32_t k)
{
    return tinyc_sf_round(tinyc_sf_mag(k), k < 0, 0, 0);
}

/* float32(a * b) */
static inline tinyc_sf tinyc_sf_mul(tinyc_sf a, tinyc_sf b)
{
    return tinyc_sf_round(tinyc_sf_mag(a.m) * tinyc_sf_mag(b.m), (a.m < 0) != (b.m < 0),
                          a.e + b.e, 0);
}

/* float32(a + b) */
static inline tinyc_sf tinyc_sf_add(tinyc_sf a, tinyc_sf b)
{
    int64_t s;
    int32_t d;
    if (a.m == 0) {
        return b;
    }
    if (b.m == 0) {
        return a;
    }
    if (a.e < b.e) {
        const tinyc_sf t = a;
        a = b;
        b = t;
    }
    d = a.e - b.e;
    if (d > 36) {               /* |b| < 2^-12 of a's last bit: a is the rounded sum */
        return a;
    }
    s = (int64_t)a.m * ((int64_t)1 << d) + (int64_t)b.m;    /* exact, |s| < 2^61 */
    return tinyc_sf_round((s < 0) ? (uint64_t)(-s) : (uint64_t)s, s < 0, b.e, 0);
}

/* float32(a / b), b != 0 */
static inline tinyc_sf tinyc_sf_div(tinyc_sf a, tinyc_sf b)
{
    const uint64_t num = tinyc_sf_mag(a.m) << 40;           /* < 2^64 */
    const uint64_t den = tinyc_sf_mag(b.m);
    uint64_t q;
    if (a.m == 0 || den == 0u) {
        tinyc_sf z = {0, 0};
        return z;
    }
    q = num / den;                                          /* >= 2^39: 16+ bits to round */
    return tinyc_sf_round(q, (a.m < 0) != (b.m < 0), a.e - b.e - 40, (q * den != num) ? 1 : 0);
}

/* nearbyint(a) (half to even), saturated to +-2^30 */
static inline int32_t tinyc_sf_rint(tinyc_sf a)
{
    uint64_t mag = tinyc_sf_mag(a.m);
    int32_t v;
    if (a.m == 0 || a.e < -40) {
        return 0;
    }
    if (a.e >= 0) {
        v = (a.e > 6) ? (1 << 30) : (int32_t)(mag << a.e);
    } else {
        mag = tinyc_ort_shift_even(mag, -a.e);
        v = (mag > (UINT64_C(1) << 30)) ? (1 << 30) : (int32_t)mag;
    }
    return (a.m < 0) ? -v : v;
}

/* ir/ort_float.py's modes */
#define TINYC_ORT_FLOAT_REDUCE_MEAN 1
#define TINYC_ORT_FLOAT_QLINEAR_AVG 2

/* avg_pool2d as ORT computes it in float32 (ir/ort_float.py): each value (x - zero_point) * s
 * (s = scale_m * 2^scale_e), the output's quantization out_zero_point, so = out_scale_m *
 * 2^out_scale_e; mode REDUCE_MEAN: a global window (no padding), summed in Eigen's order,
 * nearbyint(sum / count / so) + out_zero_point; mode QLINEAR_AVG: summed in window order,
 * nearbyint(sum / count / so + (out_zero_point + 128)) in [0, 255], - 128. */
void tinyc_avg_pool2d_ortf_s8(const tinyc_pool_params *params, int32_t mode,
                              int32_t zero_point, int32_t scale_m, int32_t scale_e,
                              int32_t out_zero_point, int32_t out_scale_m, int32_t out_scale_e,
                              const tinyc_dims *input_dims, const int8_t *input,
                              const tinyc_dims *filter_dims,
                              const tinyc_dims *output_dims, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYC_ORT_FLOAT_H */
