"""One function per ONNX op, named exactly like the op (tinygrad's nn/onnx.py style).

Positional parameters are the ONNX inputs (Tensor, or None when absent); keyword-only
parameters are the ONNX attributes with the spec's defaults. A parameter that is an attribute
in old opsets and an input in new ones (Clip min/max, ReduceMean/Squeeze axes, Pad pads) has one
name and accepts either. Each returns a Tensor (or a tuple for several outputs).
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError
from ..ir import OPS, Value
from ..ir.ops.shape import slice_attrs
from . import onnx_empty, onnx_nd
from .builder import NCHW_TO_NHWC, Builder, QConst, Tensor, argsort, identity

# Ops that may run on an integer (QuantizeLinear'd) tensor: they only move data.
INTEGER_OPS = {"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Identity",
               "MaxPool", "GlobalMaxPool", "DequantizeLinear", "Concat"}


# ONNX op -> the elementwise IR op it becomes (@elementwise): batch pinning derives the op's
# rule from the IR op's facts (OpDef.elementwise), so a new one needs no second registry.
ELEMENTWISE: dict[str, str] = {}


def elementwise(ir_op: str):
    """Mark an ONNX op function as becoming the elementwise IR op `ir_op`."""
    def wrap(fn):
        if ir_op not in OPS:
            raise KeyError(f"onnx_ops.{fn.__name__}: no IR op {ir_op!r}")
        ELEMENTWISE[fn.__name__] = ir_op
        return fn
    return wrap


# -- helpers ----------------------------------------------------------------------------------

def _pair(v, default=1) -> tuple[int, int]:
    if v is None:
        return (default, default)
    v = tuple(int(x) for x in v)
    if len(v) != 2:
        raise ValueError(f"expected 2 spatial values, got {v}")
    return v


def _values(b: Builder, v, what: str) -> np.ndarray | None:
    """An attribute value or a constant input Tensor as a numpy array (None if absent)."""
    if v is None:
        return None
    return np.asarray(b.const_input(v, what) if isinstance(v, Tensor) else v)


def spatial_pads(b: Builder, in_hw, kernel, stride, dilation, auto_pad, pads, ceil_mode=0):
    """(top, left, bottom, right) from ONNX pads / auto_pad / ceil_mode."""
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        out = []
        for h, k, s, d in zip(in_hw, kernel, stride, dilation):
            total = max((math.ceil(h / s) - 1) * s + (k - 1) * d + 1 - h, 0)
            small, big = total // 2, total - total // 2
            out.append((small, big) if auto_pad == "SAME_UPPER" else (big, small))
        (t, bo), (l, r) = out
        return (t, l, bo, r)
    if auto_pad not in ("NOTSET", "VALID"):
        raise b.error(f"auto_pad '{auto_pad}' is not an ONNX value")
    p = [0, 0, 0, 0] if auto_pad == "VALID" or pads is None else [int(x) for x in pads]
    if len(p) != 4 or min(p) < 0:
        raise b.error(f"pads {p} not supported", "expected 4 non-negative values")
    if ceil_mode:
        for i, (h, k, s, d) in enumerate(zip(in_hw, kernel, stride, dilation)):
            span = h + p[i] + p[i + 2]
            dk = (k - 1) * d + 1
            out = -(-(span - dk) // s) + 1
            if (out - 1) * s >= h + p[i]:
                out -= 1
            p[i + 2] += max((out - 1) * s + dk - span, 0)
    return tuple(p)


def _need_rank(b: Builder, t: Tensor, rank: int, what: str) -> None:
    if t.is_const or t.rank != rank:
        raise b.error(f"{what}: input '{t.name}' has shape {t.shape}",
                      f"expected a {rank}-D activation.")


def _unary(b: Builder, op: str, x: Tensor, attrs: dict | None = None) -> Tensor:
    return b.act(b.emit(op, [x.value], attrs), x.perm)


def _expand_rank(b: Builder, t: Tensor, rank: int) -> Tensor:
    """Prepend size-1 dims (numpy broadcasting) to an activation of lower rank."""
    if t.rank == rank:
        return t
    shape = (1,) * (rank - t.rank) + t.shape
    return b.act(b.reshape(b.layout(t, identity(t.rank)), shape), like=t)


def _binary(b: Builder, op: str, A: Tensor, B: Tensor, ordered: bool = False,
            name: str | None = None) -> Tensor:
    """Elementwise op with numpy broadcasting; constants follow the layout. Commutative
    unless `ordered` (the operands keep their order). name: the output's (default: the ONNX
    node's output)."""
    swapped = A.is_const
    if swapped:
        A, B = B, A
    rank = max(A.rank, B.rank)
    A = _expand_rank(b, A, rank)
    if B.is_const:
        data = B.data.astype(np.float32).reshape((1,) * (rank - B.rank) + B.shape)
        c = b.g.const(B.name or "c", data.transpose(A.perm))
        operands = [c, A.value] if swapped and ordered else [A.value, c]
        return b.act(b.emit(op, operands, name=name), A.perm)
    B = _expand_rank(b, B, rank)
    perm = A.perm if A.perm != identity(rank) else B.perm
    return b.act(b.emit(op, [b.layout(A, perm), b.layout(B, perm)], name=name), perm)


def _fold_bias(b: Builder, A: Tensor, B: Tensor) -> Tensor | None:
    """MatMul/Gemm (+ the reshape back of a 3-D MatMul) or Conv without bias + Add(constant,
    one value per output channel) -> the op's bias. A quantization of the product before the
    Add (ONNX Runtime writes one) is dropped: the Add's own QuantizeLinear then quantizes the
    op's output."""
    if A.is_const or not B.is_const or A.value.uses or b.uses.get(A.name) != 1:
        return None
    v = A.value
    fc = v.producer
    if fc is not None and fc.op == "reshape" and len(fc.inputs[0].uses) == 1 \
            and fc.inputs[0].shape[-1] == v.shape[-1]:
        fc = fc.inputs[0].producer
    if fc is None or OPS[fc.op].layer is None or fc.inputs[2] is not None:
        return None
    n = v.shape[-1]
    shape = (1,) * (A.rank - B.rank) + B.shape               # B broadcast to A's rank
    if B.rank > A.rank or B.data.size != n or shape[A.perm[-1]] != n:
        return None                              # not one value per output channel
    fc.replace_input(2, b.bias(B, n))
    if v.q is not None:                          # kept for ort_exact (frontend/qdq_ort_matmul.py)
        b.product_q[id(fc)] = v.q
    for x in {v, fc.outputs[0]}:
        x.type = x.type.with_(q=None)
    v.name = b.g.unique(b.out_name)
    return b.act(v, A.perm)


def _reshape_to(b: Builder, t: Tensor, shape) -> Tensor:
    """Row-major reshape of an ONNX tensor (materialises the identity layout first)."""
    v = b.layout(t, identity(t.rank))
    return b.act(b.reshape(v, shape, b.out_name), like=t)


# -- compute ops ------------------------------------------------------------------------------

def Conv(b: Builder, X, W, B=None, *, auto_pad="NOTSET", dilations=None, group=1,
         kernel_shape=None, pads=None, strides=None):
    if not X.is_const and X.rank == 3:
        return _conv1d(b, X, W, B, group, kernel_shape=kernel_shape, strides=strides,
                       pads=pads, dilations=dilations, auto_pad=auto_pad)
    if not X.is_const and X.rank == 5:
        return onnx_nd.conv3d(b, X, W, B, auto_pad=auto_pad, dilations=dilations, group=group,
                              kernel_shape=kernel_shape, pads=pads, strides=strides,
                              dense_groups=_dense_groups)
    _need_rank(b, X, 4, "only 1-D, 2-D and 3-D convolution is supported")
    w = b.const_input(W, "W")
    c_in, c_out = X.shape[1], w.shape[0]
    if kernel_shape is not None and tuple(kernel_shape) != w.shape[2:]:
        raise b.error(f"kernel_shape {list(kernel_shape)} but weights {list(w.shape)}",
                      "kernel_shape must equal the weights' spatial dims.")
    stride, dilation = _pair(strides), _pair(dilations)
    p = spatial_pads(b, X.shape[2:], w.shape[2:], stride, dilation, auto_pad, pads)
    if group != 1 and group == c_in and w.shape[1] == 1:
        op, wv = "depthwise_conv2d", b.weight(W, (1, 2, 3, 0), channel=3)
    else:                                           # group 1, or grouped: one dense conv
        op, wv = "conv2d", b.weight(_dense_groups(b, W, w, group, c_in), (0, 2, 3, 1))
    bias = b.bias(B, c_out)
    y = b.emit(op, [b.layout(X, NCHW_TO_NHWC), wv, bias],
               {"stride": stride, "pads": p, "dilation": dilation})
    return b.act(y, NCHW_TO_NHWC)


