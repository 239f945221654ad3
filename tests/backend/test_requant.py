"""C tinyc_requantize (and its parts) == qmath, bit for bit, on random and edge operands;
the same under UBSan prints no runtime error."""
from __future__ import annotations

import itertools

import numpy as np
from needs import missing
from hypothesis import given, settings, strategies as st

from tinyc.backend_c import build_module
from tinyc.ir import qmath
from tinyc.runtime import RUNTIME_DIR

RUNTIME = RUNTIME_DIR
CDEF = """
void rq_many(const int32_t *acc, const int32_t *mult, const int32_t *shift, int32_t *out, int n);
void srdhm_many(const int32_t *a, const int32_t *b, int32_t *out, int n);
void rdbpot_many(const int32_t *x, const int32_t *e, int32_t *out, int n);
"""
SOURCE = """
#include "tinyc_requant.h"
void rq_many(const int32_t *acc, const int32_t *mult, const int32_t *shift, int32_t *out, int n)
{
    int i;
    for (i = 0; i < n; ++i) out[i] = tinyc_requantize(acc[i], mult[i], shift[i]);
}
void srdhm_many(const int32_t *a, const int32_t *b, int32_t *out, int n)
{
    int i;
    for (i = 0; i < n; ++i) out[i] = tinyc_srdhm(a[i], b[i]);
}
void rdbpot_many(const int32_t *x, const int32_t *e, int32_t *out, int n)
{
    int i;
    for (i = 0; i < n; ++i) out[i] = tinyc_rdbpot(x[i], e[i]);
}
"""
MIN, MAX = qmath.INT32_MIN, qmath.INT32_MAX
EDGE_ACC = [MIN, MIN + 1, -(1 << 30), -65536, -3, -1, 0, 1, 2, 3, 65535, 1 << 30, MAX - 1, MAX]
EDGE_MULT = [MIN, MIN + 1, -(1 << 30), -1, 0, 1, 1 << 30, (1 << 30) + 1, MAX - 1, MAX]


def _module(host_cache, flags=()):
    return build_module("requant_test", CDEF, SOURCE, include_dirs=[RUNTIME],
                        cflags=("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", *flags),
                        cache_dir=host_cache, depends=sorted(RUNTIME.glob("*.h")))


def _call(mod, fn, *arrays):
    arrays = [np.ascontiguousarray(a, dtype=np.int32) for a in arrays]
    out = np.zeros(len(arrays[0]), np.int32)
    ptrs = [mod.ffi.cast("int32_t *", mod.ffi.from_buffer(a)) for a in arrays]
    getattr(mod.lib, fn)(*ptrs, mod.ffi.cast("int32_t *", mod.ffi.from_buffer(out)), len(out))
    return out


def _operands(rng, n_random=20000):
    edge = np.array(list(itertools.product(EDGE_ACC, EDGE_MULT, range(-31, 31))), np.int64)
    wrap = np.array([((1 << (31 - s)) * sign, MIN, s) for s in range(1, 31) for sign in (1, -1)],
                    np.int64)   # acc << shift wraps to INT32_MIN, then INT32_MIN x INT32_MIN
    rnd = np.stack([rng.integers(MIN, MAX, n_random, endpoint=True),
                    rng.integers(MIN, MAX, n_random, endpoint=True),
                    rng.integers(-31, 31, n_random)], axis=1)
    small = np.stack([rng.integers(-70000, 70000, n_random),
                      rng.integers(1 << 30, MAX, n_random, endpoint=True),
                      rng.integers(-20, 2, n_random)], axis=1)     # realistic operands
    return np.concatenate([edge, wrap, rnd, small])


def test_requantize_matches_qmath(rng, host_cache):
    ops = _operands(rng)
    assert len(ops) >= 10000
    got = _call(_module(host_cache), "rq_many", ops[:, 0], ops[:, 1], ops[:, 2])
    want = qmath.requantize(ops[:, 0], ops[:, 1], ops[:, 2])
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (f"{bad.size} differ, first {ops[bad[0]]}: "
                           f"C {got[bad[0]]} vs {want[bad[0]]}")


def test_srdhm_and_rdbpot_match_qmath(rng, host_cache):
    mod = _module(host_cache)
    a = np.concatenate([np.repeat(EDGE_ACC, len(EDGE_MULT)), rng.integers(MIN, MAX, 20000)])
    b = np.concatenate([np.tile(EDGE_MULT, len(EDGE_ACC)), rng.integers(MIN, MAX, 20000)])
    assert np.array_equal(_call(mod, "srdhm_many", a, b), qmath.srdhm(a, b))
    x = np.concatenate([np.repeat(EDGE_ACC, 32), rng.integers(MIN, MAX, 20000)])
    e = np.concatenate([np.tile(np.arange(32), len(EDGE_ACC)), rng.integers(0, 32, 20000)])
    assert np.array_equal(_call(mod, "rdbpot_many", x, e), qmath.rdbpot(x, e))


def test_int32_min_squared_saturates(host_cache):
    mod = _module(host_cache)
    assert _call(mod, "srdhm_many", [MIN], [MIN])[0] == MAX
    assert _call(mod, "rq_many", [MIN], [MIN], [0])[0] == MAX
    assert _call(mod, "rq_many", [1 << 29], [MIN], [2])[0] == MAX   # wraps to INT32_MIN first


@settings(max_examples=3000, deadline=None)
@given(acc=st.integers(MIN, MAX), mult=st.integers(MIN, MAX), shift=st.integers(-31, 30))
def test_requantize_property(acc, mult, shift, tmp_path_factory):
    mod = _module(tmp_path_factory.getbasetemp() / "hyp-host")
    assert _call(mod, "rq_many", [acc], [mult], [shift])[0] == qmath.requantize(acc, mult, shift)


def test_requantize_no_undefined_behaviour(rng, host_cache, capfd):
    """Every operand above under -fsanitize=undefined: no 'runtime error' report."""
    flags = ("-fsanitize=undefined", "-O1")
    try:
        mod = _module(host_cache, flags)
    except Exception as e:      # no UBSan runtime on this host
        missing(f"UBSan unavailable: {e}")
    ops = _operands(rng, 2000)
    got = _call(mod, "rq_many", ops[:, 0], ops[:, 1], ops[:, 2])
    assert np.array_equal(got, qmath.requantize(ops[:, 0], ops[:, 1], ops[:, 2]))
    assert "runtime error" not in capfd.readouterr().err
