"""compile(): frontend → passes → quantize → plan_memory → tinyc.Model."""
from __future__ import annotations

import copy
import logging
import re
import sys
from pathlib import Path

from .data import as_arrays, split_samples
from .errors import TinycError
from .fit import check_fit, estimate
from .model import Model
from .passes.canonicalize import canonicalize
from .passes.fold_batchnorm import fold_batchnorm
from .passes.fuse_activation import fuse_activation
from .passes.manager import run_passes
from .passes.plan_memory import plan_memory
from .passes.quantize import quantize
from .passes.schedule import schedule

log = logging.getLogger("tinyc")

FLOAT_PASSES = [fold_batchnorm, canonicalize, fuse_activation]


def load_model(path, input_shapes: dict | None = None):
    p = Path(path)
    if not p.exists():
        raise TinycError(f"{p}: no such file")
    if p.suffix.lower() == ".onnx":
        from .frontend.onnx import load_onnx
        return load_onnx(p, input_shapes=input_shapes)
    if p.suffix.lower() == ".tflite":
        from .frontend.tflite import load_tflite
        return load_tflite(p, input_shapes=input_shapes)
    raise TinycError(f"{p}: unknown model format '{p.suffix}' — tinyc reads .onnx and "
                     ".tflite files")


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty() or done == total:
        end = "\n" if done == total else "\r"
        print(f"calibrating: {done}/{total} samples", end=end, file=sys.stderr)


def c_name(name: str) -> str:
    s = re.sub(r"\W", "_", name)
    return s if s and not s[0].isdigit() else f"m_{s}"


def compile(path, board: str = "stm32", calib=None, input_shapes: dict | None = None,
            name: str = "tinyc_model", verify: bool = True, progress=_progress) -> Model:
    """Compile an ONNX model for a board. calib: .npz path, {input: array}, or array."""
    from .target import load_board
    brd = load_board(board) if isinstance(board, str) else board
    g = load_model(path, input_shapes)
    g = run_passes(g, FLOAT_PASSES, check=verify)
    float_graph = copy.deepcopy(g)
    samples = None
    if calib is not None:
        names = [v.name for v in g.inputs]
        arrays = as_arrays(calib, names, "calibration data")
        src = str(calib) if isinstance(calib, (str, Path)) else "calibration data"
        samples = split_samples(arrays, {v.name: v.shape for v in g.inputs}, src,
                                need_float=True)
    io_dtype = "int8" if getattr(g, "io_quant", None) else "float32"
    g = quantize(g, samples, progress=progress)
    plan = plan_memory(schedule(g))
    options = {"board": brd.name, "calib": bool(calib is not None)}
    model = Model(g, float_graph, plan, brd, c_name(name), io_dtype, str(path), options)
    check_fit(model, *estimate(model), "estimated before compiling the C")
    return model
