"""ONNX Runtime's float32 requantization in integers (runtime/tinyc_ort.h, and its
arithmetic in numpy: ort_requantize_int below)
== numpy float32 (IEEE single precision, as MLAS MlasRequantizeOutput computes
rint(float32(acc) * scale)) bit for bit, on millions of random (acc, scale) pairs and the edge
cases: |acc| >= 2^24 (float32(acc) rounds), ties of the final rounding and of the product's,
tiny and huge scales, saturation; the C under UBSan prints no runtime error."""
from __future__ import annotations

import numpy as np
from needs import missing

from tinyc.backend_c import build_module
from tinyc.ir import qmath
from tinyc.runtime import RUNTIME_DIR

CDEF = "void ort_many(const int32_t *acc, const int32_t *mult, const int32_t *e, int32_t *out, int n);"
SOURCE = """
#include "tinyc_ort.h"
void ort_many(const int32_t *acc, const int32_t *mult, const int32_t *e, int32_t *out, int n)
{
    int i;
    for (i = 0; i < n; ++i) out[i] = tinyc_ort_requantize(acc[i], mult[i], e[i]);
}
"""
MIN, MAX = qmath.INT32_MIN, qmath.INT32_MAX
TWO24 = 1 << 24


def _bit_length(x: np.ndarray) -> np.ndarray:
    """Bits of each non-negative int64 x < 2^53 (0 for 0)."""
    return np.frexp(x.astype(np.float64))[1].astype(np.int64)


