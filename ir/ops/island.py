"""elementwise_fn: any float function of ONE activation, given as a small program of numpy
primitives — the frontend folds a connected island of float elementwise ops with scalar
constants (an ONNX function-expanded Elu / Selu / Softplus / Clip / Gelu, or a user's own odd
activation) into it; quantize makes it a 256-entry int8 lookup table (`lut`) like every
`table` op, and calibration sees its output range through run_float.

attrs["program"]: a tuple of steps, each (primitive, operand, ...); an operand is "x" (the
input), an int (the result of an earlier step) or a float (a constant). The result is the
last step's. Booleans (comparisons) are 0.0 / 1.0. Evaluated in float64.
"""
from __future__ import annotations

import math

import numpy as np

from ...errors import IRError
from .registry import op, same_as_input

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _round_even(x):
    return np.round(x)                        # numpy rounds half to even, as ONNX Round


def _trunc_to(lo: float, hi: float):
    return lambda x: np.clip(np.trunc(np.nan_to_num(x, nan=0.0, posinf=hi, neginf=lo)), lo, hi)


PRIMITIVES = {   # name -> (arity, numpy function on float64 arrays)
    "add": (2, np.add), "sub": (2, np.subtract), "mul": (2, np.multiply),
    "div": (2, np.divide), "pow": (2, np.power), "max": (2, np.fmax), "min": (2, np.fmin),
    "exp": (1, np.exp), "log": (1, np.log), "sqrt": (1, np.sqrt),
    "reciprocal": (1, np.reciprocal), "neg": (1, np.negative), "abs": (1, np.abs),
    "erf": (1, _erf), "tanh": (1, np.tanh), "sigmoid": (1, _sigmoid),
    "floor": (1, np.floor), "ceil": (1, np.ceil), "round": (1, _round_even),
    "sign": (1, np.sign), "sin": (1, np.sin), "cos": (1, np.cos),
    "softplus": (1, lambda x: np.logaddexp(0.0, x)),
    "less": (2, lambda a, b: (a < b) * 1.0), "less_equal": (2, lambda a, b: (a <= b) * 1.0),
    "greater": (2, lambda a, b: (a > b) * 1.0),
    "greater_equal": (2, lambda a, b: (a >= b) * 1.0),
    "equal": (2, lambda a, b: (a == b) * 1.0),
    "not": (1, lambda a: (a == 0) * 1.0),
    "and": (2, lambda a, b: ((a != 0) & (b != 0)) * 1.0),
    "or": (2, lambda a, b: ((a != 0) | (b != 0)) * 1.0),
    "where": (3, lambda c, a, b: np.where(c != 0, a, b)),
    "to_bool": (1, lambda a: (a != 0) * 1.0),
    "to_float16": (1, lambda a: a.astype(np.float16).astype(np.float64)),
    "to_float32": (1, lambda a: a.astype(np.float32).astype(np.float64)),
    **{f"to_{t}": (1, _trunc_to(float(np.iinfo(t).min), float(np.iinfo(t).max)))
       for t in ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64")},
}
BOOLEAN = {"less", "less_equal", "greater", "greater_equal", "equal", "not", "and", "or",
           "to_bool"}


def check_program(program) -> None:
    """IRError unless `program` is a well-formed tuple of steps."""
    if not program:
        raise IRError("elementwise_fn: empty program")
    for k, step in enumerate(program):
        prim, *args = step
        if prim not in PRIMITIVES:
            raise IRError(f"elementwise_fn: step {k}: unknown primitive {prim!r}")
        if len(args) != PRIMITIVES[prim][0]:
            raise IRError(f"elementwise_fn: step {k}: {prim} takes {PRIMITIVES[prim][0]} "
                          f"operands, got {len(args)}")
        for a in args:
            if isinstance(a, int) and not 0 <= a < k or isinstance(a, str) and a != "x":
                raise IRError(f"elementwise_fn: step {k}: operand {a!r} is not 'x', an "
                              "earlier step or a constant")


def run_program(program, x) -> np.ndarray:
    """The program's result for every element of x (float64)."""
    x = np.asarray(x, np.float64)
    vals: list = []

    def get(a):
        if isinstance(a, str):
            return x
        if isinstance(a, int):
            return vals[a]
        return np.float64(a)

    with np.errstate(all="ignore"):
        for prim, *args in program:
            vals.append(np.asarray(PRIMITIVES[prim][1](*(get(a) for a in args)), np.float64))
    return np.broadcast_to(vals[-1], x.shape)


def _table(x, attrs):
    """The function quantize tabulates: NaN (an int8 grid point outside the function's domain,
    e.g. Sqrt below 0, which the float model never reached) as 0; infinities saturate."""
    return np.nan_to_num(run_program(attrs["program"], x), nan=0.0)


op("elementwise_fn", run_float=lambda node, x: run_program(node.attrs["program"], x).astype(
    np.float32), inplace=(0,), table=_table, channel_tie=True, elementwise=True)(same_as_input)
