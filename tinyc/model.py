"""tinyc.Model: a compiled model — the integer graph, its memory plan, and ways to run it
(golden interpreter, generated C on the host via cffi, generated C in QEMU)."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import TinycError
from .ir import Graph, interpret
from .ir.qmath import round_half_away  # noqa: F401  (documented rounding for I/O)


@dataclass(frozen=True)
class IOSpec:
    """One model input or output as the user sees it (the ONNX model's own shape/layout)."""
    name: str
    shape: tuple[int, ...]
    dtype: str                # "float32" (quantized by tinyc), or the model's own integer
                              # I/O type: "int8", "uint8" or "int16"
    scale: float
    zero_point: int           # in dtype's terms (uint8: the file's, 128 above the int8 view)
    storage: str = "int8"     # float32 I/O: the integer type tinyc quantizes to (the C API's):
                              # int8, or int16 (a 16x8 TFLite model with float I/O)

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.storage if self.dtype == "float32" else self.dtype)

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """float -> this I/O's integer type (an array of that type passes unchanged)."""
        x, want = np.asarray(x), self.np_dtype
        if x.dtype == want:
            return x
        info = np.iinfo(want)
        q = np.sign(x) * np.floor(np.abs(x / self.scale) + 0.5) + self.zero_point
        return np.clip(q, info.min, info.max).astype(want)

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        return ((q.astype(np.float32) - self.zero_point) * np.float32(self.scale))

    def to_graph(self, q: np.ndarray) -> np.ndarray:
        """The graph's value of this I/O: uint8 is int8 inside (u - 128)."""
        if self.dtype == "uint8":
            return (q.astype(np.int16) - 128).astype(np.int8)
        return q

    def from_graph(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y)
        if self.dtype == "uint8":
            return (y.astype(np.int16) + 128).astype(np.uint8)
        if self.dtype == "int16":
            return y.astype(np.int16)
        return y


def _io_dtype(graph: Graph, name: str, default: str) -> str:
    """A model I/O's type for the user: the model's own (graph.io_dtype) or the default."""
    d = getattr(graph, "io_dtype", {}).get(name)
    if default == "float32" or d is None or d.value not in ("u8", "i16"):
        return default
    return {"u8": "uint8", "i16": "int16"}[d.value]