def _dense_groups(b: Builder, W: Tensor, w: np.ndarray, group: int, c_in: int) -> Tensor:
    """A grouped convolution's weights [O, C/G, KH, KW] as one convolution's [O, C, KH, KW]:
    output channel o of group g reads input channels g C/G ... (g + 1) C/G, zeros elsewhere
    (the same sums, so the same bits; G times the weights and MACs)."""
    if group == 1:
        return W
    o = w.shape[0]
    if group < 1 or c_in % group or o % group or w.shape[1] * group != c_in:
        raise b.error(f"group={group} with {c_in} input channels and weights {list(w.shape)}",
                      "expected groups dividing the input and output channels, weights "
                      "[O, C / group, KH, KW].", cls=ModelError)
    if W.qdata is not None:
        raise b.error(f"grouped convolution (group={group}) with quantized (QDQ) weights",
                      "only group=1, depthwise, or float weights are supported.")
    full = np.zeros((o, c_in) + w.shape[2:], np.float32)
    ci, co = c_in // group, o // group
    for g in range(group):
        full[g * co:(g + 1) * co, g * ci:(g + 1) * ci] = w[g * co:(g + 1) * co]
    return Tensor(name=W.name, data=full)


def _fully_connected(b: Builder, x: Tensor, W: Tensor, w_perm, C=None, alpha=1.0, beta=1.0):
    """y = x[M, K] @ W' + C as IR fully_connected with an [N, K] weight (W' = W.transpose)."""
    wv = b.weight(W, w_perm, mul=alpha)
    bias = b.bias(C, wv.shape[0], mul=beta)
    return b.emit("fully_connected", [b.layout(x, (0, 1)), wv, bias])


def Gemm(b: Builder, A, B, C=None, *, alpha=1.0, beta=1.0, transA=0, transB=0):
    b.const_input(B, "B")
    _need_rank(b, A, 2, "Gemm")
    if transA:
        A = Transpose(b, A, perm=(1, 0))
    n = B.shape[0] if transB else B.shape[1]
    if C is not None and (not C.is_const or C.data.size not in (1, n)):
        raise b.error(f"Gemm C of shape {C.shape} is not a bias of size {n}",
                      "only a constant [N] (or broadcastable) C is supported.")
    return b.act(_fully_connected(b, A, B, (0, 1) if transB else (1, 0), C, alpha, beta))


def _as_matrix(b: Builder, t: Tensor, shape) -> Tensor:
    """A 1-D MatMul operand as numpy promotes it: [k] -> [1, k] (left) or [k, 1] (right)."""
    if t.is_const:
        return Tensor(name=t.name, data=t.data.reshape(shape))
    return _reshape_to(b, t, shape)


def MatMul(b: Builder, A, B):
    if 1 in (A.rank, B.rank) and not (A.is_const and B.is_const):
        out = np.matmul(np.zeros(A.shape, np.float32), np.zeros(B.shape, np.float32)).shape
        y = MatMul(b, _as_matrix(b, A, (1, A.shape[0])) if A.rank == 1 else A,
                   _as_matrix(b, B, (B.shape[0], 1)) if B.rank == 1 else B)
        return _reshape_to(b, y, out)           # numpy: the promoted axis removed again
    if A.is_const or not B.is_const or B.rank != 2:
        return _batch_matmul(b, A, B)
    k, n = B.shape
    lead = A.shape[:-1]
    x = A if A.rank == 2 else _reshape_to(b, A, (int(np.prod(lead)), k))
    y = b.act(_fully_connected(b, x, B, (1, 0)))
    return y if A.rank == 2 else _reshape_to(b, y, lead + (n,))


def BatchNormalization(b: Builder, X, scale, B, input_mean, input_var, *, epsilon=1e-5,
                       momentum=0.9, training_mode=0, spatial=1):
    if training_mode:
        raise b.error("training_mode=1", "export the model in inference (eval) mode.")
    v, perm = b.axis_last(X, 1)
    params = [b.param(t, n) for t, n in ((scale, "scale"), (B, "B"), (input_mean, "mean"),
                                         (input_var, "var"))]
    return b.act(b.emit("batch_norm", [v] + params, {"epsilon": float(epsilon)}), perm)


# -- pooling ---------------------------------------------------------------------------------

def _pool(b: Builder, op, X, kernel_shape, strides, pads, auto_pad, ceil_mode, dilations):
    _need_rank(b, X, 4, "only 2-D pooling is supported")
    if _pair(dilations) != (1, 1):
        raise b.error(f"pooling dilations {dilations}", "only dilation 1 is supported.")
    kernel, stride = _pair(kernel_shape), _pair(strides)
    p = spatial_pads(b, X.shape[2:], kernel, stride, (1, 1), auto_pad, pads, ceil_mode)
    y = b.emit(op, [b.layout(X, NCHW_TO_NHWC)], {"kernel": kernel, "stride": stride, "pads": p})
    return b.act(y, NCHW_TO_NHWC, like=X if op == "max_pool2d" else None)


def MaxPool(b: Builder, X, *, auto_pad="NOTSET", ceil_mode=0, dilations=None,
            kernel_shape=None, pads=None, storage_order=0, strides=None):
    indices = list(b.node.output)[1:2]
    if indices and indices[0] and b.uses.get(indices[0], 0):
        raise b.error(f"output Indices ('{indices[0]}') is used: int64, a type limit (tinyc's "
                      "model inputs and outputs are int8 / uint8 / int16)", "use MaxPool's "
                      "output Y only (argmax positions: compute them in the application).")
    if not X.is_const and X.rank == 3:
        return _pool1d(b, MaxPool, X, kernel_shape, strides, pads, dilations, auto_pad,
                       ceil_mode=ceil_mode)
    nd = _pool_nd(b, "max_pool3d", X, kernel_shape, strides, pads, auto_pad, ceil_mode,
                  dilations)
    if nd is not None:
        return nd
    return _pool(b, "max_pool2d", X, kernel_shape, strides, pads, auto_pad, ceil_mode, dilations)


