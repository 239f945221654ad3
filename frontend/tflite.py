"""TFLite (.tflite flatbuffer) -> tinyc IR, for fully int8-quantized models (uint8 / int16
model I/O converted by QUANTIZE) and float32 models (the float IR, quantized with --calib).

    graph = load_tflite("model_int8.tflite")

The flatbuffer is read by tflite_reader.py, every offset, index and value checked (a damaged
file is a TfliteFormatError, never a traceback); op options through the `tflite` package's
generated accessors (no TensorFlow) on checked tables, imported only when a .tflite file is
loaded. TFLite is NHWC with OHWI conv filters, 1HWC
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
from dataclasses import replace

import numpy as np

from ..errors import ModelError, UnsupportedOpError
from ..ir import OPS, DType, Graph, QParams, TensorType, Value
from . import guard_graph
from .tflite_reader import TflOperator, TflTensor, TfliteFormatError, read_model
from .tflite_luts import as_int8
from .tflite_ops import FLOAT_HINT

log = logging.getLogger("tinyc.frontend.tflite")

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


def _enum_names(enum_cls) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_")}


# -- conversion ---------------------------------------------------------------------------------

class _Importer:
    def __init__(self, data: bytes, path: str):
        self.tfl = schema()
        self.path = path
        self.model = read_model(data, path, _enum_names(self.tfl.TensorType))
        self.tensors = self.model.tensors
        self.op_names = _enum_names(self.tfl.BuiltinOperator)
        self.g = Graph(self.model.name)
        self.g.io_quant, self.g.io_dtype = {}, {}
        self.dequantized16: set[int] = set()    # float outputs of int16 values (16x8)
        self.values: dict[int, Value] = {}       # tensor index -> IR value
        self.consts: dict[tuple, Value] = {}     # (tensor index, q) -> IR constant

    def run(self, input_shapes: dict) -> Graph:
        from . import tflite_fold, tflite_ops
        for i in self.model.inputs:
            self._add_input(self.tensors[i], input_shapes)
        unknown = set(input_shapes) - {v.name for v in self.g.inputs}
        if unknown:
            raise ModelError(f"{self.path}: input shape given for {sorted(unknown)}, which "
                             f"are not inputs — inputs are {[v.name for v in self.g.inputs]}")
        producer = {i: o.index for o in self.model.operators for i in o.outputs}
        for o in self.model.operators:
            op = TflOp(self, o)
            op.check_order(producer)
            folded = tflite_fold.fold(op)         # a static shape computation: constants
            if folded is not None:
                for i, value in zip(op.outputs, folded):
                    self.tensors[i] = replace(self.tensors[i], data=value)
                continue
            fn = getattr(tflite_ops, op.name, None) if op.name in tflite_ops.SUPPORTED else None
            if fn is None:
                raise op.error(f"op {op.name} is not supported",
                               f"supported: {', '.join(sorted(tflite_ops.SUPPORTED))}.")
            if op.name == "RESHAPE":
                tflite_fold.check_reshape(op)
            op.check_types()
            outs = fn(op)
            for idx, v in zip(op.outputs, outs if isinstance(outs, list) else [outs]):
                self.values[idx] = v
        for i in self.model.outputs:
            self._add_output(self.tensors[i])
        self.g.remove_dead()
        guard_graph.check_imported(self.g, {}, self.path)
        return self.g

    def _add_input(self, t: TflTensor, input_shapes: dict) -> None:
        where = f"{self.path}: input {t.describe()}"
        if t.dtype not in ("INT8", "FLOAT32", "UINT8", "INT16"):
            raise ModelError(f"{where}: expected int8 (or float32, uint8 or int16 followed "
                             "by QUANTIZE)")
        if t.name in input_shapes and tuple(input_shapes[t.name]) != t.shape:
            raise ModelError(f"{where}: TFLite shapes are static, cannot use "
                             f"{tuple(input_shapes[t.name])}")
        if any(d <= 0 for d in t.shape) or (len(t.shape) >= 2 and t.shape[0] != 1):
            raise ModelError(f"{where}: expected a static shape with batch size 1")
        if t.dtype in INT_IO and (t.q is None or len(t.q.scale) != 1):
            raise ModelError(f"{where}: {t.dtype.lower()} input needs per-tensor "
                             f"quantization, got {t.q}")
        self._check_int16(t, where)
        q = as_int8(t.q) if t.dtype == "UINT8" else t.q
        v = self.g.add_input(t.name, TensorType(DType.FLOAT32, t.shape, q))
        self.values[t.index] = v
        if t.dtype in INT_IO:
            self.g.io_quant[v.name], self.g.io_dtype[v.name] = q, INT_IO[t.dtype]

    def _check_int16(self, t: TflTensor, where: str) -> None:
        if t.dtype == "INT16" and t.q is not None and any(t.q.zero_point):
            raise ModelError(f"{where}: int16 with zero point {t.q.zero_point[0]} — tinyc's "
                             "int16 tensors are symmetric (zero point 0, as TFLite's 16x8 "
                             "spec): requantize the model's int16 I/O to zero point 0")

    def _add_output(self, t: TflTensor) -> None:
        v = self.values.get(t.index)
        if not (v is not None and v.producer is not None and v.q is not None and
                OPS[v.producer.op].int16_output_zp == v.q.zp != 0):   # softmax8_16's
            self._check_int16(t, f"{self.path}: output {t.describe()}")
        if t.index not in self.values:
            raise ModelError(f"{self.path}: output {t.describe()} is not computed by any op")
        v = self.values[t.index]
        if v in self.g.inputs or v in self.g.outputs:
            v = self.g.emit("reshape", [v], {"shape": v.shape}, name=t.name)
            v.type = v.type.with_(q=self.values[t.index].q)
        if v.name != t.name and t.name not in {x.name for x in self.g.values()}:
            v.name = self.g.unique(t.name)
        self.g.outputs.append(v)
        if t.dtype in INT_IO:
            self.g.io_quant[v.name], self.g.io_dtype[v.name] = v.q, INT_IO[t.dtype]
        elif t.index in self.dequantized16:          # float API, int16 inside and in the C
            self.g.io_dtype[v.name] = DType.INT16


# Integer model I/O: the C API takes the model's own type. uint8 values are int8 inside the
# graph (their int8 view u ^ 0x80, zero point - 128; the C converts at the boundary); int16
# ones are int16 graph values (QUANTIZE int16 <-> int8 at the boundary: IR requantize).
INT_IO = {"INT8": DType.INT8, "UINT8": DType.UINT8, "INT16": DType.INT16}

ACT_RANGES = {0: None, 1: (0.0, float("inf")), 2: (-1.0, 1.0), 3: (0.0, 6.0)}


class TflOp:
    """One operator as the op functions see it: its tensors, options and helpers to emit IR."""

    def __init__(self, imp: _Importer, op: TflOperator):
        self.imp, self.index, self.op, self.g = imp, op.index, op, imp.g
        self.name = imp.op_names.get(op.opcode, f"builtin {op.opcode}")
        if self.name == "CUSTOM":
            self.name = f"CUSTOM '{op.custom}'"
        self.inputs, self.outputs = op.inputs, op.outputs

    # -- errors -------------------------------------------------------------------------------
    def where(self) -> str:
        out = self.imp.tensors[self.outputs[0]].name if self.outputs else "?"
        return f"{self.imp.path}: operator #{self.index} {self.name} (output '{out}')"

    def error(self, what: str, hint: str = "", cls=UnsupportedOpError):
        return cls(f"{self.where()}: {what}." + (f" {hint}" if hint else ""))

    def check_order(self, producer: dict[int, int]) -> None:
        """Every input computed by an earlier operator (TFLite runs them in file order)."""
        if not self.inputs or not self.outputs:
            raise self.error(f"{len(self.inputs)} inputs and {len(self.outputs)} outputs — "
                             "expected at least one of each", cls=TfliteFormatError)
        for t in self.in_tensors():
            if t is None or t.is_const or t.is_variable or t.index in self.imp.values:
                continue
            later = producer.get(t.index)
            why = (f"operator #{later} computes it later: the graph has a cycle or its "
                   "operators are out of order" if later is not None and later >= self.index
                   else "no operator computes it and it is not a model input")
            raise self.error(f"input {t.describe()} is read before it is computed: {why}",
                             cls=TfliteFormatError)
        for i in self.outputs:
            if i in self.imp.values or self.imp.tensors[i].is_const:
                raise self.error(f"output {self.imp.tensors[i].describe()} is already "
                                 "written (a model input, a constant or another operator's "
                                 "output)", cls=TfliteFormatError)

    @property
    def is_float(self) -> bool:
        """A float32 op of a float model (float activations and weights): lowered to the float
        IR the ONNX frontend builds, quantized later from calibration data (--calib)."""
        if self.name in FLOAT_IO_OPS:
            return False
        ts = [t for t in (*self.in_tensors(), *map(self.imp.tensors.__getitem__, self.outputs))
              if t is not None and t.dtype not in ("INT32", "INT64")]
        return bool(ts) and all(t.dtype == "FLOAT32" for t in ts)

    @property
    def is_int16(self) -> bool:
        """An op of a 16x8 model (TFLite's int16 activations, int8 weights, int64 bias): its
        activations are int16, symmetric; lowered with attrs activations = int16 and the file's
        int16 quantization (quantize keeps it)."""
        if self.name not in INT16_OPS:
            return False
        acts = [t for t in (*self.in_tensors(), *map(self.imp.tensors.__getitem__,
                                                       self.outputs))
                if t is not None and not t.is_const]
        return bool(acts) and all(t.dtype == "INT16" and t.q is not None and
                                  len(t.q.scale) == 1 and not any(t.q.zero_point)
                                  for t in acts)

    def check_types(self) -> None:
        """Activations must be int8, quantized per tensor, or (a float model) float32 with
        float32 weights: float activations with int8 weights mean a hybrid model; or (a 16x8
        model) int16 in the ops of INT16_OPS."""
        weights = [t for t in self.in_tensors() if t is not None and t.is_const]
        if self.is_float or self.is_int16:
            return
        for t in [*self.in_tensors(), *map(self.imp.tensors.__getitem__, self.outputs)]:
            if t is not None and t.is_variable:      # op state: the op function checks it
                continue
            if t is not None and t.dtype == "INT8" and not t.is_const and (
                    t.q is None or len(t.q.scale) != 1):
                raise self.error(f"int8 activation {t.describe()} needs per-tensor "
                                 f"quantization, got {t.q}", FLOAT_HINT + ".", ModelError)
            if t is None or t.is_const or t.dtype == "INT8" or self.name in OWN_TYPES_OPS:
                continue
            if t.dtype == "INT16" and self.name == "SOFTMAX" and t.index in self.outputs:
                continue                     # int8 -> int16 softmax: SOFTMAX checks it
            if t.dtype == "INT16" and self.name in INT16_OPS:
                # not is_int16: an int16 activation unquantized, asymmetric or beside int8 ones
                acts = [a for a in (*self.in_tensors(), *map(self.imp.tensors.__getitem__,
                                                             self.outputs))
                        if a is not None and not a.is_const and not a.is_variable]
                bad = next((a for a in acts if a.dtype != "INT16" or a.q is None or
                            len(a.q.scale) != 1 or any(a.q.zero_point)), t)
                raise self.error(f"activation {bad.describe()} with quantization {bad.q} in an "
                                 f"op with int16 activations", f"tinyc's 16x8 {self.name} "
                                 "takes int16 activations only, each quantized per tensor "
                                 "with zero point 0.", ModelError)
            if t.dtype in FLOAT_TYPES:
                kind = "hybrid (dynamic-range quantized)" if any(
                    w.dtype == "INT8" for w in weights) else "float"
                raise self.error(f"{t.describe()} is {t.dtype.lower()}: this is a {kind} "
                                 "model", FLOAT_HINT + ".", ModelError)
            raise self.error(f"{t.describe()}: {t.dtype.lower()} activations are not "
                             "supported", "tinyc supports int8 activations (uint8 and int16 "
                             "only at the model's inputs and outputs, converted by QUANTIZE), "
                             "or a float32 model quantized with --calib.")

    # -- tensors ------------------------------------------------------------------------------
    def in_tensors(self) -> list[TflTensor | None]:
        return [self.imp.tensors[i] if i >= 0 else None for i in self.inputs]

    def tensor(self, i: int) -> TflTensor | None:
        idx = self.inputs[i] if i < len(self.inputs) else -1
        return self.imp.tensors[idx] if idx >= 0 else None

    def out(self, i: int = 0) -> TflTensor:
        return self.imp.tensors[self.outputs[i]]

    def options(self, cls_name: str, required: bool = True):
        """The op's builtin options as the `tflite` package's `cls_name` class, read through a
        checked table; None when absent and not `required`."""
        if self.op.options is None:
            if not required:
                return None
            raise self.error(f"{cls_name} missing", cls=ModelError)
        want = getattr(self.imp.tfl.BuiltinOptions, cls_name)
        if self.op.options_type != want:
            raise self.error(f"builtin options of type {self.op.options_type}, expected "
                             f"{cls_name} ({want})", cls=TfliteFormatError)
        opts = getattr(self.imp.tfl, cls_name)()
        opts._tab = self.op.options
        return opts

    def act(self, i: int) -> Value:
        """Input i as an IR value: an activation, or an int8 constant operand (with its q)."""
        t = self.tensor(i)
        if t is None:
            raise self.error(f"input {i} is missing", cls=ModelError)
        if t.is_const:
            return self.const(i, t.q, "INT16" if t.dtype == "INT16" and self.is_int16 else
                              "INT8")
        if t.index not in self.imp.values:
            raise self.error(f"input {t.describe()} is not computed before use", cls=ModelError)
        return self.imp.values[t.index]

    def const(self, i: int, q: QParams | None, dtype: str = "INT8") -> Value:
        t = self.tensor(i)
        if t.dtype == "FLOAT32" and self.is_float:      # a float model's constant
            key = (t.index, None)
            if key not in self.imp.consts:
                self.imp.consts[key] = self.g.const(t.name, t.data.astype(np.float32))
            return self.imp.consts[key]
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

    def weight(self, i: int, axis: int, rank: int = 4) -> Value:
        """An int8 weight of `rank`: symmetric, per tensor or per channel along `axis`."""
        t = self.tensor(i)
        if t is not None and t.is_const and t.dtype == "FLOAT32" and self.is_float:
            if len(t.shape) != rank or 0 in t.shape:
                raise self.error(f"weights {t.describe()}: expected a non-empty rank-{rank} "
                                 "tensor", cls=ModelError)
            return self.const(i, None)
        if t is None or not t.is_const or t.dtype != "INT8" or t.q is None:
            got = t.describe() if t is not None else "nothing"
            raise self.error(f"weights must be a quantized int8 constant, got {got}",
                             FLOAT_HINT + ".", ModelError)
        if len(t.shape) != rank or 0 in t.shape:
            raise self.error(f"weights {t.describe()}: expected a non-empty rank-{rank} "
                             "tensor", cls=ModelError)
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
        if t.is_const and t.dtype == "FLOAT32" and t.shape == (n,) and self.is_float:
            return self.const(i, None)
        if self.is_int16 and t.is_const and t.dtype == "INT64" and t.q is not None \
                and t.shape == (n,):                   # 16x8: int64 bias
            q = QParams(t.q.scale, t.q.zero_point, 0 if len(t.q.scale) > 1 else None)
            return self.const(i, q, "INT64")
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
        if q is None and t.dtype != "FLOAT32" and (t.q is None or len(t.q.scale) != 1):
            raise self.error(f"output {t.describe()} needs per-tensor quantization, got {t.q}",
                             FLOAT_HINT + ".", ModelError)
        if self.is_int16 and OPS[op].int16_layer:     # the file's int16 q, kept by quantize
            attrs = {**(attrs or {}), "activations": "int16", "int16_q": True}
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
        if self.is_int16:
            raise self.error(f"int16 output quantization {q} differs from its input's {v.q}",
                             "tinyc's 16x8 data-movement ops keep their input's "
                             "quantization: give input and output the same scale.",
                             ModelError)
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
        if min(*kernel, *stride, *dilation) < 1:
            raise self.error(f"kernel {list(kernel)}, stride {list(stride)}, dilation "
                             f"{list(dilation)} — expected sizes >= 1", cls=ModelError)
        if padding == self.imp.tfl.Padding.VALID:
            return (0, 0, 0, 0)
        if padding != self.imp.tfl.Padding.SAME:
            raise self.error(f"padding {padding} is not SAME or VALID", cls=ModelError)
        total = [max(((i + s - 1) // s - 1) * s + (k - 1) * d + 1 - i, 0)
                 for i, k, s, d in zip(in_hw, kernel, stride, dilation)]
        return (total[0] // 2, total[1] // 2, total[0] - total[0] // 2, total[1] - total[1] // 2)


FLOAT_IO_OPS = ("QUANTIZE", "DEQUANTIZE")   # their own functions check their float side
# their functions check their tensors' types (the LSTM's 16x8 form too)
OWN_TYPES_OPS = (*FLOAT_IO_OPS, "SVDF", "UNIDIRECTIONAL_SEQUENCE_LSTM")
# ops imported with int16 activations (16x8 models): those with an IR int16 form
INT16_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "AVERAGE_POOL_2D",
             "MAX_POOL_2D", "RESHAPE", "SQUEEZE", "EXPAND_DIMS", "TRANSPOSE", "SLICE",
             "STRIDED_SLICE", "SPLIT", "SPLIT_V", "CONCATENATION", "PAD", "PADV2",
             "RESIZE_NEAREST_NEIGHBOR", "MINIMUM", "MAXIMUM", "RELU6",
             "TRANSPOSE_CONV", "RELU", "LEAKY_RELU", "SUB", "MUL",
             "SQUARED_DIFFERENCE", "MEAN", "SUM", "PRELU", "BATCH_MATMUL",
             "LOGISTIC", "TANH",
             "SOFTMAX", "RSQRT")

__all__ = ["load_tflite", "schema", "TflOp", "TflTensor"]
