"""quantize: float (or QDQ-annotated) graph → integer-only graph (DESIGN.md §4).

1. Every activation gets int8 QParams (calibrate.assign_qparams). Ops that move bytes
   (reshape, transpose, pad, pools) keep their input's quantization; where a QDQ model gives
   them another one, a requantizing lookup table follows them. Concat inputs are requantized
   to the output's quantization the same way.
2. Weights: int8, symmetric per output channel; bias: int32 at input_scale * weight_scale[c].
   Constant operands of add/mul: int8 asymmetric per tensor. QDQ constants keep their data.
3. Each node gets its kernel constants from its rule in QUANT_RULES (TFLite Micro's Prepare
   arithmetic: scales as float32 widened to double, QuantizeMultiplier, activation ranges).
   Float-only unary ops become 256-entry lookup tables.
4. Mixed precision (TFLite's 16x8 scheme): layers annotated `attrs["activations"] = "int16"`
   (mark_activations: the `activations=` option, or the precision search) get int16
   activations, symmetric with scale max|range| / 32767; reshape and pools follow an int16
   input. A `requantize` op converts where int8 and int16 tensors meet; graph inputs and
   outputs stay int8 (but a model's own int16 I/O, graph.io_dtype, stays int16). Their bias
   is int64 (as TFLite's 16x8 converter stores it). An imported 16x8 .tflite layer
   (attrs int16_q) keeps the file's int16 quantization and int64 bias.
"""
from __future__ import annotations

import numpy as np

from ..errors import QuantizationError, TinycError
from ..ir import OPS, DType, Graph, Node, QParams, Value, verify
from ..ir.qmath import f64, float_requant_table, float_table, requant_table
from .calibrate import assign_qparams, symmetric_int16
from .quant_rules import quant_rule

ACTIVATIONS = ("int8", "int16")


def _requant(node: Node, q_in: QParams, q_out: QParams) -> tuple[int, ...]:
    """The table of a requantization that node's input or output needs: ONNX Runtime's float
    Q(DQ(x)) where the ONNX QDQ import asked for it (attrs["requant"] == "ort",
    frontend/qdq.py), else TFLite's Requantize."""
    if node.attrs.get("requant") == "ort":
        return float_requant_table(q_in, q_out)
    return requant_table(q_in, q_out)


def _insert_requant_after(g: Graph, node: Node, q_in: QParams) -> None:
    y = node.outputs[0]
    q_out = y.q
    y.type = y.type.with_(q=q_in)
    users = list(y.uses)
    was_output = y in g.outputs
    nxt = g.nodes[g.nodes.index(node) + 1] if node is not g.nodes[-1] else None
    r = g.emit("lut", [y], {"table": _requant(node, q_in, q_out)},
               name=f"{node.name}_requant", before=nxt)
    r.type = r.type.with_(dtype=y.dtype, q=q_out)
    for user, idx in users:
        user.replace_input(idx, r)
    if was_output:
        g.outputs = [r if v is y else v for v in g.outputs]


def _requant_input(g: Graph, node: Node, idx: int, q_out: QParams) -> None:
    x = node.inputs[idx]
    r = g.emit("lut", [x], {"table": _requant(node, x.q, q_out)},
               name=f"{node.name}_in{idx}_requant", before=node)
    r.type = r.type.with_(dtype=x.dtype, q=q_out)
    node.replace_input(idx, r)


def unify_passthrough_q(g: Graph, calibrated: set[int]) -> None:
    for node in list(g.nodes):
        y = node.outputs[0]
        if OPS[node.op].same_q:
            x = node.inputs[0]
            if "ort_out_scale" in node.attrs:       # ORT's float average writes y's own q
                continue
            if id(y) in calibrated or y.q == x.q:
                y.type = y.type.with_(q=x.q)
            else:
                _insert_requant_after(g, node, x.q)
        elif OPS[node.op].inputs_as_output_q and not node.attrs.get("int16_q"):
            # (an int16 concat with its own q, frontend/qdq_ort_matmul.py: use_int16 converts)
            for i, x in enumerate(node.inputs):
                if x.is_const and x.dtype.is_float:        # quantized as the output directly
                    data = np.clip(np.round(x.data / f64(y.q.s)) + y.q.zp, -128, 127)
                    node.replace_input(i, g.const(x.name, data.astype(np.int8), y.q))
                elif x.q != y.q:
                    _requant_input(g, node, i, y.q)


