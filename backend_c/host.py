"""build_host: compile an emitted C folder with cffi and call it from Python.

Builds are content-addressed: the module name carries a hash of every .c/.h file, the flags
and the toolchain, so a rebuild of unchanged sources only loads the cached extension, two
different models get different module names (both loadable in one process), and concurrent
builds of the same sources (pytest-xdist) race harmlessly (atomic rename).
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import re
import shutil
import sys
import sysconfig
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import TinycError, ToolchainError
from .cgen import c_ident

# -fno-wrapv: Python's own CFLAGS (which setuptools puts first) carry -fwrapv; signed overflow
# must stay undefined on the host as it is for arm-none-eabi-gcc, so the C cannot rely on it.
# -Wconversion (in C it includes -Wsign-conversion with gcc): no silent narrowing in the C.
DEFAULT_CFLAGS = ("-std=c99", "-O2", "-Wall", "-Wextra", "-Wconversion", "-Wsign-conversion",
                  "-fno-wrapv", "-Werror")
_LOADED: dict[str, Any] = {}
_LOCK = threading.Lock()


def cache_root(cache_dir=None) -> Path:
    """The private build directory: cache_dir, $TINYC_CACHE_DIR/host or ~/.cache/tinyc/host."""
    if cache_dir is not None:
        return Path(cache_dir)
    if os.environ.get("TINYC_CACHE_DIR"):
        return Path(os.environ["TINYC_CACHE_DIR"]) / "host"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tinyc" / "host"


def _digest(parts: Sequence[str], files: Sequence[Path]) -> str:
    import cffi
    h = hashlib.sha256()
    for p in (*parts, cffi.__version__, sys.version, sysconfig.get_platform()):
        h.update(p.encode() + b"\0")
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def _load(modname: str, so_path: Path):
    spec = importlib.util.spec_from_file_location(modname, so_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _compile(modname: str, cdef: str, source: str, sources, include_dirs, cflags, root: Path):
    import cffi
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    link = [f for f in cflags if f.startswith("-fsanitize") or f.startswith("-fno-sanitize")]
    ffi.set_source(modname, source, sources=[str(s) for s in sources],
                   include_dirs=[str(d) for d in include_dirs],
                   extra_compile_args=list(cflags), extra_link_args=link)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=modname + ".", dir=root))
    try:
        so = Path(ffi.compile(tmpdir=str(tmp), verbose=False))
        final = root / so.name
        os.replace(so, final)
        return final
    except Exception as e:  # cffi wraps compiler failures in VerificationError
        raise ToolchainError(f"build_host: compiling {modname} failed — {e}. The compiler's "
                             "messages are on stderr above.") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def build_module(name_hint: str, cdef: str, source: str, sources: Sequence[Path] = (),
                 include_dirs: Sequence[Path] = (), cflags: Sequence[str] = DEFAULT_CFLAGS,
                 cache_dir=None, depends: Sequence[Path] = ()):
    """Compile `source` (+ `sources`) into a cffi extension and load it; returns the module
    (`.ffi`, `.lib`). Cached by the content of source, sources, depends (headers) and flags."""
    files = sorted({Path(p).resolve() for p in (*sources, *depends)})
    key = _digest([name_hint, cdef, source, *cflags], files)
    modname = f"_tinyc_{c_ident(name_hint)}_{key}"
    with _LOCK:
        if modname in _LOADED:
            return _LOADED[modname]
        root = cache_root(cache_dir)
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        so = root / (modname + suffix)
        if not so.exists():
            so = _compile(modname, cdef, source, [f for f in files if f.suffix == ".c"],
                          include_dirs, cflags, root)
        _LOADED[modname] = _load(modname, so)
        return _LOADED[modname]


# -- emitted models ------------------------------------------------------------------------------

@dataclass(frozen=True)
class IOSpec:
    name: str
    shape: tuple[int, ...]
    size: int               # bytes
    scale: float
    zero_point: int
    ctype: str = "int8_t"   # the C API's element type (the model's own I/O type)

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.ctype[:-2])


def _parse_header(text: str) -> tuple[str, str, list[IOSpec], list[IOSpec]]:
    m = re.search(r"^void (\w+)_invoke\((.*)\);$", text, re.M)
    if not m:
        raise TinycError("build_host: model.h declares no <name>_invoke() — not a tinyc folder?")
    name, proto = m.group(1), m.group(0)
    macros = dict(re.findall(r"^#define (\w+) (.*)$", text, re.M))
    P = name.upper()

    def spec(tag: str) -> IOSpec:
        shape = macros.get(f"{P}_{tag}_SHAPE", "{}").strip("{}")
        return IOSpec(name=ast.literal_eval(macros[f"{P}_{tag}_NAME"]),
                      shape=tuple(int(d) for d in shape.split(",") if d.strip()),
                      size=int(macros[f"{P}_{tag}_SIZE"]),
                      scale=float(macros[f"{P}_{tag}_SCALE"].rstrip("f")),
                      zero_point=int(macros[f"{P}_{tag}_ZERO_POINT"].strip("()")),
                      ctype=macros.get(f"{P}_{tag}_TYPE", "int8_t").strip())
    ins = [spec(f"IN{i}") for i in range(int(macros[f"{P}_NUM_INPUTS"]))]
    outs = [spec(f"OUT{i}") for i in range(int(macros[f"{P}_NUM_OUTPUTS"]))]
    return name, proto, ins, outs


def _batched(shape: tuple[int, ...], n: int) -> tuple[int, ...]:
    """The shape of n samples: the model's shape for one, else stacked along axis 0."""
    if n == 1:
        return shape
    return (n * shape[0],) + shape[1:] if shape else (n,)


