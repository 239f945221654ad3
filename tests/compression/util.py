"""Helpers of the compression tests: the digits example compiled with options, and scores."""
from __future__ import annotations

import functools

import numpy as np

import tinyc

DIGITS = "examples/digits"


@functools.lru_cache(maxsize=None)
def digits_data(root: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(f"{root}/{DIGITS}/test.npz") as t:
        return t["input"], t["label"]


def compile_digits(root, calib_n: int | None = None, **kw) -> tinyc.Model:
    """The digits example compiled with options (calib_n: only the first calibration
    samples, for speed)."""
    calib = f"{root}/{DIGITS}/calib.npz"
    if calib_n is not None:
        with np.load(calib) as z:
            calib = {"input": z["input"][:calib_n]}
    return tinyc.compile(f"{root}/{DIGITS}/digits.onnx", calib=calib, progress=None, **kw)


def accuracy(m: tinyc.Model, root) -> float:
    """Top-1 accuracy of the integer model (interpret) on the digits test split."""
    x, y = digits_data(str(root))
    out = np.asarray(m.interpret(x, batch=True)).reshape(len(y), -1)
    return float(np.mean(out.argmax(1) == y))


def output_mse(m: tinyc.Model, root) -> float:
    """Mean squared error of the dequantized integer outputs against the float model."""
    x, _ = digits_data(str(root))
    q = np.asarray(m.interpret(x, batch=True), np.float64)
    f = np.asarray(m.run_float(x, batch=True), np.float64)
    return float(np.mean((q.reshape(f.shape) - f) ** 2))


def host_matches_interpret(m: tinyc.Model, x: np.ndarray) -> bool:
    """The generated C (cffi) gives exactly interpret's int8 outputs."""
    xs = [m.inputs[0].quantize(a.reshape(m.inputs[0].shape)) for a in x]
    q = np.stack(xs)
    return bool(np.array_equal(np.asarray(m.run_host(q, batch=True)),
                               np.asarray(m.interpret(q, batch=True))))