def AveragePool(b: Builder, X, *, auto_pad="NOTSET", ceil_mode=0, count_include_pad=0,
                dilations=None, kernel_shape=None, pads=None, strides=None):
    if not X.is_const and X.rank == 3:
        return _pool1d(b, AveragePool, X, kernel_shape, strides, pads, dilations, auto_pad,
                       ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    nd = _pool_nd(b, "avg_pool3d", X, kernel_shape, strides, pads, auto_pad, ceil_mode,
                  dilations, count_include_pad)
    if nd is not None:
        return nd
    # here count_include_pad has no explicit padding to count (ceil_mode's extra end padding
    # never counts, as onnxruntime computes it)
    return _pool(b, "avg_pool2d", X, kernel_shape, strides, pads, auto_pad, ceil_mode, dilations)


def _pool_nd(b: Builder, op, X, kernel_shape, strides, pads, auto_pad, ceil_mode, dilations,
             count_include_pad=0) -> Tensor | None:
    """3-D pooling, and the 2-D variants TFLite has none of (onnx_nd), or None."""
    kw = dict(kernel_shape=kernel_shape, strides=strides, pads=pads, auto_pad=auto_pad,
              ceil_mode=ceil_mode, dilations=dilations, count_include_pad=count_include_pad)
    if not X.is_const and X.rank == 5:
        return onnx_nd.pool3d(b, op, X, **kw)
    if onnx_nd.needs_pool3d(b, X, kernel_shape, strides, pads, auto_pad, dilations,
                            count_include_pad):
        return onnx_nd.pool2d_as_3d(b, op, X, **kw)
    return None


def GlobalAveragePool(b: Builder, X):
    if not X.is_const and X.rank == 3:
        return _drop_1d(b, GlobalAveragePool(b, _lift_1d(b, X)))
    _need_rank(b, X, 4, "GlobalAveragePool")
    return AveragePool(b, X, kernel_shape=X.shape[2:])


def GlobalMaxPool(b: Builder, X):
    if not X.is_const and X.rank == 3:
        return _drop_1d(b, GlobalMaxPool(b, _lift_1d(b, X)))
    _need_rank(b, X, 4, "GlobalMaxPool")
    return MaxPool(b, X, kernel_shape=X.shape[2:])


def _reduce_axes(b: Builder, data: Tensor, axes, noop_with_empty_axes: int) -> list[int]:
    ax = _values(b, axes, "axes")
    ax = sorted({int(a) % data.rank for a in ax.reshape(-1)}) if ax is not None else []
    if not ax and not noop_with_empty_axes:
        ax = list(range(data.rank))
    return ax


def _reduce(b: Builder, ir_op: str, data: Tensor, ax: list[int], keepdims: int) -> Tensor:
    """An IR reduction (mean, sum, reduce_max) over ONNX axes `ax` of data in its layout."""
    perm = data.perm
    ir_axes = tuple(i for i, p in enumerate(perm) if p in ax)
    y = b.emit(ir_op, [data.value], {"axes": ir_axes, "keep_dims": bool(keepdims)})
    if keepdims:
        return b.act(y, perm)
    kept = [p for p in perm if p not in ax]
    return b.act(y, tuple(sorted(kept).index(p) for p in kept))


def ReduceMean(b: Builder, data, axes=None, *, keepdims=1, noop_with_empty_axes=0):
    """The mean over the two spatial axes of a 4-D tensor is avg_pool2d (as before); other
    axes: the IR mean (TFLite Micro's integer MEAN)."""
    ax = _reduce_axes(b, data, axes, noop_with_empty_axes)
    if not ax:
        return data
    if data.rank != 4 or len(ax) != 2 or 0 in ax:
        return _reduce(b, "mean", data, ax, keepdims)
    kept = [a for a in range(4) if a not in ax]
    ok = sorted(data.perm[1:3]) == ax and data.perm[0] < data.perm[3]
    perm = data.perm if ok else (kept[0], ax[0], ax[1], kept[1])
    v = b.layout(data, perm)
    y = b.emit("avg_pool2d", [v], {"kernel": v.shape[1:3], "stride": (1, 1),
                                   "pads": (0, 0, 0, 0)}, name=None if keepdims else
               f"{b.out_name}_keep")
    if keepdims:
        return b.act(y, perm)
    return b.act(b.reshape(y, (y.shape[0], y.shape[3]), b.out_name))


def ReduceSum(b: Builder, data, axes=None, *, keepdims=1, noop_with_empty_axes=0):
    ax = _reduce_axes(b, data, axes, noop_with_empty_axes)
    return _reduce(b, "sum", data, ax, keepdims) if ax else data


def ReduceMax(b: Builder, data, axes=None, *, keepdims=1, noop_with_empty_axes=0):
    ax = _reduce_axes(b, data, axes, noop_with_empty_axes)
    return _reduce(b, "reduce_max", data, ax, keepdims) if ax else data


# -- elementwise ------------------------------------------------------------------------------

@elementwise("add")
def Add(b: Builder, A, B):
    return _fold_bias(b, A, B) or _fold_bias(b, B, A) or _binary(b, "add", A, B)


@elementwise("mul")
def Mul(b: Builder, A, B):
    return _binary(b, "mul", A, B)


@elementwise("sub")
def Sub(b: Builder, A, B):
    """A constant subtrahend: add of its negation (folds into a layer's bias); else sub."""
    if not B.is_const:
        return _binary(b, "sub", A, B, ordered=True)
    c = b.const_input(B, "B (subtrahend)")
    return _binary(b, "add", A, Tensor(name=B.name, data=-c.astype(np.float32)))


@elementwise("prelu")
def PRelu(b: Builder, X, slope):
    """slope broadcasts from the right (numpy); a 1-D slope of C values that does not, on an
    input with C channels, is PRelu-6's per-channel slope (onnx.version_converter keeps that
    shape when it lifts an opset-6 model): it becomes [C, 1, ...]."""
    s = b.const_input(slope, "slope")
    try:
        np.broadcast_shapes(tuple(X.shape), s.shape)
    except ValueError:
        if s.ndim == 1 and X.rank >= 2 and s.size == X.shape[1]:
            slope = Tensor(name=slope.name, data=s.reshape((-1,) + (1,) * (X.rank - 2)))
    return _binary(b, "prelu", X, slope, ordered=True)


def _min_max(b: Builder, op: str, inputs) -> Tensor:
    """Variadic: one input is itself; more, a chain of binary ops (activations first)."""
    xs = sorted(inputs, key=lambda t: t.is_const)
    y = xs[0]
    for i, t in enumerate(xs[1:], 1):
        y = _binary(b, op, y, t, name=None if i == len(xs) - 1 else f"{b.out_name}_{i}")
    return y


@elementwise("minimum")
def Min(b: Builder, *data_0):
    return _min_max(b, "minimum", data_0)


@elementwise("maximum")
def Max(b: Builder, *data_0):
    return _min_max(b, "maximum", data_0)


@elementwise("mul")
def Div(b: Builder, A, B):
    c = b.const_input(B, "B (divisor)")
    return _binary(b, "mul", A, Tensor(name=B.name, data=1.0 / c.astype(np.float32)))


@elementwise("relu")
def Relu(b: Builder, X):
    return _unary(b, "relu", X)


@elementwise("clip")
def Clip(b: Builder, input, min=None, max=None):
    attrs = {k: float(_values(b, v, k)) for k, v in (("min", min), ("max", max)) if v is not None}
    return _unary(b, "clip", input, attrs) if attrs else input


@elementwise("sigmoid")
def Sigmoid(b: Builder, X):
    return _unary(b, "sigmoid", X)


@elementwise("tanh")
def Tanh(b: Builder, input):
    return _unary(b, "tanh", input)


@elementwise("hard_sigmoid")
def HardSigmoid(b: Builder, X, *, alpha=0.2, beta=0.5):
    return _unary(b, "hard_sigmoid", X, {"alpha": float(alpha), "beta": float(beta)})


@elementwise("hard_swish")
def HardSwish(b: Builder, X):
    return _unary(b, "hard_swish", X)


@elementwise("leaky_relu")
def LeakyRelu(b: Builder, X, *, alpha=0.01):
    return _unary(b, "leaky_relu", X, {"alpha": float(alpha)})


@elementwise("elu")
def Elu(b: Builder, X, *, alpha=1.0):
    return _unary(b, "elu", X, {"alpha": float(alpha)})


def Identity(b: Builder, input):
    return input


def Dropout(b: Builder, data, ratio=None, training_mode=None, *, seed=0):
    r = 0.5 if ratio is None else float(np.asarray(_values(b, ratio, "ratio")).reshape(-1)[0])
    if training_mode is not None and bool(b.const_input(training_mode, "training_mode")) \
            and r != 0.0:                      # ratio 0 drops nothing: inference mode's
        raise b.error("Dropout in training mode", "export the model in inference mode.")
    mask = b.node.output[1] if len(b.node.output) > 1 else ""
    if mask and b.uses.get(mask):               # inference mode keeps every element: all 1
        return data, b.act(b.emit("ones_like", [data.value], name=mask), data.perm)
    return data


def _softmax(b: Builder, op: str, input, axis):
    r = input.rank
    axis = (-1 if b.opset >= 13 else 1) if axis is None else axis
    axis %= r
    if b.opset < 13 and axis != r - 1:           # opset < 13: softmax of the 2-D coercion
        shape = input.shape
        flat = _reshape_to(b, input, (int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))))
        y = b.emit(op, [flat.value], name=f"{b.out_name}_2d")
        return b.act(b.reshape(y, shape, b.out_name))
    v, perm = b.axis_last(input, axis)
    return b.act(b.emit(op, [v]), perm)


def Softmax(b: Builder, input, *, axis=None):
    return _softmax(b, "softmax", input, axis)


def LogSoftmax(b: Builder, input, *, axis=None):
    return _softmax(b, "log_softmax", input, axis)


# -- data movement ----------------------------------------------------------------------------

def Transpose(b: Builder, data, *, perm=None):
    p = tuple(int(i) for i in perm) if perm is not None else tuple(reversed(range(data.rank)))
    inv = argsort(data.perm)
    new = argsort([inv[i] for i in p])
    return Tensor(value=data.value, perm=new, itype=data.itype, q=data.q)


def _slice_onnx(b: Builder, data: Tensor, index: list, name: str | None = None) -> Tensor:
    """data[index] (ONNX axis order) on the IR value in its layout: the IR slice."""
    ir_index = [index[p] for p in data.perm]
    try:
        attrs = slice_attrs(data.value.shape, ir_index)
    except ValueError:                           # selects nothing: no elements (onnx_empty.py)
        shape = [len(range(*ix.indices(d))) if isinstance(ix, slice) else 1
                 for d, ix in zip(data.shape, index)]
        return onnx_empty.empty(b, data, shape, name or b.out_name)
    return b.act(b.emit("slice", [data.value], attrs, name=name), data.perm)


