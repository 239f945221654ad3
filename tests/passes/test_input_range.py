"""OpDef.input_range (issue 15, NNCF's `Conv -> HardSwish / Sigmoid -> Q` with the Conv output
in float): quantizing the op's float input to the implied interval changes no int8 output.
Checked on the op's own float function over a dense grid: every input outside the interval
quantizes (to the output's int8 grid) to the same value as the interval's nearer end."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.ir import OPS

# (op, attrs, output (scale, zero point)) as the quantizers write them
CASES = [
    ("sigmoid", {}, (1 / 255, -128)),          # uint8 [0, 1] (NNCF, ORT)
    ("sigmoid", {}, (1 / 256, -128)),          # TFLite's
    ("sigmoid", {}, (0.0021, -30)),            # a range cutting sigmoid's at both ends
    ("tanh", {}, (1 / 128, 0)),
    ("tanh", {}, (0.004, 10)),
    ("hard_sigmoid", {"alpha": 0.2, "beta": 0.5}, (1 / 255, -128)),
    ("hard_sigmoid", {"alpha": 1 / 6, "beta": 0.5}, (0.0025, -100)),
    ("hard_swish", {}, (0.03051431, 0)),       # mixed_nncf
    ("hard_swish", {}, (0.01, -90)),           # hi < 3
    ("hard_swish", {}, (0.05, -120)),
]


def q8(y, s, zp):
    return np.clip(np.round(y / s) + zp, -128, 127)


@pytest.mark.parametrize("op, attrs, q", CASES)
def test_outside_the_implied_range_the_int8_output_does_not_change(op, attrs, q):
    s, zp = q
    d = OPS[op]
    lo, hi = d.input_range(attrs, (-128 - zp) * s, (127 - zp) * s, s)
    assert np.isfinite(lo) and np.isfinite(hi) and lo < hi
    f = lambda x: np.asarray(d.table(np.asarray(x, np.float64), attrs), np.float64)  # noqa: E731
    below = np.linspace(lo - 50, lo, 20001)
    above = np.linspace(hi, hi + 50, 20001)
    assert np.all(q8(f(below), s, zp) == q8(f(lo), s, zp)), (op, lo)
    assert np.all(q8(f(above), s, zp) == q8(f(hi), s, zp)), (op, hi)
    # and the interval is not wider than needed: its ends' outputs differ (the op is used)
    assert q8(f(lo), s, zp) != q8(f(hi), s, zp)


def test_only_table_ops_with_a_monotone_or_saturating_tail_say_it():
    assert {n for n, d in OPS.items() if d.input_range} == {
        "sigmoid", "tanh", "hard_sigmoid", "hard_swish"}