def quantize_weight(w: Value, g: Graph, axis: int, per_tensor: bool = False) -> Value:
    """int8 symmetric, per output channel (per_tensor: one scale for the whole tensor)."""
    if not w.dtype.is_float:
        return w
    data = w.data.astype(np.float64)
    moved = np.moveaxis(data, axis, 0).reshape(data.shape[axis], -1)
    scale = np.abs(moved).max(axis=1) / 127.0
    if per_tensor:
        scale = scale.max(keepdims=True)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    shape = [1] * data.ndim
    shape[axis] = -1
    q = np.clip(np.round(data / scale.reshape(shape)), -127, 127).astype(np.int8)
    q_axis = None if per_tensor else axis
    return g.const(w.name, q, QParams(tuple(map(float, scale)), (0,) * len(scale), q_axis))


def quantize_bias(b: Value | None, g: Graph, in_q: QParams, w_q: QParams, n: int,
                  fan_in: int = 0, wide: bool = False) -> Value | None:
    """int32 bias at in_scale * w_scale, clamped so that bias + fan_in products of
    (x + in_offset) * w (each |.| <= 255 * 128) can never overflow the int32 accumulator.
    wide (int16 input): int64, clamped so that the accumulator stays within +-2^47 (the
    range of the 64-bit requantization); an integer (QDQ) bias is rescaled to the new scale."""
    if b is None:
        return b
    if not b.dtype.is_float and not wide:
        lim = 2**31 - 1 - fan_in * 255 * 128
        if int(np.abs(b.data.astype(np.int64)).max(initial=0)) <= lim:
            return b
        # a model's bias past the accumulator's room, on channels whose output saturates
        # whatever the input (frontend/guard_graph.py _bias_saturates): the same output
        return g.const(b.name, np.clip(b.data.astype(np.int64), -lim, lim).astype(np.int32),
                       b.q)
    if not b.dtype.is_float and np.array_equal(          # already at in_scale * w_scale
            np.float32(np.broadcast_to(b.q.scale, (n,))),   # (a 16x8 .tflite's int64 bias)
            np.float32(f64(in_q.s) * np.broadcast_to(np.asarray(w_q.scale, np.float64), (n,)))):
        return g.const(b.name, b.data.astype(np.int64), QParams(tuple(
            f64(in_q.s) * np.broadcast_to(np.asarray(w_q.scale, np.float64), (n,))), (0,) * n, 0))
    real = b.data.astype(np.float64)
    if not b.dtype.is_float:
        real = real * np.broadcast_to(np.asarray(b.q.scale, np.float64), (n,))
    w_scale = np.broadcast_to(np.asarray(w_q.scale, np.float64), (n,))
    bias_scale = f64(in_q.s) * w_scale
    lim = (2**47 - 1 - fan_in * 32768 * 128) if wide else (2**31 - 1 - fan_in * 255 * 128)
    q = np.clip(np.round(real / bias_scale), -lim, lim)
    return g.const(b.name, q.astype(np.int64 if wide else np.int32),
                   QParams(tuple(bias_scale), (0,) * n, 0))


def quantize_operand(c: Value, g: Graph, wide: bool = False) -> Value:
    """Constant operand of add/mul/concat: int8, asymmetric per tensor (wide: int16,
    symmetric)."""
    if not c.dtype.is_float:
        if wide and c.dtype is not DType.INT16:
            raise QuantizationError(f"constant '{c.name}': an int16 layer's quantized constant "
                                    f"operand must be int16, got {c.type}")
        return c
    from .calibrate import qparams_from_range
    lo, hi = float(c.data.min()), float(c.data.max())
    if wide:
        q = symmetric_int16(lo, hi)
        return g.const(c.name, np.clip(np.round(c.data / f64(q.s)), -32768, 32767)
                       .astype(np.int16), q)
    q = qparams_from_range(lo, hi)
    data = np.clip(np.round(c.data / f64(q.s)) + q.zp, -128, 127).astype(np.int8)
    return g.const(c.name, data, q)


