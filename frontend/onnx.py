"""ONNX -> tinyc IR: load, check, infer shapes, fold constant subgraphs, convert op by op.

    graph = load_onnx("model.onnx", input_shapes={"x": (1, 3, 32, 32)})

input_shapes sets dynamic dims, and may pin a static batch N (dim 0) to 1 where batch.py proves
that every node keeps the samples apart (else UnsupportedOpError naming the node).

The op functions live in onnx_ops.py / qdq.py / dynamic_quant.py (one per ONNX op, named like
it); layout and constant helpers in builder.py. Extra Graph attributes set here
(docs/ARCHITECTURE.md):
`graph.io_quant[name] = QParams` and `graph.io_dtype[name] = DType` for every graph input or
output that is integer (int8/uint8) in the ONNX model; `graph.calib_reason` (None, or for a model
quantized dynamically by ONNX Runtime the error to give without calibration data).
"""
from __future__ import annotations

import dataclasses
import inspect
import math
import os
import re
from collections import Counter

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from ..errors import IRError, ModelError, UnsupportedOpError
from ..ir import DType, Graph, TensorType
from . import (batch, dynamic_batch, dynamic_quant, guard, guard_graph, old_opset, onnx_ceil,
               onnx_ops, onnx_islands, onnx_patterns, onnx_table, qdq, qdq_channels, qoperator,
               unsupported)
from . import onnx_empty
from .builder import Builder, Tensor, identity
from .qcheck import check_dq_const
from .qdq_ort_bn import ort_float_batchnorms
from .qdq_ort_float import ort_float_averages, ort_float_muls
from .qdq_ort_matmul import ort_float_matmuls

OPSETS = range(11, 22)
DOMAINS = ("", "ai.onnx")
INPUT_TYPES = {onnx.TensorProto.FLOAT: None, onnx.TensorProto.INT8: np.dtype(np.int8),
               onnx.TensorProto.UINT8: np.dtype(np.uint8)}
