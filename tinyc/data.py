"""Loading and checking user data: calibration sets, test sets, single inputs.

A calibration set is an .npz path, a dict {input name: array}, or one array (single-input
model); each array holds N samples: shape (N, *input_shape[1:]) or (N, *input_shape).
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from .errors import DataError, QuantizationError


MAX_ARRAY_BYTES = 1 << 30      # 1 GiB per array: refused before numpy allocates it


def _load_npz(path) -> dict[str, np.ndarray]:
    """Read an .npz safely: every member's .npy header is checked (dtype, declared size against
    the bytes present and MAX_ARRAY_BYTES) before numpy reads it; no pickles."""
    p = Path(path)
    if p.is_dir():
        raise DataError(f"{p}: is a folder — expected an .npz file")
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    try:
        with zipfile.ZipFile(p) as z:
            return {_member_name(info): _read_member(z, info, p) for info in z.infolist()
                    if not info.is_dir()}
    except zipfile.BadZipFile as e:
        head = p.read_bytes()[:6]
        what = ("a single .npy array (np.save) — save the arrays with np.savez(path, "
                "input=...)" if head == b"\x93NUMPY" else f"not a zip archive ({e})")
        raise DataError(f"{p}: not a readable .npz file — {what}") from None
    except (OSError, EOFError, RuntimeError, NotImplementedError) as e:
        raise DataError(f"{p}: not a readable .npz file ({e})") from None


def _member_name(info: zipfile.ZipInfo) -> str:
    return info.filename[:-4] if info.filename.endswith(".npy") else info.filename


def load_npy(path) -> np.ndarray:
    """Read one .npy array safely (header checked before numpy allocates; no pickles)."""
    p = Path(path)
    if p.is_dir():
        raise DataError(f"{p}: is a folder — expected an .npy file")
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    size = p.stat().st_size
    with open(p, "rb") as f:
        return _read_array(f, size, f"{p}", min(size, MAX_ARRAY_BYTES))


def _read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo, p: Path) -> np.ndarray:
    name = _member_name(info)
    where = f"{p}: array '{name}'"
    if info.file_size > MAX_ARRAY_BYTES:
        raise DataError(f"{where} declares {info.file_size:,} B — expected at most "
                         f"{MAX_ARRAY_BYTES:,} B per array")
    with z.open(info) as f:
        return _read_array(f, info.file_size, where, info.file_size)


def _read_array(f, file_size: int, where: str, limit: int) -> np.ndarray:
    """The .npy array in file object f: header first, then at most `limit` bytes."""
    try:
        version = np.lib.format.read_magic(f)
        read = {(1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read is None:
            raise ValueError(f".npy format version {version} — expected 1.0 or 2.0")
        shape, fortran, dtype = read(f)
    except (ValueError, EOFError, SyntaxError, TypeError) as e:
        raise DataError(f"{where} is not a readable .npy array ({e})") from None
    if dtype.hasobject:
        raise DataError(f"{where} holds Python objects (a pickle) — expected numbers. "
                         "tinyc does not load pickles.")
    need = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if need > limit:
        raise DataError(f"{where} declares shape {tuple(shape)} of {dtype} ({need:,} B) "
                         f"but holds {file_size:,} B — expected a complete array")
    data = f.read(need)
    if len(data) != need:
        raise DataError(f"{where} is truncated: {len(data):,} of {need:,} B")
    a = np.frombuffer(data, dtype=dtype)
    return a.reshape(shape, order="F" if fortran else "C").copy()


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