def _quantize_constants(g: Graph, node: Node, per_tensor: bool = False) -> None:
    wide = node.outputs[0].dtype is DType.INT16 and node.op != "requantize"
    opdef = OPS[node.op]
    if opdef.layer is not None:
        w = quantize_weight(node.inputs[1], g, opdef.layer.weight_axis, per_tensor)
        node.replace_input(1, w)
        if node.input(2) is not None:
            n, fan_in = opdef.out_channels(w.shape), opdef.fan_in(w.shape)
            node.replace_input(2, quantize_bias(node.inputs[2], g, node.inputs[0].q, w.q, n,
                                                fan_in, wide))
    elif opdef.quantized_constants:
        biases = dict(opdef.bias_of)
        for i, v in enumerate(list(node.inputs)):
            if v is None or not v.is_const or not v.dtype.is_float:
                continue
            if i in biases:
                w = node.inputs[biases[i]]
                node.replace_input(i, quantize_bias(v, g, node.inputs[0].q, w.q, v.shape[0],
                                                    w.shape[-1], wide))
            else:
                node.replace_input(i, quantize_weight(v, g, 0, per_tensor=True))
    else:
        for i, v in enumerate(node.inputs):
            narrow = i in opdef.int8_operands16          # int8 even in the 16x8 form
            if v is not None and v.is_const and (v.dtype.is_float or (wide and not narrow)):
                node.replace_input(i, quantize_operand(v, g, wide and not narrow))


def _lower_unary(node: Node) -> None:
    fn = OPS[node.op].table
    attrs = dict(node.attrs)
    node.attrs = {"table": float_table(fn, attrs, node.inputs[0].q, node.outputs[0].q),
                  "fn": node.op}
    node.op = "lut"


def lower_node(g: Graph, node: Node, per_tensor: bool = False) -> None:
    for v in node.outputs:
        if v.dtype is not DType.INT16:
            v.type = v.type.with_(dtype=DType.INT8)
    _quantize_constants(g, node, per_tensor)
    if OPS[node.op].table is not None:
        _lower_unary(node)
    elif quant_rule(node.op) is not None:
        node.attrs.update(quant_rule(node.op)(node))
    if node.op == "batch_norm":
        raise QuantizationError(f"node '{node.name}' (batch_norm): could not be folded or "
                                "converted — this is a tinyc bug, please report it")


# -- mixed precision: int16 activations ----------------------------------------------------------

def mark_activations(g: Graph, activations=None) -> Graph:
    """Annotate the layers to quantize with int16 activations: `activations` is None (keep the
    annotations), "int8" / "int16" (every layer OpDef.int16_layer) or {layer name: "int8" |
    "int16"}. quantize() reads node.attrs["activations"]."""
    if activations is None:
        return g
    eligible = [n.name for n in g.nodes if OPS[n.op].int16_layer]
    choice = activations if isinstance(activations, dict) else \
        {name: activations for name in eligible}
    unknown = sorted(set(choice) - set(eligible))
    if unknown:
        raise TinycError(f"activations: no layer {unknown} with an int16 form — the layers "
                         f"are {eligible}")
    bad = sorted({str(v) for v in choice.values()} - set(ACTIVATIONS))
    if bad:
        raise TinycError(f"activations: expected 'int8' or 'int16' (or a dict layer -> one of "
                         f"them), got {bad}")
    for n in g.nodes:
        if choice.get(n.name) == "int16":
            n.attrs["activations"] = "int16"
        elif n.name in choice:
            n.attrs.pop("activations", None)
    return g


def _int16_q(v: Value, ranges: dict) -> QParams:
    """The int16 quantization of a tensor: from its calibrated range, else (QDQ) its int8
    quantization's range."""
    if v in ranges:
        return symmetric_int16(*ranges[v])
    s, zp = f64(v.q.s), v.q.zp
    return symmetric_int16((-128 - zp) * s, (127 - zp) * s)


