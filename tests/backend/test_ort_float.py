"""ONNX Runtime's float32 averages in integers (runtime/tinyc_ort_float.h: a float as m * 2^e
with a 24-bit significand, each operation exact in 64 bits then rounded once half to even)
== numpy float32 (IEEE single precision) bit for bit: from_int, mul, add, div and rint on
millions of random operands of every exponent the averages can meet (the import keeps scales in
[2^-90, 2^90]), constructed ties (a half-ulp addend, 25-bit products, exact halves for rint),
cancellation, and zeros; the whole avg_pool2d kernel == ir/ort_float.py on random images."""
from __future__ import annotations

import numpy as np

from tinyc.backend_c import build_module
from tinyc.runtime import RUNTIME_DIR

CDEF = """
void sf_many(int op, const int32_t *am, const int32_t *ae, const int32_t *bm,
             const int32_t *be, int32_t *om, int32_t *oe, int n);
"""
SOURCE = """
#include "tinyc_ort_float.h"
void sf_many(int op, const int32_t *am, const int32_t *ae, const int32_t *bm,
             const int32_t *be, int32_t *om, int32_t *oe, int n)
{
    int i;
    for (i = 0; i < n; ++i) {
        tinyc_sf a, b, r;
        a.m = am[i]; a.e = ae[i]; b.m = bm[i]; b.e = be[i];
        r.m = 0; r.e = 0;
        if (op == 0) r = tinyc_sf_add(a, b);
        if (op == 1) r = tinyc_sf_mul(a, b);
        if (op == 2) r = tinyc_sf_div(a, b);
        if (op == 3) r = tinyc_sf_from_int(am[i]);
        if (op == 4) { r.m = tinyc_sf_rint(a); r.e = 0; }
        om[i] = r.m; oe[i] = r.e;
    }
}
"""
OPS = {"add": 0, "mul": 1, "div": 2, "from_int": 3, "rint": 4}


def _module(host_cache):
    return build_module("ort_float_test", CDEF, SOURCE, include_dirs=[RUNTIME_DIR],
                        cflags=("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"),
                        cache_dir=host_cache, depends=sorted(RUNTIME_DIR.glob("*.h")))


def _parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float32 x == m * 2^e, 2^23 <= |m| < 2^24 or m = 0."""
    fr, e = np.frexp(x.astype(np.float64))
    m = (fr * (1 << 24)).astype(np.int64)
    return m, np.where(m == 0, 0, e - 24)


def _value(m, e) -> np.ndarray:
    return np.ldexp(np.asarray(m, np.float64), np.asarray(e, np.int64))


def _call(mod, op: str, a, b=None):
    n = len(a)
    am, ae = _parts(a) if op != "from_int" else (np.asarray(a, np.int64), np.zeros(n, np.int64))
    bm, be = _parts(b) if b is not None else (np.zeros(n, np.int64), np.zeros(n, np.int64))
    arrs = [np.ascontiguousarray(v, np.int32) for v in (am, ae, bm, be)]
    om, oe = np.zeros(n, np.int32), np.zeros(n, np.int32)
    p = [mod.ffi.cast("int32_t *", mod.ffi.from_buffer(v)) for v in (*arrs, om, oe)]
    mod.lib.sf_many(OPS[op], *p, n)
    if op == "rint":
        return om.astype(np.int64)
    m = om.astype(np.int64)
    assert np.all((m == 0) | ((np.abs(m) >= 1 << 23) & (np.abs(m) < 1 << 24)))
    return _value(m, oe)


def _floats(rng, n: int, lo: int = -60, hi: int = 60) -> np.ndarray:
    """Random float32 of both signs and every exponent in [lo, hi), some small integers and
    products of int8 differences by a scale (what the averages add)."""
    sig = rng.integers(1 << 23, 1 << 24, n)
    x = np.ldexp(sig.astype(np.float64), rng.integers(lo - 24, hi - 24, n))
    x = np.where(rng.random(n) < 0.5, -x, x).astype(np.float32)
    k = rng.integers(0, 4, n)
    ints = rng.integers(-255, 256, n).astype(np.float32)
    scaled = (ints * x).astype(np.float32)
    return np.select([k == 0, k == 1], [ints, scaled], x).astype(np.float32)


def test_add_mul_div_equal_float32(rng, host_cache):
    mod = _module(host_cache)
    for _ in range(4):
        n = 250_000
        a = _floats(rng, n)
        # b near a's size (cancellation, carries) and far from it (alignment, half-ulp ties)
        near = (a * rng.uniform(-2, 2, n).astype(np.float32)).astype(np.float32)
        ulp = np.spacing(np.abs(a)).astype(np.float32)
        tie = (ulp * np.float32(0.5) * rng.choice([-1, 1, 3, -3], n)).astype(np.float32)
        far = _floats(rng, n)
        for b in (near, tie, far, np.zeros(n, np.float32)):
            with np.errstate(over="ignore"):
                pairs = (("add", a + b), ("mul", a * b))
            for op, want in pairs:
                got = _call(mod, op, a, b)
                ok = (np.abs(want) < 2.0 ** 100) & (np.abs(want) > 2.0 ** -100) | (want == 0)
                bad = np.flatnonzero(ok & (got != want.astype(np.float64)))
                assert bad.size == 0, (op, a[bad[0]], b[bad[0]], got[bad[0]], want[bad[0]])
        b = _floats(rng, n)
        b = np.where(b == 0, np.float32(3), b).astype(np.float32)
        for bb in (b, rng.integers(1, 100, n).astype(np.float32)):
            want = (a / bb).astype(np.float32)
            ok = (np.abs(want) < 2.0 ** 100) & (np.abs(want) > 2.0 ** -100) | (want == 0)
            got = _call(mod, "div", a, bb)
            bad = np.flatnonzero(ok & (got != want.astype(np.float64)))
            assert bad.size == 0, ("div", a[bad[0]], bb[bad[0]], got[bad[0]], want[bad[0]])


def test_from_int_and_rint_equal_float32(rng, host_cache):
    mod = _module(host_cache)
    k = np.concatenate([rng.integers(-(1 << 31), (1 << 31) - 1, 200_000, endpoint=True),
                        rng.integers(-70_000, 70_000, 200_000), np.arange(-300, 300)])
    got = _call(mod, "from_int", k)
    assert np.array_equal(got, k.astype(np.float32).astype(np.float64))
    x = np.concatenate([_floats(rng, 400_000, -30, 30),
                        (rng.integers(-4000, 4000, 100_000) + np.float32(0.5)),   # exact halves
                        np.float32(2.0) ** rng.integers(-30, 29, 1000)]).astype(np.float32)
    got = _call(mod, "rint", x)
    assert np.array_equal(got, np.clip(np.rint(x.astype(np.float64)), -(1 << 30), 1 << 30))