QDATA_OPS = ("Identity", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze")


OPS = onnx_table.OPS


def load_onnx(path_or_model, input_shapes: dict[str, tuple] | None = None,
              ort_exact: bool = False) -> Graph:
    """Read an ONNX model (path or ModelProto) into a float (or QDQ-annotated) NHWC ir.Graph.
    ort_exact: an ORT-family QDQ model's conv / depthwise / fully connected layers requantize
    as ONNX Runtime does (float32, half to even; emulated in integers on the generic kernels,
    docs/frontend.md) instead of TFLite's fixed point on the fast kernels."""
    model, path = _read(path_or_model)
    guard_graph.check_structure(model, path)
    model = old_opset.upgrade(model, path)       # opsets 7..10 -> 11 (one note line)
    model = qoperator.to_qdq(model, path)        # ORT's QLinear* ops as the QDQ they stand for
    model = qdq_channels.fold_channel_scales(model)   # a per-channel depthwise input (NNCF)
    opset = _opset(model, path)
    inits = {t.name for t in model.graph.initializer}
    for vi in model.graph.input:                 # types first: before any shape question
        if vi.name not in inits:
            _input_type(vi, path)
    pins = _pin_shapes(model, input_shapes or {}, path)
    try:
        onnx.checker.check_model(model)
    except Exception as e:                       # noqa: BLE001 (checker raises several types)
        raise ModelError(f"{path}: onnx.checker rejects the model: {_first_line(e)}") from e
    unsupported.check(model, path,               # every unsupported node, in one error
                      onnx_patterns.covered(onnx_islands.find_all(model.graph, opset)),
                      onnx_islands.TRIGGERS)
    _pin_shapes(model, dynamic_batch.default_pins(model, input_shapes or {}, path,
                                                  _infer_shapes), path)   # (one note line)
    if pins:                                     # a static batch N pinned to 1 (batch.py)
        model = batch.pin_batch(model, pins, path, _infer_shapes)
    else:
        model = _infer_shapes(model, path)
    return _Importer(model, path, opset, ort_exact).run()


# -- reading and checking --------------------------------------------------------------------

def _first_line(e: Exception) -> str:
    lines = [s for s in str(e).strip().splitlines() if s.strip()]
    return lines[0] if lines else type(e).__name__


def _read(src) -> tuple[onnx.ModelProto, str]:
    if isinstance(src, onnx.ModelProto):
        m = onnx.ModelProto()
        m.CopyFrom(src)
        path = f"<model {src.graph.name or 'unnamed'}>"
        guard.check_tensors(m, path, None)
        return m, path
    path = os.fspath(src)
    return guard.read_model(path), path          # sizes and external data checked safely


def _opset(model: onnx.ModelProto, path: str) -> int:
    versions = [o.version for o in model.opset_import if o.domain in DOMAINS]
    if not versions:
        raise ModelError(f"{path}: the model imports no ai.onnx opset")
    if versions[0] not in OPSETS:
        raise ModelError(f"{path}: opset {versions[0]} is not supported — expected 11..21. "
                         "Convert it with onnx.version_converter.convert_version(model, 13).")
    return versions[0]


def _pin_shapes(model: onnx.ModelProto, input_shapes: dict, path: str) -> dict[str, int]:
    """Set the dynamic dims input_shapes gives; return {input: N} for each static batch N > 1
    pinned to 1 (batch.pin_batch checks the graph and rewrites it)."""
    inputs = {i.name: i for i in model.graph.input}
    pins = {}
    for name, shape in input_shapes.items():
        if name not in inputs:
            raise ModelError(f"{path}: --input-shape names '{name}', which is not an input — "
                             f"inputs are {sorted(inputs)}")
        dims = inputs[name].type.tensor_type.shape.dim
        if len(dims) != len(shape):
            raise ModelError(f"{path}: input '{name}' has rank {len(dims)}, but the given "
                             f"shape {tuple(shape)} has rank {len(shape)}")
        for i, (d, n) in enumerate(zip(dims, shape)):
            if int(n) == 0 and d.HasField("dim_value") and d.dim_value == 0:
                continue                          # a static size 0 (onnx_empty.py)
            if int(n) <= 0:
                raise ModelError(f"{path}: --input-shape {name}={','.join(map(str, shape))} "
                                 f"has size {n} — expected sizes >= 1")
            if d.dim_value > 0 and d.dim_value != n:
                _static_dim(name, i, d.dim_value, shape, len(dims), path)
                pins[name] = d.dim_value          # the static batch, pinned to 1
                continue
            d.Clear()
            d.dim_value = int(n)
    return pins


def _static_dim(name: str, i: int, size: int, shape, rank: int, path: str) -> None:
    """A static dim may change only when it is the batch (dim 0 of rank >= 2) going to 1."""
    if i == 0 and rank >= 2 and shape[0] == 1:
        return
    what = ("dim 0 (the batch) can only be pinned to 1" if i == 0 and rank >= 2 else
            "only dynamic dims and a static batch (dim 0 pinned to 1) can be set")
    raise ModelError(f"{path}: input '{name}' has static size {size} in dim {i}, but "
                     f"{name}={','.join(map(str, shape))} gives {shape[i]} — {what}")


def _infer_shapes(model: onnx.ModelProto, path: str) -> onnx.ModelProto:
    opset = next((o.version for o in model.opset_import if o.domain in DOMAINS), 0)
    if not onnx_ceil.needs_rewrite(model, opset):
        return _infer_strict(model, path)
    # ceil_mode pools by the dropping rule, as opset 22 / onnxruntime (onnx_ceil.py)
    shadow, originals = onnx_ceil.for_inference(model, onnx.shape_inference.infer_shapes)
    return onnx_ceil.restore(_infer_strict(shadow, path), originals)


def _infer_strict(model: onnx.ModelProto, path: str) -> onnx.ModelProto:
    # memory-safe: shape inference propagates constant data only for small constants
    data_prop = guard_graph.constant_size_bound(model) <= guard_graph.DATA_PROP_LIMIT
    try:
        return onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=data_prop)
    except Exception as e:                       # noqa: BLE001 -- strict where possible
        if all(n.domain in DOMAINS for n in model.graph.node):   # not a custom op's fault
            raise ModelError(_inference_error(e, path)) from None
    try:
        return onnx.shape_inference.infer_shapes(model)
    except Exception as e:                       # noqa: BLE001
        raise ModelError(f"{path}: ONNX shape inference fails: {_first_line(e)}") from e