def use_int16(g: Graph, ranges: dict) -> set[int]:
    """Give the annotated layers (and reshape/pools after them) int16 outputs; insert
    `requantize` where int8 and int16 tensors meet and before int16 graph outputs.
    Returns the ids of the int16 activations."""
    io16 = {n for n, d in getattr(g, "io_dtype", {}).items() if d is DType.INT16}
    wide = {id(v): v.q for v in g.inputs if v.dtype is DType.INT16}   # the model's own int16
    int8_q = {}
    for node in g.nodes:
        y, x = node.outputs[0], node.input(0)
        if node.op == "requantize" or (y.dtype is DType.INT16 and
                                       "activations" not in node.attrs):
            # imported int16 already: QUANTIZE int8 -> int16 (TFLite), a 16x8 op that keeps
            # its own types (the LSTM)
            if y.dtype is DType.INT16:
                wide[id(y)] = y.q
            continue
        follow = OPS[node.op].int16_follow and x is not None and not x.is_const
        if node.attrs.get("activations") == "int16" or (follow and id(x) in wide):
            int8_q[id(y)] = y.q
            # a Concat with its own int16 q (frontend/qdq_ort_matmul.py) keeps it
            own = OPS[node.op].inputs_as_output_q and node.attrs.get("int16_q")
            q = y.q if own else (wide.get(id(x)) or _int16_q(x, ranges)) if follow else \
                y.q if node.attrs.get("int16_q") else _int16_q(y, ranges)
            y.type = y.type.with_(dtype=DType.INT16, q=q)
            wide[id(y)] = q
    converted: dict[tuple[int, str], Value] = {}

    def convert(v: Value, to: DType, q: QParams, before: Node | None) -> Value:
        key = (id(v), to.value)
        if key not in converted:
            r = g.emit("requantize", [v], {"to": to.value}, name=f"{v.name}_to_{to.value}",
                       before=before)
            r.type = r.type.with_(q=q)
            converted[key] = r
        return converted[key]
    for node in list(g.nodes):
        if node.op == "requantize":
            continue
        # int8 inputs for an op whose int16 output is its own (OpDef.int16_output_zp)
        want = id(node.outputs[0]) in wide and OPS[node.op].int16_output_zp is None
        for i, x in enumerate(node.inputs):
            if x is None or x.is_const or (id(x) in wide) == want:
                continue
            # an int16 concat's inputs go to its own quantization (not requantized in int8)
            q16 = node.outputs[0].q if OPS[node.op].inputs_as_output_q and \
                node.attrs.get("int16_q") else _int16_q(x, ranges)
            r = convert(x, DType.INT16, q16, node) if want else \
                convert(x, DType.INT8, int8_q[id(x)], node)
            node.replace_input(i, r)
    g.outputs = [convert(v, DType.INT8, int8_q[id(v)], None)
                 if id(v) in wide and v.name not in io16 else v for v in g.outputs]
    return set(wide)


def activation_report(g: Graph) -> dict[str, str]:
    """{layer: "int16"} of an integer graph's layers with int16 activations."""
    return {n.name: "int16" for n in g.nodes
            if n.op != "requantize" and n.outputs[0].dtype is DType.INT16}


def quantize(g: Graph, samples: list[dict[str, np.ndarray]] | None = None,
             progress=None, calib_method: str = "minmax", per_tensor: bool = False,
             activations=None) -> Graph:
    """Calibrate (if needed) and lower every node to its integer form.

    calib_method: activation range estimator (calibrate.CALIB_METHODS); per_tensor: one
    weight scale per tensor instead of per output channel (float weights only);
    activations: int16 layers (mark_activations; default: the graph's annotations)."""
    mark_activations(g, activations)
    before = {id(v) for v in g.activations() if v.q is None}
    ranges = assign_qparams(g, samples, progress, calib_method)
    calibrated = {i for i in before}
    unify_passthrough_q(g, calibrated)
    for v in g.inputs:          # int8, or int16 where the model's own input is (TFLite I/O)
        wide = getattr(g, "io_dtype", {}).get(v.name) is DType.INT16
        v.type = v.type.with_(dtype=DType.INT16 if wide else DType.INT8)
    use_int16(g, ranges)
    for node in list(g.nodes):
        lower_node(g, node, per_tensor)
    return verify(g, integer_only=True)
