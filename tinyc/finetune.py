"""The driver's side of fine-tuning: training data and teacher loading, progress, and the
fake-quantized prediction of a compiled model (passes/finetune does the training)."""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import numpy as np

from .data import _load_npz, as_arrays, split_samples
from .errors import TinycError
from .passes.finetune import FinetuneOptions, finetune


def train_data(g, train, samples) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """{input name: (N, *shape[1:]) float32} and labels (or None): train is an .npz path, a
    dict (one array per input, optional "label"), an array, or None (the calibration
    samples)."""
    if train is None:
        if not samples:
            raise TinycError("finetune: needs training data — pass train= (or --train "
                             "TRAIN.npz) or calibration data (calib=)")
        return {v.name: np.concatenate([s[v.name] for s in samples]).astype(np.float32)
                for v in g.inputs}, None
    data = _load_npz(train) if isinstance(train, (str, Path)) else \
        dict(train) if isinstance(train, dict) else train
    labels = None
    if isinstance(data, dict):
        labels = data.get("label", data.get("labels"))
        data = {k: v for k, v in data.items() if k not in ("label", "labels")}
    names = [v.name for v in g.inputs]
    arrays = as_arrays(data, names, "training data")
    src = str(train) if isinstance(train, (str, Path)) else "training data"
    feeds = split_samples(arrays, {v.name: v.shape for v in g.inputs}, src, need_float=True)
    out = {v.name: np.concatenate([f[v.name] for f in feeds]).astype(np.float32)
           for v in g.inputs}
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(feeds):
            raise TinycError(f"{src}: {len(labels)} labels for {len(feeds)} samples")
        if not np.issubdtype(labels.dtype, np.integer):
            raise TinycError(f"{src}: labels must be integer class indices, got "
                             f"{labels.dtype}")
    return out, labels


def check_teacher(teacher, t, g):
    """The teacher graph t (loaded from `teacher`) has the model g's input and output shapes."""
    if [v.shape for v in t.inputs] != [v.shape for v in g.inputs] or \
            [v.shape for v in t.outputs] != [v.shape for v in g.outputs]:
        raise TinycError(f"teacher {teacher}: inputs {[v.shape for v in t.inputs]} and "
                         f"outputs {[v.shape for v in t.outputs]} differ from the model's "
                         f"{[v.shape for v in g.inputs]} and {[v.shape for v in g.outputs]}")
    return t


def print_progress(row: dict, epochs: int, estimate: float) -> None:
    acc = row["val_acc"]
    print(f"finetune: epoch {row['epoch']}/{epochs}  loss {row['loss']:.4f}  held-out "
          f"loss {row['val_loss']:.4f} acc {100 * acc:.1f} %  {row['seconds']:.1f} s "
          f"(~{estimate:.0f} s for {epochs})", file=sys.stderr)


def run_finetune(g, float_graph, samples, epochs, train, teacher, teacher_graph,
                 compression, options=None, progress=print_progress):
    """Fine-tune the compressed float graph g (in place); returns (g, report). teacher: the
    teacher's path (or None: the float model), teacher_graph: it loaded (float passes run)."""
    if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 1:
        raise TinycError(f"finetune: the number of epochs must be an integer >= 1, got "
                         f"{epochs!r}")
    if any(not v.dtype.is_float for v in g.inputs) or getattr(g, "io_quant", None):
        raise TinycError("finetune: needs a float model (ONNX float or TFLite float) — this "
                         "one is already quantized; fine-tune its float original instead")
    data, labels = train_data(g, train, samples)
    t = check_teacher(teacher, teacher_graph, g) if teacher is not None else float_graph
    opts = FinetuneOptions(epochs=int(epochs), **(options or {}))
    layers = (compression or {}).get("layers", {})
    calib = {v.name: np.concatenate([s[v.name] for s in samples]).astype(np.float32)
             for v in g.inputs} if samples else None
    with blas_threads(1):
        report = finetune(g, data, labels, t, opts, layers, progress, original=float_graph,
                          calib=calib)
    report["teacher"] = str(teacher) if teacher is not None else "float model"
    return g, report


@contextlib.contextmanager
def blas_threads(n: int):
    """Run with n BLAS threads (restored after): fine-tuning's matmuls are small, so one
    thread is faster (several spin and fight for 2 cores) and gives the same bytes on every
    run. threadpoolctl where installed, else OpenBLAS's own setter (numpy's bundled
    scipy-openblas), else unchanged."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is not None:
        with threadpool_limits(n, user_api="blas"):
            yield
        return
    lib = _openblas()
    if lib is None:
        yield
        return
    old = lib.get()
    lib.set(n)
    try:
        yield
    finally:
        lib.set(old)


def _openblas():
    import ctypes
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({ln.split()[-1] for ln in f if "openblas" in ln.lower()
                            and ln.rstrip().split()[-1].startswith("/")})
    except OSError:
        return None
    for p in paths:
        try:
            lib = ctypes.CDLL(p)
        except OSError:
            continue
        for suffix in ("scipy_openblas_{}_num_threads64_", "openblas_{}_num_threads64_",
                       "openblas_{}_num_threads"):
            fset, fget = (getattr(lib, suffix.format(w), None) for w in ("set", "get"))
            if fset is not None and fget is not None:
                from types import SimpleNamespace
                return SimpleNamespace(set=lambda n: fset(int(n)), get=lambda: int(fget()))
    return None