def _inference_error(e: Exception, path: str) -> str:
    """ONNX's strict shape inference message as 'file: node (op): what'."""
    text = " ".join(str(e).split())
    m = re.search(r"\(op_type:(\w+)(?:, node name: ([^)]*))?\): (?:\[\w+\] )?(.*?)"
                  r"(?= \(op_type:|$)", text)
    if not m:
        return f"{path}: ONNX shape inference fails: {_first_line(e)}"
    op, name, what = m.groups()
    node = f"node '{name}' ({op})" if name else f"a {op} node"
    return (f"{path}: {node}: {what.strip().rstrip('.')} (ONNX shape inference)"
            " — expected inputs and attributes that agree with the op's definition")


def _input_type(vi: onnx.ValueInfoProto, path: str) -> int:
    elem = vi.type.tensor_type.elem_type
    if not vi.type.HasField("tensor_type"):
        raise ModelError(f"{path}: input '{vi.name}' has type "
                         f"{vi.type.WhichOneof('value') or 'none'} — "
                         "expected a float32, int8 or uint8 tensor")
    if elem not in INPUT_TYPES:
        raise ModelError(f"{path}: input '{vi.name}' has type "
                         f"{helper.tensor_dtype_to_string(elem)} — expected float32, "
                         "int8 or uint8")
    return elem


def _input_shape(vi: onnx.ValueInfoProto, path: str) -> tuple[int, ...]:
    if not vi.type.tensor_type.HasField("shape"):
        raise ModelError(f"{path}: input '{vi.name}' has no shape — tinyc needs static shapes."
                         f" Give one: --input-shape {vi.name}=1,...")
    dims = vi.type.tensor_type.shape.dim
    bad = [d.dim_value for d in dims if d.HasField("dim_value") and d.dim_value < 0
           and d.dim_value != -1]                # -1: dynamic, as a dim_param
    if bad:
        raise ModelError(f"{path}: input '{vi.name}' has a dim of size {bad[0]} — expected "
                         "sizes >= 0")
    # a static 0: a zero-sized input, no elements (onnx_empty.py); -1: dynamic
    shape = tuple(d.dim_value if d.HasField("dim_value") and d.dim_value >= 0 else -1
                  for d in dims)
    if any(n < 0 for n in shape):
        shown = ",".join(str(n) if n >= 0 else (d.dim_param or "?") for n, d in zip(shape, dims))
        example = ",".join(str(n) if n >= 0 else ("1" if i == 0 else "N")
                           for i, n in enumerate(shape))
        named = ", ".join(f"dim {i}" + (f" ('{d.dim_param}')" if d.dim_param else "")
                          for i, (n, d) in enumerate(zip(shape, dims)) if n < 0)
        raise ModelError(f"{path}: input '{vi.name}' has dynamic shape [{shown}] ({named} "
                         f"dynamic) — tinyc needs static shapes. Pin it: --input-shape "
                         f"{vi.name}={example} "
                         f"(load_onnx(..., input_shapes={{'{vi.name}': (...)}}))")
    if len(shape) >= 2 and shape[0] != 1 and math.prod(shape):   # (size 0: no samples)
        raise ModelError(f"{path}: input '{vi.name}' has batch size {shape[0]} — expected 1 "
                         "(tinyc compiles batch-1 models). Pin it with --input-shape "
                         f"{vi.name}=1,{','.join(map(str, shape[1:]))} (input_shapes=...) "
                         "when the graph keeps the samples apart, or export it with batch 1")
    if math.prod(shape) * 4 > guard.MAX_TENSOR_BYTES:
        raise ModelError(f"{path}: input '{vi.name}' of shape {list(shape)} has "
                         f"{math.prod(shape):,} elements — expected at most "
                         f"{guard.MAX_TENSOR_BYTES // 4:,}; no microcontroller holds it")
    return shape


# -- conversion ------------------------------------------------------------------------------