class HostModel:
    """An emitted model compiled for the host. invoke([x0, x1, ...]) -> [y0, y1, ...].

    Each input array holds B >= 1 samples of the model's input (B * size bytes, int8); the
    model is called once per sample and the outputs have shape (B * shape[0], *shape[1:]).
    """

    def __init__(self, module, name: str, inputs: list[IOSpec], outputs: list[IOSpec], c_dir):
        self.module, self.name, self.c_dir = module, name, Path(c_dir)
        self.inputs, self.outputs = inputs, outputs
        self._fn = getattr(module.lib, f"{name}_invoke")

    def _samples(self, arrays: list[np.ndarray]) -> int:
        counts = set()
        for a, spec in zip(arrays, self.inputs):
            if a.dtype != spec.np_dtype:
                raise TinycError(f"HostModel: input '{spec.name}' — expected {spec.np_dtype}, "
                                 f"got {a.dtype}")
            if spec.size == 0:                  # a zero-sized input: no elements, never read
                if a.size:
                    raise TinycError(f"HostModel: input '{spec.name}' has size 0 {spec.shape}"
                                     f" — expected no elements, got shape {a.shape}")
                continue
            if a.size == 0 or a.size % spec.size:
                raise TinycError(f"HostModel: input '{spec.name}' — expected a multiple of "
                                 f"{spec.size} elements {spec.shape}, got shape {a.shape}")
            counts.add(a.size // spec.size)
        if len(counts) > 1:
            raise TinycError(f"HostModel: inputs hold different sample counts {sorted(counts)}")
        return counts.pop() if counts else 1

    def invoke(self, inputs) -> list[np.ndarray]:
        if isinstance(inputs, np.ndarray):
            inputs = [inputs]
        if len(inputs) != len(self.inputs):
            raise TinycError(f"HostModel: expected {len(self.inputs)} inputs, got {len(inputs)}")
        arrays = [np.ascontiguousarray(a) for a in inputs]
        n = self._samples(arrays)
        ins = [a.reshape(n, spec.size) for a, spec in zip(arrays, self.inputs)]
        outs = [np.zeros((n, spec.size), spec.np_dtype) for spec in self.outputs]
        ffi = self.module.ffi
        for b in range(n):
            args = [ffi.from_buffer(f"{s.ctype}[]", x[b]) for x, s in zip(ins, self.inputs)]
            args += [ffi.from_buffer(f"{s.ctype}[]", y[b], require_writable=True)
                     for y, s in zip(outs, self.outputs)]
            self._fn(*args)
        return [y.reshape(_batched(s.shape, n)) for y, s in zip(outs, self.outputs)]

    __call__ = invoke


def build_host(c_dir, extra_cflags: Sequence[str] = (), cache_dir=None) -> HostModel:
    """Compile the folder written by emit_c (model.c, model_data.c, kernels/*.c) with
    DEFAULT_CFLAGS (-std=c99 -O2 -Wall -Wextra -Wconversion -Wsign-conversion -fno-wrapv
    -Werror) + extra_cflags (e.g. sanitizers) and load it."""
    c_dir = Path(c_dir).resolve()
    header = c_dir / "model.h"
    if not header.exists():         # a build with a name: <name>.h declares <name>_invoke
        named = [h for h in sorted(c_dir.glob("*.h")) if re.search(
            r"^void (\w+)_invoke\(", h.read_text(encoding="ascii", errors="replace"), re.M)]
        if len(named) != 1:
            raise TinycError(f"build_host: {c_dir} has no model.h or <name>.h — expected a "
                             "folder from emit_c")
        header = named[0]
    name, proto, ins, outs = _parse_header(header.read_text(encoding="ascii"))
    files = sorted(p for p in c_dir.rglob("*") if p.suffix in (".c", ".h"))
    sources = [p for p in files if p.suffix == ".c"]
    module = build_module(name, proto, f'#include "{header.name}"\n', sources, [c_dir],
                          (*DEFAULT_CFLAGS, *extra_cflags), cache_dir,
                          depends=[p for p in files if p.suffix == ".h"])
    return HostModel(module, name, ins, outs, c_dir)
