"""TFLite (.tflite flatbuffer) -> tinyc IR, for fully int8-quantized models.

    graph = load_tflite("model_int8.tflite")

The flatbuffer is read with the `tflite` package (generated accessors; no TensorFlow), imported
only here and only when a .tflite file is loaded. TFLite is NHWC with OHWI conv filters, 1HWC
depthwise filters and [O, K] FC weights, as the IR, so tensors map one to one and the graph
looks like the ONNX QDQ frontend's: float32 activations carrying the file's quantization in
`type.q`, int8 weights and int32 biases with their QParams (per-channel axis 0 / 3, per-tensor
axis None), fused activations as `act` ranges, `graph.io_quant` / `graph.io_dtype` for the
model's int8 inputs and outputs. No calibration: the parameters are the file's.
The op functions are in tflite_ops.py (one per builtin op, named like it); lookup tables that
reproduce TFLite Micro's integer algorithms are in tflite_luts.py.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError, UnsupportedOpError
from ..ir import DType, Graph, QParams, TensorType, Value
from . import tflite_ops
from .tflite_ops import FLOAT_HINT

log = logging.getLogger("tinyc.frontend.tflite")

NP_TYPES = {"FLOAT32": np.float32, "FLOAT16": np.float16, "FLOAT64": np.float64,
            "INT32": np.int32, "INT64": np.int64, "INT16": np.int16, "INT8": np.int8,
            "UINT8": np.uint8, "BOOL": np.bool_, "UINT16": np.uint16, "UINT32": np.uint32}
FLOAT_TYPES = ("FLOAT32", "FLOAT16", "FLOAT64", "BFLOAT16")


def schema():
    """The `tflite` package (flatbuffers accessors), imported lazily."""
    try:
        import tflite
        tflite.Model                             # not some other module named tflite
    except (ImportError, AttributeError) as e:
        raise ModelError("reading .tflite files needs the `tflite` package: "
                         "pip install tflite==2.18.0 (it brings `flatbuffers`)") from e
    return tflite


@dataclass
class TflTensor:
    """One tensor of the subgraph: type name, static shape, quantization, constant data."""
    index: int
    name: str
    dtype: str
    shape: tuple[int, ...]
    q: QParams | None
    data: np.ndarray | None

    @property
    def is_const(self) -> bool:
        return self.data is not None

    def describe(self) -> str:
        return f"tensor '{self.name}' ({self.dtype.lower()}{list(self.shape)})"


def load_tflite(src, input_shapes: dict | None = None) -> Graph:
    """Read a .tflite file (path or bytes) into a QDQ-annotated NHWC ir.Graph."""
    if isinstance(src, (bytes, bytearray, memoryview)):
        data, path = bytes(src), "<tflite bytes>"
    else:
        path = os.fspath(src)
        if not os.path.isfile(path):
            raise ModelError(f"{path}: no such file")
        with open(path, "rb") as f:
            data = f.read()
    return _Importer(data, path).run(input_shapes or {})


# -- reading the flatbuffer -------------------------------------------------------------------

def _enum_names(enum_cls) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_")}


def _read_model(tfl, data: bytes, path: str):
    if len(data) < 8 or not tfl.Model.ModelBufferHasIdentifier(data, 0):
        raise ModelError(f"{path}: not a TFLite flatbuffer (no 'TFL3' identifier)")
    try:
        model = tfl.Model.GetRootAs(data, 0)
        if model.SubgraphsLength() < 1:
            raise ModelError(f"{path}: the model has no subgraph")
        return model
    except ModelError:
        raise
    except Exception as e:                       # noqa: BLE001 (corrupt buffers fail variously)
        raise ModelError(f"{path}: cannot read the TFLite flatbuffer ({e})") from e


def _qparams(tq) -> QParams | None:
    if tq is None or tq.ScaleLength() == 0:
        return None
    if tq.DetailsType() != 0:
        raise ModelError("custom quantization details are not supported")
    scale = tuple(float(s) for s in tq.ScaleAsNumpy())
    zp = tq.ZeroPointAsNumpy()
    zp = tuple(int(z) for z in zp) if tq.ZeroPointLength() else (0,) * len(scale)
    if len(zp) == 1 and len(scale) > 1:
        zp = zp * len(scale)
    return QParams(scale, zp, tq.QuantizedDimension() if len(scale) > 1 else None)


def _buffer(model, data: bytes, index: int) -> bytes | None:
    buf = model.Buffers(index) if 0 < index < model.BuffersLength() else None
    if buf is None:
        return None
    if buf.Offset() > 1:                         # large models: data after the flatbuffer
        return data[buf.Offset():buf.Offset() + buf.Size()]
    return buf.DataAsNumpy().tobytes() if buf.DataLength() else None


def _read_tensor(tfl, model, sg, data: bytes, i: int, type_names: dict, path: str) -> TflTensor:
    t = sg.Tensors(i)
    name = (t.Name() or b"").decode("utf-8", "replace") or f"t{i}"
    dtype = type_names.get(t.Type(), f"type {t.Type()}")
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    where = f"{path}: tensor '{name}'"
    if t.Sparsity() is not None:
        raise ModelError(f"{where}: sparse tensors are not supported")
    try:
        q = _qparams(t.Quantization())
    except ModelError as e:
        raise ModelError(f"{where}: {e}") from None
    raw = _buffer(model, data, t.Buffer())
    array = None
    if raw is not None:
        if dtype not in NP_TYPES:
            raise ModelError(f"{where}: constant of type {dtype} is not supported")
        array = np.frombuffer(raw, NP_TYPES[dtype])
        if array.size != int(np.prod(shape, dtype=np.int64)):
            raise ModelError(f"{where}: {array.size} values for shape {list(shape)}")
        array = array.reshape(shape).copy()
    return TflTensor(i, name, dtype, shape, q, array)


# -- conversion ---------------------------------------------------------------------------------

class _Importer:
    def __init__(self, data: bytes, path: str):
        self.tfl = schema()
        self.path = path
        self.model = _read_model(self.tfl, data, path)
        self.sg = self.model.Subgraphs(0)
        types = _enum_names(self.tfl.TensorType)
        self.tensors = [_read_tensor(self.tfl, self.model, self.sg, data, i, types, path)
                        for i in range(self.sg.TensorsLength())]
        self.op_names = _enum_names(self.tfl.BuiltinOperator)
        name = (self.sg.Name() or b"").decode("utf-8", "replace") or "model"
        self.g = Graph(name)
        self.g.io_quant, self.g.io_dtype = {}, {}
        self.values: dict[int, Value] = {}       # tensor index -> IR value
        self.consts: dict[tuple, Value] = {}     # (tensor index, q) -> IR constant

    def run(self, input_shapes: dict) -> Graph:
        for i in self.sg.InputsAsNumpy():
            self._add_input(self.tensors[int(i)], input_shapes)
        unknown = set(input_shapes) - {v.name for v in self.g.inputs}
        if unknown:
            raise ModelError(f"{self.path}: input shape given for {sorted(unknown)}, which "
                             f"are not inputs — inputs are {[v.name for v in self.g.inputs]}")
        for k in range(self.sg.OperatorsLength()):
            op = TflOp(self, k, self.sg.Operators(k))
            fn = getattr(tflite_ops, op.name, None) if op.name in tflite_ops.SUPPORTED else None
            if fn is None:
                raise op.error(f"op {op.name} is not supported",
                               f"supported: {', '.join(sorted(tflite_ops.SUPPORTED))}.")
            op.check_types()
            outs = fn(op)
            for idx, v in zip(op.outputs, outs if isinstance(outs, list) else [outs]):
                self.values[idx] = v
        for i in self.sg.OutputsAsNumpy():
            self._add_output(self.tensors[int(i)])
        self.g.remove_dead()
        return self.g

    def _add_input(self, t: TflTensor, input_shapes: dict) -> None:
        where = f"{self.path}: input {t.describe()}"
        if t.dtype not in ("INT8", "FLOAT32"):
            raise ModelError(f"{where}: expected int8 (or float32 followed by QUANTIZE)")
        if t.name in input_shapes and tuple(input_shapes[t.name]) != t.shape:
            raise ModelError(f"{where}: TFLite shapes are static, cannot use "
                             f"{tuple(input_shapes[t.name])}")
        if any(d <= 0 for d in t.shape) or (len(t.shape) >= 2 and t.shape[0] != 1):
            raise ModelError(f"{where}: expected a static shape with batch size 1")
        if t.dtype == "INT8" and (t.q is None or len(t.q.scale) != 1):
            raise ModelError(f"{where}: int8 input needs per-tensor quantization, got {t.q}")
        v = self.g.add_input(t.name, TensorType(DType.FLOAT32, t.shape, t.q))
        self.values[t.index] = v
        if t.dtype == "INT8":
            self.g.io_quant[v.name], self.g.io_dtype[v.name] = t.q, DType.INT8

    def _add_output(self, t: TflTensor) -> None:
        if t.index not in self.values:
            raise ModelError(f"{self.path}: output {t.describe()} is not computed by any op")
        v = self.values[t.index]
        if v in self.g.inputs or v in self.g.outputs:
            v = self.g.emit("reshape", [v], {"shape": v.shape}, name=t.name)
            v.type = v.type.with_(q=self.values[t.index].q)
        if v.name != t.name and t.name not in {x.name for x in self.g.values()}:
            v.name = self.g.unique(t.name)
        self.g.outputs.append(v)
        if t.dtype == "INT8":
            self.g.io_quant[v.name], self.g.io_dtype[v.name] = v.q, DType.INT8


ACT_RANGES = {0: None, 1: (0.0, float("inf")), 2: (-1.0, 1.0), 3: (0.0, 6.0)}


class TflOp:
    """One operator as the op functions see it: its tensors, options and helpers to emit IR."""

    def __init__(self, imp: _Importer, index: int, op):
        self.imp, self.index, self.op, self.g = imp, index, op, imp.g
        code = imp.model.OperatorCodes(op.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        self.name = imp.op_names.get(builtin, f"builtin {builtin}")
        if self.name == "CUSTOM":
            self.name = f"CUSTOM '{(code.CustomCode() or b'').decode('utf-8', 'replace')}'"
        self.inputs = [int(i) for i in op.InputsAsNumpy()] if op.InputsLength() else []
        self.outputs = [int(i) for i in op.OutputsAsNumpy()] if op.OutputsLength() else []

    # -- errors -------------------------------------------------------------------------------
    def where(self) -> str:
        out = self.imp.tensors[self.outputs[0]].name if self.outputs else "?"
        return f"{self.imp.path}: operator #{self.index} {self.name} (output '{out}')"

    def error(self, what: str, hint: str = "", cls=UnsupportedOpError):
        return cls(f"{self.where()}: {what}." + (f" {hint}" if hint else ""))

    def check_types(self) -> None:
        """Activations must be int8: float ones mean a float or hybrid model."""
        weights = [t for t in self.in_tensors() if t is not None and t.is_const]
        for t in [*self.in_tensors(), *map(self.imp.tensors.__getitem__, self.outputs)]:
            if t is None or t.is_const or t.dtype == "INT8" or self.name in FLOAT_IO_OPS:
                continue
            if t.dtype in FLOAT_TYPES:
                kind = "hybrid (dynamic-range quantized)" if any(
                    w.dtype == "INT8" for w in weights) else "float"
                raise self.error(f"{t.describe()} is {t.dtype.lower()}: this is a {kind} "
                                 "model", FLOAT_HINT + ".", ModelError)
            raise self.error(f"{t.describe()}: {t.dtype.lower()} activations are not "
                             "supported", "tinyc supports int8 activations only.")

    # -- tensors ------------------------------------------------------------------------------
    def in_tensors(self) -> list[TflTensor | None]:
        return [self.imp.tensors[i] if i >= 0 else None for i in self.inputs]

    def tensor(self, i: int) -> TflTensor | None:
        idx = self.inputs[i] if i < len(self.inputs) else -1
        return self.imp.tensors[idx] if idx >= 0 else None

    def out(self, i: int = 0) -> TflTensor:
        return self.imp.tensors[self.outputs[i]]

    def options(self, cls_name: str):
        table = self.op.BuiltinOptions()
        opts = getattr(self.imp.tfl, cls_name)()
        if table is None:
            raise self.error(f"{cls_name} missing", cls=ModelError)
        opts.Init(table.Bytes, table.Pos)
        return opts

    def act(self, i: int) -> Value:
        """Input i as an IR value: an activation, or an int8 constant operand (with its q)."""
        t = self.tensor(i)
        if t is None:
            raise self.error(f"input {i} is missing", cls=ModelError)
        if t.is_const:
            return self.const(i, t.q)
        if t.index not in self.imp.values:
            raise self.error(f"input {t.describe()} is not computed before use", cls=ModelError)
        return self.imp.values[t.index]

    def const(self, i: int, q: QParams | None, dtype: str = "INT8") -> Value:
        t = self.tensor(i)
        if t.dtype != dtype or (dtype == "INT8" and q is None):
            raise self.error(f"constant {t.describe()}{' without quantization' if q else ''}: "
                             f"expected quantized {dtype.lower()}", cls=ModelError)
        key = (t.index, q)
        if key not in self.imp.consts:
            self.imp.consts[key] = self.g.const(t.name, t.data, q)
        return self.imp.consts[key]

    def values_of(self, i: int, what: str) -> np.ndarray:
        """A constant integer input (axes, paddings, shapes) as an int64 array."""
        t = self.tensor(i)
        if t is None or not t.is_const:
            raise self.error(f"'{what}' (input {i}) must be a constant",
                             "tinyc compiles static graphs only.")
        return t.data.astype(np.int64)

    def weight(self, i: int, axis: int) -> Value:
        """An int8 weight: symmetric, per tensor or per channel along `axis`."""
        t = self.tensor(i)
        if t is None or not t.is_const or t.dtype != "INT8" or t.q is None:
            got = t.describe() if t is not None else "nothing"
            raise self.error(f"weights must be a quantized int8 constant, got {got}",
                             FLOAT_HINT + ".", ModelError)
        if any(t.q.zero_point):
            raise self.error(f"weights {t.describe()} have nonzero zero points",
                             "int8 weights must be symmetric (TFLite int8 spec).")
        if t.q.axis is not None and t.q.axis != axis:
            raise self.error(f"weights {t.describe()} are quantized along axis {t.q.axis}, "
                             f"expected {axis}", cls=ModelError)
        return self.const(i, t.q)

    def bias(self, i: int, n: int) -> Value | None:
        t = self.tensor(i)
        if t is None:
            return None
        if not t.is_const or t.dtype != "INT32" or t.q is None or t.shape != (n,):
            raise self.error(f"bias {t.describe()}: expected a quantized int32 constant of "
                             f"shape [{n}]", cls=ModelError)
        q = QParams(t.q.scale, t.q.zero_point, 0 if len(t.q.scale) > 1 else None)
        return self.const(i, q, "INT32")

    # -- emitting -------------------------------------------------------------------------------
    def emit(self, op: str, inputs: list, attrs: dict | None = None, out: int = 0,
             q: QParams | None = None, shape=None, name: str | None = None) -> Value:
        """An IR node named after output tensor `out`, with its quantization (or `q`), its
        shape checked against the file's (or `shape`)."""
        t = self.out(out)
        if q is None and (t.q is None or len(t.q.scale) != 1):
            raise self.error(f"output {t.describe()} needs per-tensor quantization, got {t.q}",
                             FLOAT_HINT + ".", ModelError)
        v = self.g.emit(op, inputs, attrs, name=name or t.name)
        want = t.shape if shape is None else tuple(shape)
        if v.shape != want:
            raise self.error(f"{op} computes shape {list(v.shape)} for {t.describe()}, the "
                             f"file says {list(want)}", cls=ModelError)
        v.type = v.type.with_(q=q or t.q)
        return v

    def relabel(self, v: Value, q: QParams) -> Value:
        """v's int8 bytes unchanged, read with quantization q (TFLM copies raw data in some
        ops whatever the scales): an identity lut; v itself when q is already v's."""
        if v.q == q:
            return v
        from .tflite_luts import identity_table
        r = self.g.emit("lut", [v], {"table": identity_table(), "fn": "reinterpret"},
                        name=f"{v.name}_as")
        r.type = r.type.with_(q=q)
        return r

    def fused(self, attrs: dict, code: int) -> dict:
        if code not in ACT_RANGES:
            raise self.error(f"fused activation {code} (TANH/SIGN_BIT) is not supported")
        if ACT_RANGES[code] is not None:
            attrs["act"] = ACT_RANGES[code]
        return attrs

    def pads(self, padding: int, in_hw, kernel, stride, dilation) -> tuple[int, int, int, int]:
        """TFLite SAME/VALID as explicit (top, left, bottom, right)."""
        if padding == self.imp.tfl.Padding.VALID:
            return (0, 0, 0, 0)
        if padding != self.imp.tfl.Padding.SAME:
            raise self.error(f"padding {padding} is not SAME or VALID", cls=ModelError)
        total = [max(((i + s - 1) // s - 1) * s + (k - 1) * d + 1 - i, 0)
                 for i, k, s, d in zip(in_hw, kernel, stride, dilation)]
        return (total[0] // 2, total[1] // 2, total[0] - total[0] // 2, total[1] - total[1] // 2)


FLOAT_IO_OPS = ("QUANTIZE", "DEQUANTIZE")   # their own functions check their float side

__all__ = ["load_tflite", "schema", "TflOp", "TflTensor"]
