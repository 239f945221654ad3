"""softmax over the last axis. Integer form: TFLite's int8 softmax (reference_ops::Softmax):
gemmlowp fixed-point exp of (x - max) scaled by beta*input_scale, a fixed-point reciprocal of
the sum, output scale 1/256 and zero point -128.
"""
from __future__ import annotations

import numpy as np

from .. import qmath
from .registry import op, same_as_input

SCALED_DIFF_INTEGER_BITS = 5
ACCUMULATION_INTEGER_BITS = 12


def softmax_float(node, x):
    z = (x.astype(np.float64) - x.max(axis=-1, keepdims=True)) * node.attrs.get("beta", 1.0)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def softmax_int(node, x):
    a = node.attrs
    x = x.astype(np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    valid = diff >= a["diff_min"]
    rescaled = qmath.srdhm(qmath.wrap_int32(diff << a["input_left_shift"]),
                           a["input_multiplier"])
    exp = qmath.exp_on_negative_values(rescaled, SCALED_DIFF_INTEGER_BITS)
    exp_acc = qmath.rdbpot(exp, ACCUMULATION_INTEGER_BITS)       # Rescale<12>
    sum_of_exps = np.where(valid, exp_acc, 0).sum(axis=-1, keepdims=True)
    scale, bits_over_unit = qmath.get_reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS)
    unsat = qmath.rdbpot(qmath.srdhm(scale, exp), bits_over_unit + 31 - 8)
    y = np.clip(unsat - 128, -128, 127)
    return np.where(valid, y, -128).astype(np.int8)


@op("softmax", run_float=softmax_float, run_int=softmax_int,
    int_attrs=("input_multiplier", "input_left_shift", "diff_min"), fixed_q=(1.0 / 256.0, -128))
def softmax(inputs, attrs):
    """softmax(x) {beta} — over the last axis"""
    return same_as_input(inputs, attrs)
