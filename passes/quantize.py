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
"""
from __future__ import annotations

import numpy as np

from ..errors import QuantizationError
from ..ir import DType, Graph, Node, QParams, Value, verify
from ..ir.ops.eltwise import UNARY
from ..ir.qmath import quantize_multiplier, requantize, round_half_away
from .calibrate import assign_qparams
from .quant_rules import QUANT_RULES, f64

SAME_Q_OPS = {"reshape", "transpose", "pad", "max_pool2d", "avg_pool2d"}
WEIGHT_AXIS = {"conv2d": 0, "depthwise_conv2d": 3, "fully_connected": 0}


def requant_table(q_in: QParams, q_out: QParams) -> tuple[int, ...]:
    """int8 → int8 requantization as TFLite's Requantize, tabulated."""
    m, s = quantize_multiplier(f64(q_in.s) / f64(q_out.s))
    x = np.arange(-128, 128, dtype=np.int64) - q_in.zp
    return tuple(int(v) for v in np.clip(requantize(x, m, s) + q_out.zp, -128, 127))


def float_table(fn, attrs: dict, q_in: QParams, q_out: QParams) -> tuple[int, ...]:
    """Any float function of one int8 tensor, tabulated: round(f(x) / s_out) + zp_out."""
    x = (np.arange(-128, 128, dtype=np.float64) - q_in.zp) * f64(q_in.s)
    y = np.asarray(fn(x, attrs), dtype=np.float64) / f64(q_out.s)
    return tuple(int(np.clip(round_half_away(v) + q_out.zp, -128, 127)) for v in y)


def _insert_requant_after(g: Graph, node: Node, q_in: QParams) -> None:
    y = node.outputs[0]
    q_out = y.q
    y.type = y.type.with_(q=q_in)
    users = list(y.uses)
    was_output = y in g.outputs
    nxt = g.nodes[g.nodes.index(node) + 1] if node is not g.nodes[-1] else None
    r = g.emit("lut", [y], {"table": requant_table(q_in, q_out)},
               name=f"{node.name}_requant", before=nxt)
    r.type = r.type.with_(dtype=y.dtype, q=q_out)
    for user, idx in users:
        user.replace_input(idx, r)
    if was_output:
        g.outputs = [r if v is y else v for v in g.outputs]


def _requant_input(g: Graph, node: Node, idx: int, q_out: QParams) -> None:
    x = node.inputs[idx]
    r = g.emit("lut", [x], {"table": requant_table(x.q, q_out)},
               name=f"{node.name}_in{idx}_requant", before=node)
    r.type = r.type.with_(dtype=x.dtype, q=q_out)
    node.replace_input(idx, r)


def unify_passthrough_q(g: Graph, calibrated: set[int]) -> None:
    for node in list(g.nodes):
        y = node.outputs[0]
        if node.op in SAME_Q_OPS:
            x = node.inputs[0]
            if id(y) in calibrated or y.q == x.q:
                y.type = y.type.with_(q=x.q)
            else:
                _insert_requant_after(g, node, x.q)
        elif node.op == "concat":
            for i, x in enumerate(node.inputs):
                if x.q != y.q:
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
                  fan_in: int = 0) -> Value | None:
    """int32 bias at in_scale * w_scale, clamped so that bias + fan_in products of
    (x + in_offset) * w (each |.| <= 255 * 128) can never overflow the int32 accumulator."""
    if b is None or not b.dtype.is_float:
        return b
    w_scale = np.broadcast_to(np.asarray(w_q.scale, np.float64), (n,))
    bias_scale = f64(in_q.s) * w_scale
    lim = 2**31 - 1 - fan_in * 255 * 128
    q = np.clip(np.round(b.data.astype(np.float64) / bias_scale), -lim, lim)
    return g.const(b.name, q.astype(np.int32), QParams(tuple(bias_scale), (0,) * n, 0))


def quantize_operand(c: Value, g: Graph) -> Value:
    """Constant operand of add/mul/concat: int8, asymmetric per tensor."""
    if not c.dtype.is_float:
        return c
    from .calibrate import qparams_from_range
    q = qparams_from_range(float(c.data.min()), float(c.data.max()))
    data = np.clip(np.round(c.data / f64(q.s)) + q.zp, -128, 127).astype(np.int8)
    return g.const(c.name, data, q)


def _quantize_constants(g: Graph, node: Node, per_tensor: bool = False) -> None:
    if node.op in WEIGHT_AXIS:
        w = quantize_weight(node.inputs[1], g, WEIGHT_AXIS[node.op], per_tensor)
        node.replace_input(1, w)
        if node.input(2) is not None:
            n = w.shape[WEIGHT_AXIS[node.op]]
            fan_in = int(np.prod(w.shape[1:3] if node.op == "depthwise_conv2d" else w.shape[1:]))
            node.replace_input(2, quantize_bias(node.inputs[2], g, node.inputs[0].q, w.q, n,
                                                fan_in))
    else:
        for i, v in enumerate(node.inputs):
            if v is not None and v.is_const and v.dtype.is_float:
                node.replace_input(i, quantize_operand(v, g))


def _lower_unary(node: Node) -> None:
    fn = UNARY[node.op]
    attrs = dict(node.attrs)
    node.attrs = {"table": float_table(fn, attrs, node.inputs[0].q, node.outputs[0].q),
                  "fn": node.op}
    node.op = "lut"


def lower_node(g: Graph, node: Node, per_tensor: bool = False) -> None:
    _quantize_constants(g, node, per_tensor)
    if node.op in UNARY:
        _lower_unary(node)
    elif node.op in QUANT_RULES:
        node.attrs.update(QUANT_RULES[node.op](node))
    for v in node.outputs:
        v.type = v.type.with_(dtype=DType.INT8)
    if node.op == "batch_norm":
        raise QuantizationError(f"node '{node.name}' (batch_norm): could not be folded or "
                                "converted — this is a tinyc bug, please report it")


def quantize(g: Graph, samples: list[dict[str, np.ndarray]] | None = None,
             progress=None, calib_method: str = "minmax", per_tensor: bool = False) -> Graph:
    """Calibrate (if needed) and lower every node to its integer form.

    calib_method: activation range estimator (calibrate.CALIB_METHODS); per_tensor: one
    weight scale per tensor instead of per output channel (float weights only)."""
    before = {id(v) for v in g.activations() if v.q is None}
    assign_qparams(g, samples, progress, calib_method)
    calibrated = {i for i in before}
    unify_passthrough_q(g, calibrated)
    for v in g.inputs:
        v.type = v.type.with_(dtype=DType.INT8)
    for node in list(g.nodes):
        lower_node(g, node, per_tensor)
    return verify(g, integer_only=True)