class Model:
    def __init__(self, graph: Graph, float_graph: Graph, plan, board, name: str,
                 io_dtype: str, source: str, options: dict, kernels: dict | None = None):
        self.graph, self.float_graph, self.plan = graph, float_graph, plan
        self.kernels = kernels or {}     # node name -> backend_c.select.KernelChoice
        self.board, self.name, self.source, self.options = board, name, source, options
        self.inputs, self.outputs = ([self._spec(v, io_dtype) for v in vs]
                                     for vs in (graph.inputs, graph.outputs))
        self.memory_plan = None     # tinyc.target.MemoryPlan, set by fit.check_fit
        self._c_dir: Path | None = None
        self._host = None
        self._tmp = None
        from .report import build_report
        self.report = build_report(self)

    def _spec(self, v, io_dtype: str) -> IOSpec:
        dtype = _io_dtype(self.graph, v.name, io_dtype)
        storage = "int16" if dtype == "float32" and v.dtype.value == "i16" else "int8"
        return IOSpec(v.name, v.shape, dtype, v.q.s, v.q.zp + (128 if dtype == "uint8" else 0),
                      storage)

    # -- I/O conversion --------------------------------------------------------------
    def _samples(self, x, batch: bool) -> tuple[list[list[np.ndarray]], bool]:
        """x → per-sample lists of int8 arrays; also whether outputs go back to float."""
        xs = list(x) if isinstance(x, (list, tuple)) else [x]
        if len(xs) != len(self.inputs):
            raise TinycError(f"model has {len(self.inputs)} input(s), got {len(xs)} arrays")
        arrs = [np.asarray(a) for a in xs]
        as_float = any(np.issubdtype(a.dtype, np.floating) for a in arrs)
        n = arrs[0].shape[0] if batch else 1
        samples = []
        for i in range(n):
            sample = []
            for spec, a in zip(self.inputs, arrs):
                one = a[i] if batch else a
                if one.size != int(np.prod(spec.shape)):
                    want = int(np.prod(spec.shape))
                    hint = (f" — it looks like a batch of {one.shape[0]} samples: pass "
                            "batch=True" if not batch and one.ndim and one.shape[0] > 1 and
                            one.size == one.shape[0] * want else "")
                    raise TinycError(f"input '{spec.name}': got shape {one.shape}, "
                                     f"expected {spec.shape}{hint}")
                sample.append(spec.quantize(one.reshape(spec.shape)))
            samples.append(sample)
        return samples, as_float

    def _results(self, outs: list[list[np.ndarray]], as_float: bool, batch: bool):
        conv = [[spec.dequantize(o) if as_float else o
                 for spec, o in zip(self.outputs, (np.asarray(o).reshape(sp.shape)
                                                   for sp, o in zip(self.outputs, s)))]
                for s in outs]
        per_output = [np.stack([s[k] for s in conv]) if batch else conv[0][k]
                      for k in range(len(self.outputs))]
        return per_output[0] if len(per_output) == 1 else per_output

    # -- running -------------------------------------------------------------------------
    def interpret(self, x, batch: bool = False):
        """The golden model (numpy, exact integer arithmetic)."""
        samples, as_float = self._samples(x, batch)
        outs = [[spec.from_graph(y) for spec, y in zip(self.outputs, interpret(
            self.graph, [spec.to_graph(x) for spec, x in zip(self.inputs, s)]))]
            for s in samples]
        return self._results(outs, as_float, batch)

    def run_float(self, x, batch: bool = False):
        """The float model before quantization (for accuracy comparisons)."""
        xs = list(x) if isinstance(x, (list, tuple)) else [x]
        n = np.asarray(xs[0]).shape[0] if batch else 1
        outs = []
        for i in range(n):
            feed = [np.asarray(a[i] if batch else a, np.float32) for a in xs]
            outs.append(interpret(self.float_graph, feed))
        per = [np.stack([o[k] for o in outs]) if batch else outs[0][k]
               for k in range(len(self.outputs))]
        return per[0] if len(per) == 1 else per

    def run_host(self, x, batch: bool = False):
        """The generated C, compiled for this machine with cffi."""
        samples, as_float = self._samples(x, batch)
        if self._host is None:
            from .backend_c.host import build_host
            self._host = build_host(self.c_dir())
        return self._results([self._host.invoke(s) for s in samples], as_float, batch)

    def run_qemu(self, x, batch: bool = False, board=None):
        """The generated C, built for the board and run in QEMU; also sets last_qemu."""
        from .qemu import run_samples
        from .target import load_board
        board = self.board if board is None else load_board(board)
        samples, as_float = self._samples(x, batch)
        fw_dir = Path(self._tmpdir()) / f"fw_{board.name}"
        raw = [[np.ascontiguousarray(a).reshape(-1).view(np.int8) for a in s] for s in samples]
        self.last_qemu = run_samples(self.c_dir(), board, raw, fw_dir, name=self.name)
        outs = [[o.view(spec.np_dtype) if spec.np_dtype != np.int8 else o
                 for spec, o in zip(self.outputs, s)] for s in self.last_qemu.outputs]
        return self._results(outs, as_float, batch)

    # -- output ---------------------------------------------------------------------------
    def _tmpdir(self) -> str:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="tinyc_")
        return self._tmp.name

    def c_dir(self) -> Path:
        if self._c_dir is None:
            self._c_dir = self.write(Path(self._tmpdir()) / "c")
        return self._c_dir

    def build_info(self, host: bool = False) -> dict:
        """How the model was built, for the generated header: no paths, no timestamps."""
        opts = dict(self.options)
        info = {"model file": Path(self.source).name,
                "target": "host (portable C99, no board)" if host else
                f"board {self.board.name} ({self.board.core})"}
        opts.pop("board", None)
        if "calib" in opts:
            method = opts.pop("calib_method", "minmax")
            info["calibration"] = (f"{method} over calibration data" if opts.pop("calib") else
                                   "none (scales from the model's QDQ nodes)")
        if "per_tensor" in opts:
            info["weights"] = "int8, per-tensor" if opts.pop("per_tensor") else \
                "int8, per output channel"
        for k, v in opts.items():         # options added later: as they are, paths cut
            if isinstance(v, Path) or (isinstance(v, str) and ("/" in v or "\\" in v)):
                v = Path(v).name
            info[k] = v if isinstance(v, (str, int, float, bool)) else str(v)
        return info

    def write(self, out_dir, measure: bool = False, host: bool = False,
              profile: bool = False) -> Path:
        """Write the C folder: <name>.h, <name>.c, <name>_data.{c,h}, <name>_names.h, kernels/
        (model.h, model.c, ... with the default name), tinyc.mk, CMakeLists.txt, report.json,
        report.html, and (not host) <board>.ld: the chip's linker script for the memory plan.

        measure=True links the model into a firmware for the board (flash, static RAM) and runs
        one inference in QEMU (stack high-water mark), then checks the board fit.
        host=True: C for a host program (the same C; the header names no board).
        profile=True (with measure): also each layer's estimated cycles (a second firmware)."""
        from .backend_c.emit import DEFAULT_NAME, emit_c
        from .report import write_report
        from .report_html import write_html
        if host and measure:
            raise TinycError("Model.write: measure=True measures on the board — expected "
                             "host=False with it")
        out = Path(out_dir)
        emit_c(self.graph, self.plan, out, name=self.name,
               options={"files": "model" if self.name == DEFAULT_NAME else "name",
                        "build_files": True, "build_info": self.build_info(host),
                        **({"selection": self.kernels} if self.kernels else {})})
        if not host and self.memory_plan is not None:
            from .linker import write_linker_script
            write_linker_script(self.board, self.memory_plan, out / f"{self.board.name}.ld")
        if measure:
            from .fit import check_fit, measure as measure_model
            mem = measure_model(self, out, Path(self._tmpdir()) / "measure", layers=profile)
            self.report["memory"] = mem
            check_fit(self, mem["flash_bytes"], "measured",
                      data=max(mem["ram_static_bytes"] - self.plan.arena_bytes, 0))
        write_report(self, out)
        write_html(self, out)
        return out