def Slice(b: Builder, data, starts=None, ends=None, axes=None, steps=None):
    st = [int(v) for v in _values(b, starts, "starts").reshape(-1)]
    en = [int(v) for v in _values(b, ends, "ends").reshape(-1)]
    ax = list(range(len(st))) if axes is None else \
        [int(a) % data.rank for a in _values(b, axes, "axes").reshape(-1)]
    sp = [1] * len(st) if steps is None else \
        [int(v) for v in _values(b, steps, "steps").reshape(-1)]
    index = [slice(None)] * data.rank
    for a, s0, e0, k in zip(ax, st, en, sp):
        if k == 0:
            raise b.error("Slice step 0", cls=ModelError)
        index[a] = slice(s0, e0, k)
    return _slice_onnx(b, data, index)


def Split(b: Builder, input, split=None, *, axis=0, num_outputs=None):
    axis %= input.rank
    d = input.shape[axis]
    n_out = len(b.node.output)
    sizes = _values(b, split, "split")
    if sizes is not None:
        sizes = [int(v) for v in sizes.reshape(-1)]
    else:
        step = -(-d // (num_outputs or n_out))
        sizes = [min(step, d - k * step) for k in range(num_outputs or n_out)]
    if sum(sizes) != d or min(sizes) < 0:
        raise b.error(f"Split sizes {sizes} along axis {axis} of {list(input.shape)}",
                      cls=ModelError)
    outs, at = [], 0
    for k, n in enumerate(sizes):
        index = [slice(None)] * input.rank
        index[axis] = slice(at, at + n)
        outs.append(_slice_onnx(b, input, index, b.node.output[k] or None))
        at += n
    return tuple(outs)


def Gather(b: Builder, data, indices, *, axis=0):
    axis %= data.rank
    idx = b.const_input(indices, "indices").astype(np.int64)
    d = data.shape[axis]
    if idx.size == 0 or idx.min() < -d or idx.max() >= d:
        raise b.error(f"Gather indices {idx.reshape(-1).tolist()} out of range for {d}",
                      cls=ModelError)
    idx = idx % d
    perm = data.perm if idx.ndim <= 1 else identity(data.rank)
    v = b.layout(data, perm)
    ir_axis = perm.index(axis)
    y = b.emit("gather", [v], {"axis": ir_axis, "indices": tuple(int(i) for i in idx.flat),
                               "indices_shape": tuple(idx.shape)})
    if idx.ndim == 1:
        return b.act(y, perm)
    if idx.ndim == 0:
        kept = [p for p in perm if p != axis]
        return b.act(y, tuple(sorted(kept).index(p) for p in kept))
    return b.act(y)


_NEAREST = {"round_prefer_floor": lambda x: np.ceil(x - 0.5), "round_prefer_ceil":
            lambda x: np.floor(x + 0.5), "floor": np.floor, "ceil": np.ceil}


def _resize_index(in_size: int, out_size: int, scale: float, mode: str, nearest: str):
    """ONNX Resize (nearest): the input index of each output index."""
    o = np.arange(out_size, dtype=np.float64)
    if mode == "half_pixel":
        x = (o + 0.5) / scale - 0.5
    elif mode == "pytorch_half_pixel":
        x = (o + 0.5) / scale - 0.5 if out_size > 1 else np.zeros_like(o)
    elif mode == "align_corners":
        x = o * (in_size - 1) / (out_size - 1) if out_size > 1 else np.zeros_like(o)
    elif mode == "asymmetric":
        x = o / scale
    elif mode == "tf_half_pixel_for_nn":
        x = (o + 0.5) / scale
    else:
        raise ValueError(mode)
    return tuple(int(i) for i in np.clip(_NEAREST[nearest](x), 0, in_size - 1))


def _resize_plan(b: Builder, shape, roi, scales, sizes, axes, policy):
    """ONNX Resize's output size, scale factor and roi (start, end) per axis of `shape`, as
    its reference computes them (axes, keep_aspect_ratio_policy)."""
    r = len(shape)
    axes = list(range(r)) if axes is None else [int(a) % r for a in axes]
    sz = _values(b, sizes, "sizes") if sizes is not None and sizes.shape != (0,) else None
    sc = _values(b, scales, "scales") if sz is None and scales is not None else None
    if sz is None and (sc is None or sc.size == 0):
        raise b.error("Resize without scales or sizes", cls=ModelError)
    given = (sz if sz is not None else np.asarray(sc, np.float32)).reshape(-1)
    if len(given) != len(axes):
        raise b.error(f"Resize with {len(given)} scales/sizes for {len(axes)} axes",
                      cls=ModelError)
    rv = _values(b, roi, "roi") if roi is not None and roi.shape != (0,) else None
    rois = [(0.0, 1.0)] * r
    if rv is not None and rv.size == 2 * len(axes):
        rv = np.asarray(rv).reshape(-1)        # numpy scalars of the roi's type
        for i, a in enumerate(axes):
            rois[a] = (rv[i], rv[len(axes) + i])
    out, scale = list(shape), [1.0] * r
    if sz is not None:
        for a, v in zip(axes, given):
            out[a], scale[a] = int(v), int(v) / shape[a]
        if policy in ("not_larger", "not_smaller"):
            pick = min if policy == "not_larger" else max
            s = pick(scale[a] for a in axes)
            for a in axes:
                scale[a], out[a] = s, int(s * shape[a] + 0.5)
        elif policy != "stretch":
            raise b.error(f"Resize keep_aspect_ratio_policy '{policy}'", cls=ModelError)
    else:
        for a, v in zip(axes, given):
            scale[a] = float(v)
            out[a] = int(np.floor(float(v) * shape[a]))
    return out, scale, rois, axes


def Resize(b: Builder, X, roi=None, scales=None, sizes=None, *, antialias=0, axes=None,
           coordinate_transformation_mode="half_pixel", cubic_coeff_a=-0.75,
           exclude_outside=0, extrapolation_value=0.0, keep_aspect_ratio_policy="stretch",
           mode="nearest", nearest_mode="round_prefer_floor"):
    """Resize of the spatial axes of a 4-D NCHW tensor (a 3-D [N, C, L] one as [N, C, 1, L],
    as the 1-D convolutions are lifted). Nearest without extrapolation: the
    gather tables of resize_nearest; linear with whole output sizes in half_pixel /
    align_corners / asymmetric: TFLite's RESIZE_BILINEAR (resize_bilinear); everything else
    (cubic, antialias, fractional scales, half_pixel_symmetric, tf_crop_and_resize with its
    extrapolation value, ...): the general separable op resize (ir/ops/resize.py)."""
    from ..ir.ops.resize import COORD_MODES, axis_taps
    one_d = not X.is_const and X.rank == 3
    if not one_d:
        _need_rank(b, X, 4, "Resize")
    ct = coordinate_transformation_mode
    if mode not in ("nearest", "linear", "cubic") or ct not in COORD_MODES or \
            mode == "nearest" and nearest_mode not in _NEAREST:
        raise b.error(f"Resize mode '{mode}' ({ct}, {nearest_mode})",
                      "tinyc supports nearest, linear and cubic resizes of the spatial axes.")
    if mode == "nearest" and antialias:
        raise b.error("Resize nearest with antialias=1", "ONNX defines antialias for linear "
                      "and cubic only.", cls=ModelError)
    shape = list(X.shape)
    out, sc, rois, ax = _resize_plan(b, shape, roi, scales, sizes, axes,
                                     keep_aspect_ratio_policy)
    if one_d:                                   # [N, C, L] resized as [N, C, 1, L]
        shape, out, sc = shape[:2] + [1] + shape[2:], out[:2] + [1] + out[2:], \
            sc[:2] + [1.0] + sc[2:]
        rois, ax = rois[:2] + [(0.0, 1.0)] + rois[2:], [a + (a == 2) for a in ax]
        X = _lift_1d(b, X)
    crop = ct == "tf_crop_and_resize"
    if out[:2] != shape[:2] or min(out) < 1 or crop and any(
            (rois[a][0], rois[a][1]) != (0.0, 1.0) and shape[a] > 1 for a in (0, 1)):
        raise b.error(f"Resize to {out} from {shape}",
                      "tinyc resizes the spatial axes of NCHW tensors only.")

    def identity_axis(a):
        return a not in ax or (math.isclose(sc[a], 1.0) and out[a] == shape[a] and (
            not crop or (math.isclose(rois[a][0], 0.0) and math.isclose(rois[a][1], 1.0))))

    taps = [(np.arange(out[a])[:, None], np.ones((out[a], 1))) if identity_axis(a) else
            axis_taps(shape[a], out[a], sc[a], mode, ct, nearest_mode=nearest_mode,
                      cubic_a=cubic_coeff_a, exclude_outside=bool(exclude_outside),
                      antialias=bool(antialias), roi=rois[a]) for a in (2, 3)]
    extrapolated = any((t[0] < 0).any() for t in taps)
    v = b.layout(X, NCHW_TO_NHWC)
    linear = {"half_pixel": (False, True), "pytorch_half_pixel": (False, True),
              "align_corners": (True, False), "asymmetric": (False, False)}
    if mode == "linear" and ct in linear and not antialias and all(
            abs(i * s - o) <= 1e-6 for i, s, o in zip(shape[2:], sc[2:], out[2:])) and not (
            ct == "pytorch_half_pixel" and min(out[2:]) == 1):
        align, half = linear[ct]
        attrs = {"size": tuple(out[2:]), "align_corners": align, "half_pixel_centers": half}
        return _resized(b, b.emit("resize_bilinear", [v], attrs), one_d)
    if mode == "nearest" and not extrapolated:
        if ct in ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                  "tf_half_pixel_for_nn"):
            index = [_resize_index(shape[a], out[a], sc[a], ct, nearest_mode) for a in (2, 3)]
        else:
            index = [tuple(int(i) for i in t[0][:, 0]) for t in taps]
        attrs = {"h_index": index[0], "w_index": index[1]}
        return _resized(b, b.emit("resize_nearest", [v], attrs), one_d)
    (hi, hw), (wi, ww) = taps
    attrs = {"h_index": tuple(int(i) for i in hi.reshape(-1)),
             "h_weight": tuple(float(w) for w in hw.reshape(-1)), "kh": int(hi.shape[1]),
             "w_index": tuple(int(i) for i in wi.reshape(-1)),
             "w_weight": tuple(float(w) for w in ww.reshape(-1)), "kw": int(wi.shape[1]),
             "extrapolation_value": float(extrapolation_value)}
    return _resized(b, b.emit("resize", [v], attrs), one_d)


