"""The state the ONNX op functions share: the IR graph being built, layout bookkeeping and the
helpers that turn ONNX constants into IR constants.

Layout: every ONNX activation is an IR value plus a permutation `perm` with
    ir_array == onnx_array.transpose(perm)
An ONNX Transpose only changes `perm`; `Builder.layout(t, want)` is the one place that emits a
data-movement op when a consumer needs another permutation (a free `reshape` when only size-1
dims move, else a `transpose`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError, TinycError, UnsupportedOpError
from ..ir import Graph, QParams, Value

NCHW_TO_NHWC = (0, 2, 3, 1)
log = logging.getLogger("tinyc.frontend")


def identity(rank: int) -> tuple[int, ...]:
    return tuple(range(rank))


def argsort(perm) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argsort(perm))


def moves_only_unit_dims(shape, perm) -> bool:
    """True when transposing `shape` by `perm` keeps the memory order (a reshape suffices)."""
    big = [p for p in perm if shape[p] != 1]
    return big == sorted(big)


@dataclass
class QConst:
    """DequantizeLinear(constant): the integer data and its parameters (ONNX layout/axis)."""
    data: np.ndarray
    scale: np.ndarray
    zero_point: np.ndarray
    axis: int | None

    def qparams(self, axis: int | None, mul: float = 1.0) -> QParams:
        scale = tuple(float(s) * mul for s in self.scale.reshape(-1))
        zp = tuple(int(z) for z in self.zero_point.reshape(-1))
        return QParams(scale, zp, axis if len(scale) > 1 else None)


@dataclass(frozen=True)
class Dyn:
    """What a tensor of ONNX Runtime's dynamic quantization stands for (dynamic_quant.py):
    kind "q" / "scale" / "zero_point" (DynamicQuantizeLinear's outputs for the float activation
    `src`), "scale_product" (scale * the constant `scale`), "acc" (a MatMulInteger/ConvInteger
    result: an IR op whose `weight` still lacks the model's scale; `axis`: its channel axis)."""
    kind: str
    src: "Tensor"
    where: str                    # the DynamicQuantizeLinear node, for messages
    weight: Value | None = None
    axis: int = -1
    scale: np.ndarray | None = None

    @property
    def node(self) -> str:
        """"node 'name' (DynamicQuantizeLinear, opset n)", without the file."""
        return self.where.split(": ", 1)[-1]


@dataclass
class Tensor:
    """An ONNX tensor as the importer sees it.

    Activation: `value` with `perm` (see module doc). Constant: `data` in ONNX layout, plus
    `qdata` when it is DequantizeLinear(integer constant). `itype` is the ONNX integer dtype of
    a quantized activation (QuantizeLinear output, int8 graph input; None when float); its IR
    value holds the real values and `q` their quantization (None while not yet known).
    `dyn`: a value of ONNX Runtime's dynamic quantization pattern (see Dyn; only the ops in
    dynamic_quant.ON_DYN take it).
    """
    name: str = ""
    value: Value | None = None
    perm: tuple[int, ...] = ()
    data: np.ndarray | None = None
    qdata: QConst | None = None
    itype: np.dtype | None = None
    q: QParams | None = None
    dyn: Dyn | None = None

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def shape(self) -> tuple[int, ...]:
        if self.data is not None:
            return tuple(self.data.shape)
        inv = argsort(self.perm)
        return tuple(self.value.shape[inv[i]] for i in range(len(self.perm)))

    @property
    def rank(self) -> int:
        return len(self.shape)


class Builder:
    def __init__(self, graph: Graph, opset: int, path: str, uses: dict[str, int]):
        self.g, self.opset, self.path, self.uses = graph, opset, path, uses
        self.node = None                  # the ONNX NodeProto being converted
        self._layouts: dict = {}          # (id(value), ir_perm) -> (value, result)
        self.inherited: set[int] = set()  # values whose q was copied from a data-movement source
        self.product_q: dict = {}         # id(layer) -> the q of its product before a folded Add

    # -- errors ---------------------------------------------------------------------------
    def where(self) -> str:
        n = self.node
        if n is None:
            return self.path
        name = n.name or (n.output[0] if n.output else "?")
        return f"{self.path}: node '{name}' ({n.op_type}, opset {self.opset})"

    def error(self, what: str, hint: str = "", cls=UnsupportedOpError) -> TinycError:
        hint = hint[:1].upper() + hint[1:]
        return cls(f"{self.where()}: {what}." + (f" {hint}" if hint else ""))

    def const_input(self, t: Tensor | None, what: str) -> np.ndarray:
        if t is None or not t.is_const:
            raise self.error(f"input '{what}' must be a constant (initializer or foldable)",
                             "tinyc compiles static graphs only.")
        return t.data

    # -- building ---------------------------------------------------------------------------
    @property
    def out_name(self) -> str:
        return self.node.output[0] if self.node is not None else "t"

    def emit(self, op: str, inputs: list, attrs: dict | None = None,
             name: str | None = None) -> Value:
        return self.g.emit(op, inputs, attrs, name=name or self.out_name)

    def act(self, value: Value, perm=None, like: Tensor | None = None) -> Tensor:
        """An activation Tensor; `like` passes on the integer (quantized) view of a source."""
        perm = tuple(perm) if perm is not None else identity(len(value.shape))
        if like is not None and like.itype is not None:
            if like.q is not None:
                set_q(self, value, like.q)
            return Tensor(value=value, perm=perm, itype=like.itype, q=like.q)
        return Tensor(value=value, perm=perm)

    def reshape(self, v: Value, shape, name: str | None = None) -> Value:
        """A reshape of v (collapsing reshape chains; v itself when the shape is unchanged)."""
        shape = tuple(int(d) for d in shape)
        src = v
        while src.producer is not None and src.producer.op == "reshape" \
                and src.producer.inputs[0].q == v.q:
            src = src.producer.inputs[0]
        if src.shape == shape:
            return src
        return self._inherit_q(self.emit("reshape", [src], {"shape": shape}, name), v)

    def _inherit_q(self, out: Value, src: Value) -> Value:
        if src.q is not None:
            out.type = out.type.with_(q=src.q)
            self.inherited.add(id(out))
        return out

    def layout(self, t: Tensor, want) -> Value:
        """t's IR value in the layout `want` (ir == onnx.transpose(want))."""
        want = tuple(want)
        if t.perm == want:
            return t.value
        inv = argsort(t.perm)
        ir_perm = tuple(inv[w] for w in want)
        key = (id(t.value), ir_perm)
        if key in self._layouts:
            return self._layouts[key][1]
        v = t.value
        shape = tuple(v.shape[p] for p in ir_perm)
        name = f"{t.name or v.name}_{''.join(map(str, want))}"
        if moves_only_unit_dims(v.shape, ir_perm):
            out = self.reshape(v, shape, name)
        else:
            out = self._inherit_q(self.emit("transpose", [v], {"perm": ir_perm}, name), v)
        self._layouts[key] = (v, out)
        return out

    def axis_last(self, t: Tensor, axis: int) -> tuple[Value, tuple[int, ...]]:
        """t's value in a layout whose last IR axis is ONNX `axis` (moving it if needed)."""
        if t.perm[-1] == axis:
            return t.value, t.perm
        perm = tuple(p for p in t.perm if p != axis) + (axis,)
        return self.layout(t, perm), perm

    # -- constants ------------------------------------------------------------------------
    def weight(self, t: Tensor, perm, name: str | None = None, mul: float = 1.0,
               channel: int = 0) -> Value:
        """A weight constant transposed by `perm`: int8 with q when t is DequantizeLinear'd
        (zero point 0: see symmetric_int8; `channel`: the IR output-channel axis)."""
        perm = tuple(perm)
        name = name or t.name or "w"
        if t.qdata is not None:
            qc = t.qdata
            if qc.data.dtype not in (np.int8, np.uint8):
                raise self.error(f"weight '{name}' is quantized to {qc.data.dtype}",
                                 "only int8 and uint8 weights are supported.")
            if qc.zero_point.any() or qc.data.dtype == np.uint8:
                qc = symmetric_int8(self, name, qc, perm[channel])
            axis = perm.index(qc.axis) if qc.axis is not None else None
            return self.g.const(name, qc.data.transpose(perm), qc.qparams(axis, mul))
        data = self.const_input(t, name)
        if not np.issubdtype(data.dtype, np.floating):
            raise self.error(f"weight '{name}' is {data.dtype}",
                             "expected float weights, or DequantizeLinear of int8 weights.",
                             cls=ModelError)
        data = data.astype(np.float32) * np.float32(mul)
        return self.g.const(name, data.transpose(perm))

    def bias(self, t: Tensor | None, n: int, mul: float = 1.0) -> Value | None:
        """A [n] bias constant: int32 with q when t is DequantizeLinear(int32), else float32."""
        if t is None:
            return None
        data = t.qdata.data if t.qdata is not None else self.const_input(t, "bias")
        if data.size not in (1, n):
            raise self.error(f"bias '{t.name}' has shape {data.shape}, expected [{n}]")
        if t.qdata is not None and data.dtype == np.int32:
            q = t.qdata.qparams(0, mul)
            return self.g.const(t.name, np.broadcast_to(data.reshape(-1), (n,)), q)
        data = self.const_input(t, "bias").astype(np.float32) * np.float32(mul)
        return self.g.const(t.name or "b", np.broadcast_to(data.reshape(-1), (n,)))

    def param(self, t: Tensor, name: str) -> Value:
        """A float32 constant operand (BatchNormalization parameters, elementwise operands)."""
        return self.g.const(t.name or name, self.const_input(t, name).astype(np.float32))


def symmetric_int8(b: Builder, name: str, qc: QConst, channel: int) -> QConst:
    """Integer weights with zero points as int8 with zero point 0 (what the kernels take):
    data - zero_point, exact in every output channel (along `channel`) where it fits int8;
    other channels are re-quantized to scale * max|data - zero_point| / 127 (logged)."""
    w, n = qc.data, qc.data.shape[channel]
    zshape, cshape = [1] * w.ndim, [1] * w.ndim
    cshape[channel] = -1
    if qc.axis is not None:
        zshape[qc.axis] = -1
    d = w.astype(np.int32) - qc.zero_point.astype(np.int32).reshape(zshape)
    per = np.moveaxis(d, channel, 0).reshape(n, -1)
    fits = (per.min(axis=1) >= -128) & (per.max(axis=1) <= 127)
    if fits.all():
        return QConst(d.astype(np.int8), qc.scale, np.zeros_like(qc.zero_point), qc.axis)
    if qc.axis not in (None, channel):
        raise b.error(f"weight '{name}' quantized along axis {qc.axis}, not its output channels",
                      "tinyc cannot re-quantize it to int8 with zero point 0.")
    big = np.abs(per).max(axis=1)
    factor = np.where(fits, 1.0, big / 127.0)
    d = np.where(fits.reshape(cshape), d, np.round(d / factor.reshape(cshape)))
    log.warning("%s: weights '%s' (%s with zero point %s) span %d steps from the zero point — "
                "re-quantized to int8 with zero point 0 in %d of %d output channels",
                b.where(), name, w.dtype, qc.zero_point.reshape(-1)[:1], int(big.max()),
                int((~fits).sum()), n)
    scale = np.broadcast_to(qc.scale.reshape(-1), (n,)) * factor
    return QConst(d.astype(np.int8), scale, np.zeros(n, np.int8), channel)


def set_q(b: Builder, v: Value, q: QParams) -> None:
    """Annotate an activation with its quantization (from the model's Q/DQ nodes)."""
    if v.q is None or (id(v) in b.inherited and v.q != q):
        v.type = v.type.with_(q=q)
        b.inherited.discard(id(v))
    elif v.q != q:
        raise b.error(f"tensor '{v.name}' is quantized twice, as {v.q} and {q}",
                      "requantizing an activation needs an IR requantize op (not yet in the IR).")


__all__ = ["Builder", "Tensor", "QConst", "Dyn", "symmetric_int8", "NCHW_TO_NHWC", "identity",
           "argsort", "set_q",
           "moves_only_unit_dims"]
