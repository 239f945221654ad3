"""Loading and checking user data: calibration sets, test sets, single inputs.

A calibration set is an .npz path, a dict {input name: array}, or one array (single-input
model); each array holds N samples: shape (N, *input_shape[1:]) or (N, *input_shape).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import QuantizationError, TinycError


def _load_npz(path) -> dict[str, np.ndarray]:
    p = Path(path)
    if not p.is_file():
        raise TinycError(f"{p}: no such file")
    try:
        with np.load(p, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (ValueError, OSError) as e:
        raise TinycError(f"{p}: not a readable .npz file ({e})") from None


def as_arrays(data, input_names: list[str], what: str) -> dict[str, np.ndarray]:
    """Normalise npz path / dict / array into {input name: array of samples}."""
    src = str(data) if isinstance(data, (str, Path)) else what
    if isinstance(data, (str, Path)):
        data = _load_npz(data)
    if isinstance(data, np.ndarray):
        data = {input_names[0]: data} if len(input_names) == 1 else data
    if not isinstance(data, dict):
        raise QuantizationError(f"{src}: expected an .npz file, a dict or an array")
    if len(input_names) == 1 and input_names[0] not in data:
        arrays = [v for k, v in data.items() if k not in ("label", "labels")]
        if len(arrays) == 1:
            return {input_names[0]: arrays[0]}
    missing = [n for n in input_names if n not in data]
    if missing:
        raise QuantizationError(
            f"{src}: no array for model input(s) {missing} — expected keys {input_names}, "
            f"got {sorted(data)}")
    return {n: data[n] for n in input_names}


def split_samples(arrays: dict[str, np.ndarray], shapes: dict[str, tuple],
                  src: str, need_float: bool) -> list[dict[str, np.ndarray]]:
    """{name: (N, ...)} → list of N feeds {name: array of the input's shape}, checked."""
    counts = set()
    per_input = {}
    for name, a in arrays.items():
        shape = shapes[name]
        a = np.asarray(a)
        if a.shape[1:] == tuple(shape[1:]):
            a = a.reshape((a.shape[0],) + tuple(shape))
        elif a.shape[1:] != tuple(shape):
            raise QuantizationError(
                f"{src}: array '{name}' has shape {a.shape} — expected (N, "
                f"{', '.join(map(str, shape[1:]))}) or (N, {', '.join(map(str, shape))}) "
                f"for model input '{name}' of shape {tuple(shape)}")
        if need_float and not np.issubdtype(a.dtype, np.floating):
            raise QuantizationError(f"{src}: array '{name}' has dtype {a.dtype} — expected "
                                    "float samples in the model's input units")
        if np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
            raise QuantizationError(f"{src}: array '{name}' contains NaN or Inf")
        counts.add(a.shape[0])
        per_input[name] = a
    if len(counts) != 1 or 0 in counts:
        raise QuantizationError(f"{src}: inputs have different or zero sample counts {counts}")
    n = counts.pop()
    return [{k: v[i] for k, v in per_input.items()} for i in range(n)]