def _resized(b: Builder, y, one_d: bool) -> Tensor:
    t = b.act(y, NCHW_TO_NHWC)
    return _drop_1d(b, t) if one_d else t


def Reshape(b: Builder, data, shape, *, allowzero=0):
    want = [int(d) for d in b.const_input(shape, "shape").reshape(-1)]
    if not allowzero:
        want = [data.shape[i] if d == 0 else d for i, d in enumerate(want)]
    if -1 in want:
        known = int(np.prod([d for d in want if d != -1]))
        want[want.index(-1)] = int(np.prod(data.shape)) // max(known, 1)
    return _reshape_to(b, data, want)


def Flatten(b: Builder, input, *, axis=1):
    axis = axis + input.rank if axis < 0 else axis       # -r..r (-1: all but the last)
    s = input.shape
    return _reshape_to(b, input, (int(np.prod(s[:axis])), int(np.prod(s[axis:]))))


def Squeeze(b: Builder, data, axes=None):
    ax = _values(b, axes, "axes")
    ax = {int(a) % data.rank for a in ax.reshape(-1)} if ax is not None else None
    shape = [d for i, d in enumerate(data.shape) if not (d == 1 and (ax is None or i in ax))]
    return _reshape_to(b, data, shape)


def Unsqueeze(b: Builder, data, axes=None):
    ax = [int(a) for a in _values(b, axes, "axes").reshape(-1)]
    rank = data.rank + len(ax)
    ax = {a % rank for a in ax}
    it = iter(data.shape)
    return _reshape_to(b, data, [1 if i in ax else next(it) for i in range(rank)])


def Concat(b: Builder, *inputs, axis):
    kept = [t for t in inputs if math.prod(t.shape)]   # no elements: adds nothing (onnx_empty)
    if len(kept) < len(inputs):
        if all(t.is_const for t in kept):
            raise b.error("Concat of zero-sized activations and constants only",
                          "its output is a constant: use it instead of the Concat.")
        if len(kept) == 1:
            return kept[0]
        inputs = tuple(kept)
    acts = [t for t in inputs if not t.is_const]
    r = acts[0].rank
    axis %= r
    perm = next((t.perm for t in acts if t.perm != identity(r)), identity(r))
    ints = [t for t in inputs if t.itype is not None]
    if ints and (len(ints) != len(inputs) or any(
            (t.itype, t.q) != (ints[0].itype, ints[0].q) for t in ints)):
        # tf2onnx: TFLite's CONCATENATION on int8 (Q -> Transpose -> Concat -> DQ) moves bytes
        # only when every input has the output's quantization, as TFLite Micro requires
        raise b.error("Concat of quantized (integer) tensors with different quantization: "
                      + ", ".join(f"{t.name or t.value.name} {t.q}" for t in inputs),
                      "DequantizeLinear the inputs before the Concat (or quantize them alike).",
                      cls=ModelError)
    vals = [b.g.const(t.name or "c", t.data.astype(np.float32).transpose(perm))
            if t.is_const else b.layout(t, perm) for t in inputs]
    return b.act(b.emit("concat", vals, {"axis": perm.index(axis)}), perm,
                 like=ints[0] if ints else None)


def Pad(b: Builder, data, pads, constant_value=None, axes=None, *, mode="constant", value=0.0):
    """constant: IR pad; reflect, edge, wrap: one gather per padded axis (the input indices
    numpy's pad of that mode gives, exact on int8 data)."""
    if mode not in ("constant", "reflect", "edge", "wrap"):
        raise b.error(f"Pad mode '{mode}'", "the modes are constant, reflect, edge and wrap.",
                      cls=ModelError)
    p = [int(x) for x in _values(b, pads, "pads").reshape(-1)]
    r = data.rank
    ax = list(range(r)) if axes is None else \
        [int(a) % r for a in _values(b, axes, "axes").reshape(-1)]
    begin, end = [0] * r, [0] * r
    for i, a in enumerate(ax):
        begin[a], end[a] = p[i], p[i + len(ax)]
    if min(begin + end) < 0:
        raise b.error(f"negative pads {p}", "cropping with Pad is not supported.")
    if mode != "constant":
        v = data.value
        for a in range(r):
            if begin[a] or end[a]:
                if mode == "reflect" and max(begin[a], end[a]) >= data.shape[a]:
                    raise b.error(f"Pad mode 'reflect' by {max(begin[a], end[a])} on an axis of "
                                  f"{data.shape[a]}", "reflect pads must be shorter than the "
                                  "axis.", cls=ModelError)
                idx = np.pad(np.arange(data.shape[a]), (begin[a], end[a]), mode=mode)
                v = b.emit("gather", [v], {"axis": data.perm.index(a),
                                           "indices": tuple(int(i) for i in idx),
                                           "indices_shape": (len(idx),)})
        return b.act(v, data.perm)
    cv = float(value) if constant_value is None else float(_values(b, constant_value, "value"))
    ir_pads = tuple(begin[a] for a in data.perm) + tuple(end[a] for a in data.perm)
    return b.act(b.emit("pad", [data.value], {"pads": ir_pads, "value": cv}), data.perm)


# -- ConvTranspose, batched MatMul, LpNormalization (#15) -----------------------------------------