def _shift_half_even(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """round(x / 2^n) half to even, x >= 0, n >= 0 (n > 62: 0)."""
    n = np.broadcast_to(n, x.shape)
    big = n > 62
    n = np.where(big, 1, n)
    q = x >> n
    r = x - (q << n)
    half = np.where(n > 0, np.int64(1) << np.maximum(n - 1, 0), 1)
    up = (n > 0) & ((r > half) | ((r == half) & (q & 1 == 1)))
    return np.where(big, 0, q + up)


def ort_requantize_int(acc, mult, exp) -> np.ndarray:
    """qmath.ort_requantize in integer arithmetic only, as runtime/tinyc_ort.h computes it: |acc|
    rounded to a 24-bit significand (float32(acc)), times the scale's 24-bit significand (a
    48-bit product), rounded to 24 bits (the float32 product), rounded half to even to an
    integer by the sum of the exponents; the sign put back; saturated to int32."""
    acc = np.asarray(acc, np.int64)
    mult = np.broadcast_to(np.asarray(mult, np.int64), acc.shape)
    exp = np.broadcast_to(np.asarray(exp, np.int64), acc.shape)
    a = np.abs(acc)
    k = np.maximum(_bit_length(a) - 24, 0)
    a = _shift_half_even(a, k)                   # float32(|acc|) = a * 2^k
    p = a * mult                                 # < 2^48
    d = np.maximum(_bit_length(p) - 24, 0)
    p = _shift_half_even(p, d)                   # the float32 product = p * 2^(d + k + exp)
    s = d + k + exp
    left = np.minimum(p << np.clip(s, 0, 31), 2 ** 31)          # p <= 2^24
    r = np.where(s >= 0, left, _shift_half_even(p, np.maximum(-s, 0)))
    r = np.where(acc < 0, -r, r)
    return np.clip(r, -2 ** 31, 2 ** 31 - 1)


def _module(host_cache, flags=()):
    return build_module("ort_requant_test", CDEF, SOURCE, include_dirs=[RUNTIME_DIR],
                        cflags=("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", *flags),
                        cache_dir=host_cache, depends=sorted(RUNTIME_DIR.glob("*.h")))


def _call(mod, acc, mult, e):
    arrays = [np.ascontiguousarray(a, dtype=np.int32) for a in (acc, mult, e)]
    out = np.zeros(len(arrays[0]), np.int32)
    ptrs = [mod.ffi.cast("int32_t *", mod.ffi.from_buffer(a)) for a in arrays]
    mod.lib.ort_many(*ptrs, mod.ffi.cast("int32_t *", mod.ffi.from_buffer(out)), len(out))
    return out.astype(np.int64)


def _parts(scales) -> tuple[np.ndarray, np.ndarray]:
    parts = np.array([qmath.f32_parts(s) for s in np.asarray(scales, np.float32)], np.int64)
    return parts[:, 0], parts[:, 1]


def _pairs(rng, n: int) -> np.ndarray:
    """[acc, mult, exp] rows: random accumulators of every size with random float32 scales of
    every exponent a layer can have (2^-60 .. 2^8), realistic ones, and constructed ties."""
    acc = np.concatenate([rng.integers(MIN, MAX, n // 4, endpoint=True),           # >= 2^24 mostly
                          rng.integers(-TWO24 * 4, TWO24 * 4, n // 4),
                          rng.integers(-70000, 70000, n // 4),
                          rng.integers(-300, 300, n - 3 * (n // 4))])
    mult = rng.integers(1 << 23, 1 << 24, n)
    exp = np.concatenate([rng.integers(-60 - 23, 8 - 23, n // 2),
                          rng.integers(-20 - 23, -3 - 23, n - n // 2)])            # 2^-20..2^-3
    rows = [np.stack([acc, mult, rng.permutation(exp)], axis=1)]
    # ties of the final rounding: scale 2^-k exactly, acc = (2j + 1) * 2^(k-1)
    k = rng.integers(1, 20, 4000)
    j = rng.integers(-2000, 2000, 4000)
    rows.append(np.stack([(2 * j + 1) << (k - 1), np.full(4000, 1 << 23), -k - 23], axis=1))
    # ties of the product's rounding: a 25-bit-significand product (odd mult, odd acc)
    a = rng.integers(1 << 23, 1 << 24, 4000) | 1
    m = rng.integers(1 << 23, 1 << 24, 4000) | 1
    rows.append(np.stack([a * rng.choice([-1, 1], 4000), m, rng.integers(-60, -30, 4000)], axis=1))
    # float32(acc) ties: acc = odd * 2^k + 2^(k-1) above 2^24
    kk = rng.integers(1, 8, 4000)
    odd = rng.integers(1 << 22, (1 << 23) - 1, 4000) * 2 + rng.integers(0, 2, 4000)
    rows.append(np.stack([(odd << kk) + (1 << (kk - 1)), rng.integers(1 << 23, 1 << 24, 4000),
                          rng.integers(-56, -40, 4000)], axis=1))
    # edges: extreme accumulators x extreme scales (saturation both ways, tiny products)
    edge_acc = [MIN, MIN + 1, -(1 << 24) - 1, -(1 << 24), -1, 0, 1, (1 << 24) + 1, MAX - 1, MAX]
    edge_scale = [np.finfo(np.float32).tiny, 2.0 ** -100, 1e-9, 2.0 ** -31, 0.5, 1.0,
                  1.0 - 2.0 ** -24, 3.0, 255.0, 2.0 ** 60, float(np.finfo(np.float32).max)]
    em, ee = _parts(edge_scale)
    rows.append(np.array([(a_, m_, e_) for a_ in edge_acc for m_, e_ in zip(em, ee)], np.int64))
    return np.concatenate(rows)


def test_integer_emulation_equals_float32_on_millions(rng):
    """ort_requantize_int (the C's arithmetic in numpy) == numpy float32 on 4M pairs."""
    for _ in range(8):
        ops = _pairs(rng, 500_000)
        want = qmath.ort_requantize(ops[:, 0], ops[:, 1], ops[:, 2])
        got = ort_requantize_int(ops[:, 0], ops[:, 1], ops[:, 2])
        bad = np.flatnonzero(got != want)
        assert bad.size == 0, f"{bad.size} differ, first {ops[bad[0]]}: {got[bad[0]]} vs {want[bad[0]]}"


def test_c_equals_float32(rng, host_cache):
    """C tinyc_ort_requantize == numpy float32 on 2M pairs and the edge cases."""
    mod = _module(host_cache)
    for _ in range(4):
        ops = _pairs(rng, 500_000)
        want = qmath.ort_requantize(ops[:, 0], ops[:, 1], ops[:, 2])
        got = _call(mod, ops[:, 0], ops[:, 1], ops[:, 2])
        bad = np.flatnonzero(got != want)
        assert bad.size == 0, f"{bad.size} differ, first {ops[bad[0]]}: C {got[bad[0]]} vs {want[bad[0]]}"


def test_c_without_clz_equals_float32(rng, host_cache):
    """The portable bit count (no __builtin_clz: TINYC_ORT_NO_CLZ) gives the same bits."""
    mod = _module(host_cache / "noclz", ("-DTINYC_ORT_NO_CLZ",))
    ops = _pairs(rng, 200_000)
    assert np.array_equal(_call(mod, ops[:, 0], ops[:, 1], ops[:, 2]),
                          qmath.ort_requantize(ops[:, 0], ops[:, 1], ops[:, 2]))


def test_edge_values():
    m, e = qmath.f32_parts(np.float32(0.5))
    assert (m, e) == (1 << 23, -24)
    r = lambda acc, s: int(ort_requantize_int([acc], *qmath.f32_parts(s))[0])  # noqa: E731
    assert [r(a, 0.5) for a in (1, 3, 5, -1, -3)] == [0, 2, 2, 0, -2]       # half to even
    assert r((1 << 24) + 1, 1.0) == 1 << 24                 # float32(2^24 + 1) = 2^24
    assert r((1 << 24) + 3, 1.0) == (1 << 24) + 4           # its tie rounds to even
    assert r(MAX, 2.0) == MAX and r(MIN, 2.0) == MIN        # saturated
    assert r(MAX, float(np.finfo(np.float32).tiny)) == 0


def test_output_scale_is_orts_float32_order():
    """QLinearConv: float32(float32(x_scale * w_scale) / y_scale), not x_scale * (w / y)."""
    xs, ws, ys = np.float32(0.003921569), np.float32(0.0086397305), np.float32(0.012370975)
    f = np.float32
    assert qmath.ort_output_scale(xs, ws, ys) == f(f(xs * ws) / ys)
    rng = np.random.default_rng(1)
    s = rng.uniform(1e-4, 1e-1, (3, 10000)).astype(np.float32)
    a = np.array([qmath.ort_output_scale(*t) for t in s.T])
    b = (s[0] * (s[1] / s[2])).astype(np.float32)
    assert (a != b).any()           # the order matters: another order differs on some scales


def test_no_undefined_behaviour(rng, host_cache, capfd):
    """The pairs above under -fsanitize=undefined: no 'runtime error' report."""
    try:
        mod = _module(host_cache, ("-fsanitize=undefined", "-O1"))
    except Exception as e:      # no UBSan runtime on this host
        missing(f"UBSan unavailable: {e}")
    ops = _pairs(rng, 50_000)
    assert np.array_equal(_call(mod, ops[:, 0], ops[:, 1], ops[:, 2]),
                          qmath.ort_requantize(ops[:, 0], ops[:, 1], ops[:, 2]))
    assert "runtime error" not in capfd.readouterr().err