class _Importer:
    def __init__(self, model: onnx.ModelProto, path: str, opset: int, ort_exact: bool = False):
        self.onnx = model.graph
        # a TFLite model converted by tf2onnx keeps TFLite Micro's rounding (its int8 QDQ form
        # is bit-exact with TFLM), and so does tinyc's own QDQ export (`tinyc finetune`: it
        # compiles back to the same bits); other QDQ producers round averages as ONNX Runtime
        self.tf2onnx = model.producer_name == "tf2onnx"
        self.ort_rounding = not (self.tf2onnx or model.producer_name.startswith("tinyc"))
        self.ort_exact = ort_exact
        if ort_exact and not self.ort_rounding:
            old_opset.log.warning(
                "%s: note: ort_exact (--ort-exact) does not apply: the file was written by %s, "
                "whose int8 arithmetic is TFLite Micro's; it is kept", os.path.basename(path),
                "tf2onnx (a TFLite model)" if self.tf2onnx else model.producer_name)
        self.path = path
        self.g = Graph(model.graph.name or "model")
        self.g.io_quant, self.g.io_dtype = {}, {}
        self.g.calib_reason = None               # set for dynamically quantized models
        uses = Counter(n for node in model.graph.node for n in node.input if n)
        uses.update(o.name for o in model.graph.output)
        self.b = Builder(self.g, opset, path, uses)
        self.tensors: dict[str, Tensor] = {}
        self.dropped: dict[str, str] = {}        # outputs tinyc does not compute -> producer
        self.shapes = guard_graph.inferred_shapes(model.graph)
        self.origin: dict[int, str] = {}         # id(IR node) -> where its ONNX node is

    def run(self) -> Graph:
        for init in self.onnx.initializer:
            self.tensors[init.name] = Tensor(init.name, data=self._array(init))
        for vi in self.onnx.input:
            if vi.name not in self.tensors:
                self._add_input(vi)
        # GELU, SiLU, HardSwish, Softmax, LayerNormalization subgraphs; float islands
        patterns = onnx_islands.find_all(self.onnx, self.b.opset)
        inner = onnx_patterns.covered(patterns)
        gives = {o: i for i, m in patterns.items() for o in m.outputs if o}
        last = set(patterns)
        for i, node in enumerate(self.onnx.node):
            if i in inner - last:                # converted with the pattern's last node
                continue
            for x in node.input:                 # or before, where another node reads it
                if gives.get(x, i) != i and gives[x] in patterns:
                    self._pattern(gives[x], patterns.pop(gives[x]))
            if i in last:
                if i in patterns:
                    self._pattern(i, patterns.pop(i))
                continue
            self.b.node = node
            first = len(self.g.nodes)
            outs = self._convert(node)
            self._bind(node, outs)
            self.origin.update((id(n), self.b.where()) for n in self.g.nodes[first:])
        self.b.node = None
        for vi in self.onnx.output:
            self._add_output(vi.name)
        for v in self.g.inputs:
            self._io_quant(v, self.tensors[v.name])
        self.g.remove_dead()
        qdq.hoist_requantize(self.g)
        if self.ort_rounding:
            qdq.requantizing_global_pool(self.g)
            qdq.round_averages_half_even(self.g)
            qdq.ort_requantize(self.g, layers=self.ort_exact)
            if self.ort_exact:
                ort_float_averages(self.g, self.origin)
                ort_float_batchnorms(self.g)
                ort_float_muls(self.g)
                ort_float_matmuls(self.g, self.b.product_q)
        elif self.tf2onnx:                       # TFLite's MEAN, as the .tflite compiles
            qdq.requantizing_global_pool(self.g, half_even=False)
        guard_graph.check_imported(self.g, self.origin, self.path)
        return self.g

    def _pattern(self, i: int, m: onnx_patterns.Match) -> None:
        """Convert a recognised subgraph (onnx_patterns, onnx_islands) whose last node is i."""
        node = self.onnx.node[i]
        if m.outputs:                            # its values, as one node giving them
            node = helper.make_node(m.op or node.op_type, [], list(m.outputs),
                                    name=node.name or m.outputs[0])
        self.b.node = node
        first = len(self.g.nodes)
        kw = {k: self._tensor(v) if v else None for k, v in m.args.items()}
        outs = (m.convert or OPS[m.op])(self.b, self._tensor(m.x), **m.attrs, **kw)
        self._bind(node, outs)
        self.origin.update((id(n), self.b.where()) for n in self.g.nodes[first:])

    def _array(self, t: onnx.TensorProto) -> np.ndarray:
        try:
            a = numpy_helper.to_array(t)
        except Exception as e:                   # noqa: BLE001 (corrupt typed data fields)
            raise ModelError(f"{self.path}: initializer '{t.name}' cannot be read "
                             f"({_first_line(e)}) — expected data matching dims "
                             f"{list(t.dims)}. The file is corrupt.") from None
        if a.dtype.kind in "OSU":
            raise ModelError(f"{self.path}: initializer '{t.name}' holds strings — expected "
                             "numbers (tinyc compiles numeric models)")
        return a

    def _add_input(self, vi: onnx.ValueInfoProto) -> None:
        elem = _input_type(vi, self.path)
        shape = _input_shape(vi, self.path)
        v = self.g.add_input(vi.name, TensorType(DType.FLOAT32, shape))
        self.tensors[vi.name] = Tensor(vi.name, v, identity(len(shape)), itype=INPUT_TYPES[elem])

    def _add_output(self, name: str) -> None:
        t = self._tensor(name)
        if t.dyn is not None:
            raise UnsupportedOpError(f"{self.path}: output '{name}' is a run-time quantization "
                                     f"value of {t.dyn.node} — expected "
                                     f"float or QDQ outputs; {dynamic_quant.PATTERN} is "
                                     "converted as a whole")
        if t.is_const:
            raise UnsupportedOpError(f"{self.path}: output '{name}' is a constant — tinyc "
                                     "needs outputs computed from the inputs")
        v = self.b.layout(t, identity(t.rank))
        if v in self.g.inputs or v in self.g.outputs:   # an output needs a value of its own
            q = t.q or v.q                                # (e.g. input -> QuantizeLinear -> output)
            v = self.g.emit("reshape", [v], {"shape": v.shape}, name=name)
            if q is not None:
                v.type = v.type.with_(q=q)
        for other in self.g.values():
            if other.name == name and other is not v:
                other.name = self.g.unique(name)
        v.name = name
        self.g.outputs.append(v)
        self._io_quant(v, t)

    def _io_quant(self, v, t: Tensor) -> None:
        if t.itype is None:
            return
        if v.q is None:
            raise ModelError(f"{self.path}: integer graph I/O '{t.name}' has no "
                             "QuantizeLinear/DequantizeLinear giving its scale")
        self.g.io_quant[v.name] = v.q
        self.g.io_dtype[v.name] = DType.from_np(t.itype)

    def _tensor(self, name: str) -> Tensor:
        if name in self.tensors:
            return self.tensors[name]
        if name in self.dropped:
            raise UnsupportedOpError(f"{self.b.where()}: uses '{name}', an output of "
                                     f"{self.dropped[name]} that tinyc does not compute")
        raise ModelError(f"{self.b.where()}: input '{name}' is not defined")

    def _bind(self, node: onnx.NodeProto, outs) -> None:
        outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
        for i, name in enumerate(node.output):
            if i < len(outs) and outs[i] is not None:
                self.tensors[name] = dataclasses.replace(outs[i], name=name)
            elif name:
                self.dropped[name] = f"node '{node.name}' ({node.op_type})"

    def _convert(self, node: onnx.NodeProto):
        if node.domain not in DOMAINS:
            raise UnsupportedOpError(f"{self.b.where()}: domain '{node.domain}' is not "
                                     "supported — tinyc reads ai.onnx ops only")
        ins = [self._tensor(n) if n else None for n in node.input]
        dyn = [t for t in ins if t is not None and t.dyn is not None]
        if dyn:                                  # ONNX Runtime dynamic quantization
            if node.op_type not in dynamic_quant.ON_DYN:
                raise dynamic_quant.misuse(self.b, dyn[0])
            return self._call(node, ins, dynamic_quant.ON_DYN[node.op_type])
        first = ins[0] if ins else None
        if node.op_type in ("Shape", "Size") and first is not None and not first.is_const:
            return self._shape_of(node, first)
        if all(t is None or t.is_const for t in ins):
            return self._fold(node, ins)
        empty = onnx_empty.convert(self.b, ins, self.shapes)   # zero-sized tensors
        if empty is not None:
            return empty
        if node.op_type in onnx_islands.CASTS:   # float -> float: the activation itself
            return onnx_islands.cast(self.b, node.op_type, ins, _attrs(node))
        return self._call(node, ins)

    def _shape_of(self, node: onnx.NodeProto, t: Tensor) -> Tensor:
        shape = np.array(t.shape, np.int64)
        if node.op_type == "Size":
            return Tensor(data=np.array(shape.prod(), np.int64))
        a = _attrs(node)
        return Tensor(data=shape[a.get("start", 0):a.get("end", len(shape))])

    def _fold(self, node: onnx.NodeProto, ins: list) -> list[Tensor]:
        """Evaluate a node whose inputs are all constants, now (onnx.reference)."""
        guard_graph.check_fold(node, ins, self.shapes, self.b.where())
        if node.op_type == "DequantizeLinear" and len(ins) > 1 and ins[1] is not None:
            check_dq_const(ins[0].data, ins[1].data, ins[2].data if len(ins) > 2 and
                           ins[2] is not None else None, _attrs(node).get("axis", 1),
                           self.b.where())
        outs = [Tensor(data=np.asarray(r)) for r in self._evaluate(node, ins)]
        x = ins[0] if ins else None
        if node.op_type == "DequantizeLinear":
            zp = ins[2].data if len(ins) > 2 and ins[2] is not None else None
            outs[0].qdata = qdq.const_qdata(x.data, ins[1].data, zp, _attrs(node).get("axis", 1))
        elif node.op_type in QDATA_OPS and x.qdata is not None:
            outs[0].qdata = self._move_qdata(node, ins)
        return outs

    def _move_qdata(self, node: onnx.NodeProto, ins: list):
        """Data movement of a DequantizeLinear'd constant keeps its integer view."""
        qc = ins[0].qdata
        axis = qc.axis
        if axis is not None and node.op_type == "Transpose":
            perm = _attrs(node).get("perm", list(reversed(range(qc.data.ndim))))
            axis = list(perm).index(axis)
        elif axis is not None and node.op_type != "Identity":
            return None
        data = self._evaluate(node, [dataclasses.replace(ins[0], data=qc.data)] + ins[1:])[0]
        return dataclasses.replace(qc, data=np.asarray(data), axis=axis)

    def _evaluate(self, node: onnx.NodeProto, ins: list) -> list:
        feeds = {n: t.data for n, t in zip(node.input, ins) if n}
        try:
            return ReferenceEvaluator(node, opsets={"": self.b.opset}).run(None, feeds)
        except Exception as e:                   # noqa: BLE001
            raise ModelError(f"{self.b.where()}: cannot fold this constant node: "
                             f"{_first_line(e)}") from e

    def _call(self, node: onnx.NodeProto, ins: list, fn=None):
        fn = fn or OPS.get(node.op_type) or dynamic_quant.OPS.get(node.op_type)
        if fn is None:
            raise UnsupportedOpError(
                f"{self.b.where()}: op {node.op_type} is not supported on activations — "
                f"supported: {', '.join(sorted(OPS))} (any op on constants is folded)")
        if node.op_type not in onnx_ops.INTEGER_OPS | dynamic_quant.INTEGER_INPUT and any(
                t is not None and t.itype is not None for t in ins):
            raise self.b.error("op on a quantized (integer) tensor",
                               "QDQ models must DequantizeLinear before float ops.")
        attrs = _attrs(node)
        params = inspect.signature(fn).parameters
        unknown = [k for k in attrs if k not in params or k == "b"]
        if unknown:
            raise self.b.error(f"attribute(s) {unknown} not supported",
                               f"known: {[p for p in params if p != 'b']}.")
        kinds = [p.kind for p in params.values()][1:]
        n_pos = sum(k is inspect.Parameter.POSITIONAL_OR_KEYWORD for k in kinds)
        if inspect.Parameter.VAR_POSITIONAL not in kinds and len(ins) > n_pos:
            raise self.b.error(f"{len(ins)} inputs given, tinyc reads at most {n_pos}")
        try:
            return fn(self.b, *ins, **attrs)
        except IRError as e:                     # an IR shape rule refuses the node
            raise ModelError(f"{self.b.where()}: {e}") from None


def _attrs(node: onnx.NodeProto) -> dict:
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, onnx.TensorProto):
            v = numpy_helper.to_array(v)
        out[a.name] = v
    return out