def _transpose_pads(in_size: int, stride: int, kernel: int, adj: int, auto_pad: str,
                    out_size: int | None) -> tuple[int, int]:
    """(head, tail) padding of a ConvTranspose axis given its output size (the output_shape
    attribute) or SAME auto_pad (output in * stride): the odd one at the tail for SAME_UPPER,
    at the head otherwise (as onnxruntime and onnx.reference compute it)."""
    full = (in_size - 1) * stride + adj + kernel
    total = max(0, full - (out_size if out_size is not None else in_size * stride))
    return (total // 2, total - total // 2) if auto_pad == "SAME_UPPER" else \
        (total - total // 2, total // 2)


def ConvTranspose(b: Builder, X, W, B=None, *, auto_pad="NOTSET", dilations=None, group=1,
                  kernel_shape=None, output_padding=None, output_shape=None, pads=None,
                  strides=None):
    """2-D: IR transpose_conv2d (weights [C, O, KH, KW] -> OHWI; grouped or dilated: one dense
    undilated kernel, onnx_nd.tconv_dense_weights); output size stride (in - 1) +
    output_padding + (k - 1) dilation + 1 - pad_begin - pad_end (the ONNX formula), pads from
    output_shape or SAME auto_pad when given. 1-D: as 2-D with H = 1."""
    if not X.is_const and X.rank == 3:
        return _tconv1d(b, X, W, B, auto_pad=auto_pad, dilations=dilations, group=group,
                        kernel_shape=kernel_shape, output_padding=output_padding,
                        output_shape=output_shape, pads=pads, strides=strides)
    if not X.is_const and X.rank == 5:
        return onnx_nd.tconv3d(b, X, W, B, auto_pad=auto_pad, dilations=dilations, group=group,
                               kernel_shape=kernel_shape, output_padding=output_padding,
                               output_shape=output_shape, pads=pads, strides=strides)
    _need_rank(b, X, 4, "only 1-D, 2-D and 3-D ConvTranspose is supported")
    w = b.const_input(W, "W")
    if auto_pad not in ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"):
        raise b.error(f"auto_pad '{auto_pad}' is not an ONNX value")
    if w.ndim != 4 or w.shape[0] != X.shape[1]:
        raise b.error(f"weights {list(w.shape)} for {X.shape[1]} input channels",
                      "expected [C, O, KH, KW].", cls=ModelError)
    if kernel_shape is not None and tuple(kernel_shape) != w.shape[2:]:
        raise b.error(f"kernel_shape {list(kernel_shape)} but weights {list(w.shape)}",
                      "kernel_shape must equal the weights' spatial dims.")
    if group != 1 or _pair(dilations) != (1, 1):
        W = onnx_nd.tconv_dense_weights(b, W, w, group, _pair(dilations))
        w = W.data
    stride, out_pad = _pair(strides), _pair(output_padding, 0)
    if min(out_pad) < 0:
        raise b.error(f"ConvTranspose output_padding {list(out_pad)}",
                      "expected non-negative values.")
    if output_shape is not None or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        want = None if output_shape is None else [int(v) for v in output_shape][-2:]
        if want is not None and (len(want) != 2 or min(want) < 1):
            raise b.error(f"ConvTranspose output_shape {list(output_shape)}", cls=ModelError)
        (t, bo), (le, r) = (_transpose_pads(X.shape[2 + i], stride[i], w.shape[2 + i],
                                            out_pad[i], auto_pad,
                                            None if want is None else want[i])
                            for i in (0, 1))
        p = [t, le, bo, r]
    else:
        p = [0, 0, 0, 0] if auto_pad == "VALID" or pads is None else [int(v) for v in pads]
    if len(p) != 4 or min(p) < 0:
        raise b.error(f"ConvTranspose pads {p}", "expected 4 non-negative values.")
    size = tuple(stride[i] * (X.shape[2 + i] - 1) + out_pad[i] + w.shape[2 + i] - p[i] - p[i + 2]
                 for i in (0, 1))
    if output_shape is not None and size != tuple(want):
        # an output_shape past the scattered input is an implicit output padding (< stride):
        # zeros (plus the bias) there, as onnxruntime and onnx.reference compute it
        if any(not 0 < want[i] - size[i] < stride[i] for i in (0, 1) if want[i] != size[i]):
            raise b.error(f"ConvTranspose output_shape {want}: the input spreads to "
                          f"{list(size)}", "an output_shape may exceed it by less than the "
                          "stride (implicit output padding).", cls=ModelError)
        size = tuple(want)
    if min(size) < 1:
        raise b.error(f"ConvTranspose output size {list(size)}", "pads leave no output.",
                      cls=ModelError)
    y = b.emit("transpose_conv2d", [b.layout(X, NCHW_TO_NHWC), b.weight(W, (1, 2, 3, 0)),
                                    b.bias(B, w.shape[1])],
               {"stride": stride, "padding": (p[0], p[1]), "out_size": size})
    return b.act(y, NCHW_TO_NHWC)


def _tconv1d(b: Builder, X, W, B, *, auto_pad, dilations, group, kernel_shape, output_padding,
             output_shape, pads, strides):
    """A 1-D ConvTranspose [N, C, L] as 2-D with H = 1 (weights [C, O, 1, K])."""
    w = b.const_input(W, "W")
    if w.ndim != 3:
        raise b.error(f"1-D ConvTranspose weights of shape {list(w.shape)}",
                      "expected [C, O / group, K].", cls=ModelError)
    qd = W.qdata
    if qd is not None:
        qd = QConst(qd.data[:, :, None, :], qd.scale, qd.zero_point, qd.axis)
    W4 = Tensor(name=W.name, data=w[:, :, None, :], qdata=qd)
    a = _attrs_2d(b, kernel_shape, strides, pads, dilations, auto_pad)
    del a["auto_pad"]
    if output_padding is not None and len(output_padding) != 1:
        raise b.error(f"output_padding {list(output_padding)} for a 1-D ConvTranspose",
                      "expected one value.", cls=ModelError)
    if output_shape is not None and len(output_shape) not in (1, 3):
        raise b.error(f"output_shape {list(output_shape)} for a 1-D ConvTranspose",
                      "expected [L] (or [N, C, L]).", cls=ModelError)
    y = ConvTranspose(b, _lift_1d(b, X), W4, B, auto_pad=auto_pad, group=group,
                      output_padding=None if output_padding is None
                      else [0, int(output_padding[0])],
                      output_shape=None if output_shape is None else [1, int(output_shape[-1])],
                      **a)
    return _drop_1d(b, y)


def _batch_matmul(b: Builder, A: Tensor, B: Tensor) -> Tensor:
    """MatMul of two activations (attention's Q·K^T, weights·V), or of a constant and an
    activation, or with a constant of rank > 2: IR batch_matmul, batch dims broadcast."""
    if A.is_const and B.is_const:
        raise b.error("MatMul of two constants", "fold it before exporting.")
    if min(A.rank, B.rank) < 2 or max(A.rank, B.rank) > 5:
        raise b.error(f"MatMul of shapes {list(A.shape)} x {list(B.shape)}",
                      "operands of rank 1 to 5 are supported (a 1-D operand is promoted as "
                      "numpy does); reshape to at most 5 dims before the MatMul.")
    vals = [_matmul_const(b, t, f"matmul_c{i}") if t.is_const
            else b.layout(t, identity(t.rank)) for i, t in enumerate((A, B))]
    return b.act(b.emit("batch_matmul", vals, {"adj_x": False, "adj_y": False}))


def _matmul_const(b: Builder, t: Tensor, name: str) -> Value:
    """A constant operand of batch_matmul: DequantizeLinear(int8, per tensor) keeps its bytes
    and quantization; anything else stays float (quantize: int8 per tensor, asymmetric)."""
    qc = t.qdata
    if qc is not None and qc.data.dtype == np.int8 and qc.scale.size == 1:
        return b.g.const(t.name or name, qc.data, qc.qparams(None))
    return b.g.const(t.name or name, t.data.astype(np.float32))


def LpNormalization(b: Builder, input, *, axis=-1, p=2):
    """p = 2: IR l2_norm over `axis` (moved last if needed; int8 output in 1/128 as TFLite's
    L2_NORMALIZATION); p = 1: IR l1_norm (its own integer form, calibrated output)."""
    if p not in (1, 2):
        raise b.error(f"LpNormalization p={p}", "ONNX defines p=1 and p=2.", cls=ModelError)
    if input.is_const:
        raise b.error("LpNormalization of a constant", "fold it before exporting.")
    r = input.rank
    if not -r <= axis < r:
        raise b.error(f"LpNormalization axis {axis} for rank {r}", cls=ModelError)
    v, perm = b.axis_last(input, axis % r)
    return b.act(b.emit("l2_norm" if p == 2 else "l1_norm", [v]), perm)
# -- recurrent ---------------------------------------------------------------------------------

ONNX_TO_TFLITE_GATES = (0, 2, 3, 1)         # ONNX blocks i, o, f, c -> the IR's i, f, c, o


def LSTM(b: Builder, X, W, R, B=None, sequence_lens=None, initial_h=None, initial_c=None,
         P=None, *, activation_alpha=None, activation_beta=None, activations=None, clip=None,
         direction="forward", hidden_size=None, input_forget=0, layout=0):
    """An LSTM with the default activations (sigmoid, tanh, tanh) and zero initial state onto
    the IR lstm (TFLite Micro's integer LSTM once quantized): outputs Y and Y_h (Y_c, the cell
    state, is internal to the kernel). The int16 cell state's scale is the power of two that
    holds |c| <= steps (|c_t| <= |c_t-1| + 1). direction="reverse" is the forward lstm on the
    time-reversed sequence (a gather before and after); "bidirectional" is the forward and the
    reverse one, their Y concatenated on the direction axis (Y_h: the forward run's last step,
    the reverse run's first)."""
    if direction not in ("forward", "reverse", "bidirectional"):
        raise b.error(f"direction '{direction}'",
                      "expected forward, reverse or bidirectional.", ModelError)
    dirs = 2 if direction == "bidirectional" else 1
    acts = [a.decode() if isinstance(a, bytes) else str(a) for a in (activations or [])]
    if acts and [a.lower() for a in acts] != ["sigmoid", "tanh", "tanh"] * dirs:
        raise b.error(f"activations {acts}", "tinyc supports Sigmoid, Tanh, Tanh only.")
    if clip is not None or input_forget:
        raise b.error("clip or input_forget", "TFLite Micro's integer LSTM has neither.")
    for t, what in ((initial_h, "initial_h"), (initial_c, "initial_c")):
        if t is not None and (not t.is_const or np.any(t.data)):
            raise b.error(f"a nonzero {what}", "tinyc's LSTM starts from zero state.")
    outputs = list(b.node.output) + ["", "", ""]
    if outputs[2] and b.uses.get(outputs[2], 0):
        raise b.error(f"output Y_c ('{outputs[2]}') is used",
                      "tinyc's LSTM provides Y and Y_h (the last step of Y) only.")
    _need_rank(b, X, 3, "LSTM")
    if X.is_const or W.qdata is not None or R.qdata is not None:
        raise b.error("a constant input or quantized (DequantizeLinear) weights",
                      "tinyc imports float LSTM weights and quantizes them itself.")
    w, r = b.const_input(W, "W"), b.const_input(R, "R")
    hid = int(hidden_size or r.shape[-1])
    steps, batch, feat = X.shape if layout == 0 else (X.shape[1], X.shape[0], X.shape[2])
    if sequence_lens is not None and (not sequence_lens.is_const or
                                      np.any(sequence_lens.data != steps)):
        raise b.error("sequence_lens shorter than the sequence", "pad to full length.")
    if w.shape != (dirs, 4 * hid, feat) or r.shape != (dirs, 4 * hid, hid):
        raise b.error(f"W {w.shape}, R {r.shape}", f"expected [{dirs}, {4 * hid}, {feat}] and "
                      f"[{dirs}, {4 * hid}, {hid}].", ModelError)
    bias = (np.zeros((dirs, 8 * hid), np.float32) if B is None
            else b.const_input(B, "B").astype(np.float32).reshape(dirs, 8 * hid))
    peep = None                      # P: [dirs, 3 * hid] in ONNX's order i, o, f
    if P is not None:
        peep = b.const_input(P, "P").astype(np.float32)
        if peep.size != dirs * 3 * hid:
            raise b.error(f"P {peep.shape}", f"expected [{dirs}, {3 * hid}].", ModelError)
        peep = peep.reshape(dirs, 3, hid)
    name = b.node.name or b.out_name
    y_name = outputs[0] or f"{name}_y"
    t_axis = 0 if layout == 0 else 1
    x = b.layout(X, (0, 1, 2))
    rev = {"axis": t_axis, "indices": tuple(range(steps - 1, -1, -1)), "indices_shape": (steps,)}
    ys = []
    for d in range(dirs):
        reverse = direction == "reverse" or d == 1
        tag = "_rev" if dirs == 2 and reverse else ""
        blocks = [slice(k * hid, (k + 1) * hid) for k in ONNX_TO_TFLITE_GATES]
        ws = [b.g.const(f"{name}{tag}_w{g}", w[d, s].astype(np.float32))
              for g, s in zip("ifco", blocks)]
        rs = [b.g.const(f"{name}{tag}_r{g}", r[d, s].astype(np.float32))
              for g, s in zip("ifco", blocks)]
        bs = [b.g.const(f"{name}{tag}_b{g}", bias[d, s] + bias[d, 4 * hid:][s])
              for g, s in zip("ifco", blocks)]
        attrs = {"time_major": layout == 0, "cell_clip": 0.0,
                 "cell_scale": 2.0 ** int(np.ceil(np.log2(max(steps, 1)))) / 32768}
        if peep is not None and np.any(peep[d]):     # TFLite's cell-to-gate order i, f, o
            attrs["peephole"] = tuple(tuple(float(v) for v in peep[d, k]) for k in (0, 2, 1))
        xd = b.emit("gather", [x], rev, name=f"{y_name}{tag}_x_rev") if reverse else x
        y = b.emit("lstm", [xd, *ws, *rs, *bs], attrs, name=f"{y_name}{tag}_lstm")
        if reverse:
            y = b.emit("gather", [y], rev, name=f"{y_name}{tag}_y_rev")
        shape = (steps, 1, batch, hid) if layout == 0 else (batch, steps, 1, hid)
        ys.append(b.reshape(y, shape, f"{y_name}{tag}_4d" if dirs == 2 else y_name))
    d_axis = 1 if layout == 0 else 2
    y4 = b.act(ys[0] if dirs == 1 else
               b.emit("concat", ys, {"axis": d_axis}, name=y_name))
    if not outputs[1]:
        return y4
    lasts = []                       # Y_h: each direction's last step, [D, B, H] / [B, D, H]
    for d in range(dirs):
        t = 0 if direction == "reverse" or d == 1 else steps - 1
        index = [slice(None)] * 4
        index[t_axis] = slice(t, t + 1)
        index[d_axis] = slice(d, d + 1)
        lasts.append(_slice_onnx(b, y4, index, f"{outputs[1]}_last{d if dirs == 2 else ''}"))
    last = lasts[0].value if dirs == 1 else b.emit(
        "concat", [v.value for v in lasts], {"axis": d_axis}, name=f"{outputs[1]}_last")
    y_h = b.reshape(last, (dirs, batch, hid) if layout == 0 else (batch, dirs, hid),
                    outputs[1])
    return y4, b.act(y_h)
# -- activations as lookup tables (Softplus, Selu, Swish / SiLU, Gelu) ----------------------------

@elementwise("softplus")
def Softplus(b: Builder, X):
    return _unary(b, "softplus", X)


@elementwise("selu")
def Selu(b: Builder, X, *, alpha=1.67326319217681884765625, gamma=1.05070102214813232421875):
    return _unary(b, "selu", X, {"alpha": float(alpha), "gamma": float(gamma)})


@elementwise("swish")
def Swish(b: Builder, X, *, alpha=1.0):
    """x * Sigmoid(alpha x) (opset 24; SiLU's x * Sigmoid(x) pattern comes here too)."""
    return _unary(b, "swish", X, {"alpha": float(alpha)})


@elementwise("gelu")
def Gelu(b: Builder, X, *, approximate="none"):
    """Gelu (opset 20), exact or tanh; the Erf pattern of older exports comes here too."""
    if approximate not in ("none", "tanh"):
        raise b.error(f"Gelu approximate='{approximate}'", "expected 'none' or 'tanh'.",
                      cls=ModelError)
    return _unary(b, "gelu", X, {"tanh": approximate == "tanh"})


# -- 1-D convolution and pooling: rank-3 [N, C, L] as 2-D with H = 1 -----------------------------

def _lift_1d(b: Builder, X: Tensor) -> Tensor:
    """[N, C, L] as [N, C, 1, L] in NHWC ([N, 1, L, C]: a free reshape of the NLC layout)."""
    v = b.layout(X, (0, 2, 1))
    n, length, c = v.shape
    v4 = b.reshape(v, (n, 1, length, c), f"{b.out_name}_2d_in")
    return Tensor(name=X.name, value=v4, perm=NCHW_TO_NHWC, itype=X.itype, q=X.q)


def _drop_1d(b: Builder, y: Tensor) -> Tensor:
    """The 2-D result [N, C, 1, L'] back to [N, C, L'] (IR layout NLC)."""
    v = b.layout(y, NCHW_TO_NHWC)
    n, _, length, c = v.shape
    out = b.reshape(v, (n, length, c), b.out_name)
    return Tensor(value=out, perm=(0, 2, 1), itype=y.itype, q=y.q)


def _attrs_2d(b: Builder, kernel_shape, strides, pads, dilations, auto_pad) -> dict:
    """1-D attributes as 2-D ones with a height of 1."""
    def one(v, what):
        if v is None:
            return None
        v = [int(x) for x in v]
        if len(v) != 1:
            raise b.error(f"{what} {v} for a 1-D op", "expected one value.", cls=ModelError)
        return [1] + v
    p = None
    if pads is not None:
        p = [int(x) for x in pads]
        if len(p) != 2:
            raise b.error(f"pads {p} for a 1-D op", "expected two values.", cls=ModelError)
        p = [0, p[0], 0, p[1]]
    return {"kernel_shape": one(kernel_shape, "kernel_shape"), "strides": one(strides, "strides"),
            "pads": p, "dilations": one(dilations, "dilations"), "auto_pad": auto_pad}


def _conv1d(b: Builder, X, W, B, group, **attrs):
    w = b.const_input(W, "W")
    if w.ndim != 3:
        raise b.error(f"1-D Conv weights of shape {list(w.shape)}", "expected [O, C, K].",
                      cls=ModelError)
    qd = W.qdata
    if qd is not None:
        qd = QConst(qd.data[:, :, None, :], qd.scale, qd.zero_point, qd.axis)
    W4 = Tensor(name=W.name, data=w[:, :, None, :], qdata=qd)
    return _drop_1d(b, Conv(b, _lift_1d(b, X), W4, B, group=group, **_attrs_2d(b, **attrs)))


def _pool1d(b: Builder, fn, X, kernel_shape, strides, pads, dilations, auto_pad, **extra):
    a = _attrs_2d(b, kernel_shape, strides, pads, dilations, auto_pad)
    return _drop_1d(b, fn(b, _lift_1d(b, X), **a, **extra))


# -- LayerNormalization over the trailing axes ------------------------------------------------

def LayerNormalization(b: Builder, X, Scale, B=None, *, axis=-1, epsilon=1e-5, stash_type=1):
    """LayerNormalization over the trailing axes (several are flattened into one, then
    reshaped back): the IR layer_norm (its own fixed-point integer form, ir/ops/norm.py). The
    optional Mean and InvStdDev outputs are TFLite's int8 ops: MEAN, SQUARED_DIFFERENCE, MEAN
    and a 1/sqrt(v + epsilon) table."""
    if X.is_const:
        raise b.error("LayerNormalization of a constant", cls=ModelError)
    axis %= X.rank
    if axis != X.rank - 1:                       # over several trailing axes: flattened
        shape, tail = X.shape, X.shape[axis:]
        flat = _reshape_to(b, X, shape[:axis] + (int(np.prod(tail)),))
        sc, bb = (None if t is None else Tensor(name=t.name, data=np.broadcast_to(
            b.const_input(t, "Scale / B"), tail).reshape(-1)) for t in (Scale, B))
        y, mean, inv = LayerNormalization(b, flat, sc, bb, axis=-1, epsilon=epsilon)
        if mean is None:
            return _reshape_to(b, y, shape), None, None
        stat = shape[:axis] + (1,) * len(tail)
        return (_reshape_to(b, y, shape), b.act(b.reshape(mean.value, stat), like=mean),
                b.act(b.reshape(inv.value, stat), like=inv))
    v, perm = b.axis_last(X, X.rank - 1)
    n = v.shape[-1]
    gb = {k: tuple(float(c) for c in np.broadcast_to(
        np.asarray(b.const_input(t, k), np.float64).reshape(-1) if t is not None else d, (n,)))
        for k, t, d in (("Scale", Scale, 1.0), ("B", B, 0.0))}
    gb = {"gamma": gb["Scale"], "beta": gb["B"]}
    y = b.act(b.emit("layer_norm", [v], {**gb, "epsilon": float(epsilon)}), perm)
    if not any(list(b.node.output)[1:]):
        return y, None, None
    last, name = (len(v.shape) - 1,), b.out_name   # Mean, InvStdDev: TFLite's int8 ops
    mean = b.emit("mean", [v], {"axes": last, "keep_dims": True}, name=f"{name}_mean")
    sq = b.emit("squared_difference", [v, mean], name=f"{name}_sqdiff")
    var = b.emit("mean", [sq], {"axes": last, "keep_dims": True}, name=f"{name}_var")
    inv = b.emit("rsqrt", [var], {"epsilon": float(epsilon)}, name=f"{name}_rsqrt")
    return y, b.act(mean, perm), b.act(inv, perm)      # Y, Mean, InvStdDev


# -- GRU (issue 15) ---------------------------------------------------------------------------

def GRU(b: Builder, X, W, R, B=None, sequence_lens=None, initial_h=None, *,
        activation_alpha=None, activation_beta=None, activations=None, clip=None,
        direction="forward", hidden_size=None, layout=0, linear_before_reset=0):
    """One forward GRU with the default activations (Sigmoid, Tanh) and zero initial state onto
    the IR gru (ir/ops/gru.py: int16 hidden state, the int8 LSTM's integer pieces): outputs Y
    and Y_h (the last step of Y). ONNX's blocks z, r, h are the IR's gate order."""
    if direction != "forward":
        raise b.error(f"direction '{direction}'", "tinyc supports forward GRUs only.")
    acts = [a.decode() if isinstance(a, bytes) else str(a) for a in (activations or [])]
    if acts and [a.lower() for a in acts] != ["sigmoid", "tanh"]:
        raise b.error(f"activations {acts}", "tinyc supports Sigmoid, Tanh only.")
    if clip is not None:
        raise b.error("clip", "tinyc's GRU has no cell clip.")
    if initial_h is not None and (not initial_h.is_const or np.any(initial_h.data)):
        raise b.error("a nonzero initial_h", "tinyc's GRU starts from zero state.")
    _need_rank(b, X, 3, "GRU")
    if X.is_const or W.qdata is not None or R.qdata is not None:
        raise b.error("a constant input or quantized (DequantizeLinear) weights",
                      "tinyc imports float GRU weights and quantizes them itself.")
    w, r = b.const_input(W, "W"), b.const_input(R, "R")
    hid = int(hidden_size or r.shape[-1])
    steps, batch, feat = X.shape if layout == 0 else (X.shape[1], X.shape[0], X.shape[2])
    if sequence_lens is not None and (not sequence_lens.is_const or
                                      np.any(sequence_lens.data != steps)):
        raise b.error("sequence_lens shorter than the sequence", "pad to full length.")
    if w.shape != (1, 3 * hid, feat) or r.shape != (1, 3 * hid, hid):
        raise b.error(f"W {w.shape}, R {r.shape}", f"expected [1, {3 * hid}, {feat}] and "
                      f"[1, {3 * hid}, {hid}].", ModelError)
    bias = (np.zeros(6 * hid, np.float32) if B is None
            else b.const_input(B, "B").astype(np.float32).reshape(-1))
    if bias.size != 6 * hid:
        raise b.error(f"B of {bias.size} values", f"expected [1, {6 * hid}].", ModelError)
    name = b.node.name or b.out_name
    blocks = [slice(k * hid, (k + 1) * hid) for k in range(3)]
    wb, rb = bias[:3 * hid], bias[3 * hid:]
    ws = [b.g.const(f"{name}_w{g}", w[0, s].astype(np.float32)) for g, s in zip("zrh", blocks)]
    rs = [b.g.const(f"{name}_r{g}", r[0, s].astype(np.float32)) for g, s in zip("zrh", blocks)]
    lbr = bool(linear_before_reset)
    bs = [wb[s] + (0.0 if (g == "h" and lbr) else rb[s]) for g, s in zip("zrh", blocks)]
    bs = [b.g.const(f"{name}_b{g}", v.astype(np.float32)) for g, v in zip("zrh", bs)]
    attrs = {"time_major": layout == 0, "linear_before_reset": lbr,
             "rbh": tuple(float(v) for v in (rb[blocks[2]] if lbr else np.zeros(hid)))}
    outputs = list(b.node.output) + ["", ""]
    y_name = outputs[0] or f"{name}_y"
    y = b.emit("gru", [b.layout(X, (0, 1, 2)), *ws, *rs, *bs], attrs, name=f"{y_name}_gru")
    shape = (steps, 1, batch, hid) if layout == 0 else (batch, steps, 1, hid)
    y4 = b.act(b.reshape(y, shape, y_name))
    if not outputs[1]:
        return y4
    t_axis = 0 if layout == 0 else 1           # Y_h = Y at the last step: [1, B, H] / [B, 1, H]
    index = [slice(None)] * 4
    index[t_axis] = slice(steps - 1, steps)
    last = _slice_onnx(b, y4, index, f"{outputs[1]}_last")
    y_h = b.reshape(last.value, (1, batch, hid) if layout == 0 else (batch, 1, hid),
                    outputs[1])
    return y4, b.act(y_h)


# -- Mish (opset 18): x tanh(softplus(x)), the program of the Softplus -> Tanh -> Mul island that
# the TorchScript exporter writes for it: one lookup table once quantized --------------------------

MISH_PROGRAM = (("softplus", "x"), ("tanh", 0), ("mul", "x", 1))


@elementwise("elementwise_fn")
def Mish(b: Builder, X):
    return _unary(b, "elementwise_fn", X, {"program": MISH_PROGRAM})
