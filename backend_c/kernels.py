"""The kernel table: one entry per IR op — its call template, the runtime files it needs and
the function that computes every number the template prints.

Adding an op: a runtime kernel (runtime/tinyc_<op>_s8.c), a call template
(templates/call_<op>.c.j2), an `args` function below and one KERNELS line. A board may
override entries: `{**KERNELS, CONV2D: replace(KERNELS[CONV2D], template=...)}`.
Which entry runs a node is select_kernels' choice (select.py); `args` only renders it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import IRError
from ..ir import OPS, DType, Node
from ..ir.ops.conv import CONV2D, DEPTHWISE_CONV2D, FULLY_CONNECTED
from ..ir.ops.reduce import REDUCE_INT_ATTRS, reduce_axes
from ..ir.ops.shape import bilinear_int_coords
from ..ir import qmath
from . import fast, fast_s16, fewch
from .cgen import collapse, contiguous_strides, dims4, pad4


@dataclass(frozen=True)
class Kernel:
    template: str                       # backend_c/templates/<template>
    sources: tuple[str, ...]            # runtime/ files beyond tinyc_nn.h and tinyc_requant.h
    args: Callable[[Node, "object"], dict]   # (node, CallContext) -> template variables
    scratch: Callable[[Node], int] | None = None   # arena bytes the kernel always works in
    in_place: bool = False              # writes its output over its input (plan.inplace pair,
    #                                     the output slot at the input's, no larger)


def _fail(node: Node, what: str, expected, got) -> None:
    raise IRError(f"node '{node.name}' ({node.op}): {what} — expected {expected}, got {got}")


def _int_attr(node: Node, key: str, lo: int = -(1 << 31) + 1, hi: int = (1 << 31) - 1) -> int:
    v = node.attrs[key]
    if isinstance(v, (tuple, list, np.ndarray)) and np.size(v) == 1:
        v = np.asarray(v).reshape(-1)[0]
    if not isinstance(v, (int, np.integer)) or not lo <= int(v) <= hi:
        _fail(node, f"integer attribute '{key}'", f"an int in [{lo}, {hi}]", v)
    return int(v)


def _act(node: Node) -> tuple[int, int]:
    lo, hi = _int_attr(node, "act_min", -128, 127), _int_attr(node, "act_max", -128, 127)
    if lo > hi:
        _fail(node, "activation range", "act_min <= act_max", (lo, hi))
    return lo, hi


def _per_channel(node: Node, key: str, channels: int, lo: int, hi: int) -> np.ndarray:
    v = np.asarray(node.attrs[key]).reshape(-1)
    if v.size not in (1, channels) or v.dtype.kind not in "iu":
        _fail(node, f"'{key}' per output channel", f"1 or {channels} integers", v)
    if v.size and (v.min() < lo or v.max() > hi):
        _fail(node, f"'{key}' range", f"[{lo}, {hi}]", (int(v.min()), int(v.max())))
    return np.broadcast_to(v.astype(np.int64), (channels,))


def _quant_check(node: Node, channels: int) -> None:
    _per_channel(node, "multiplier", channels, 0, (1 << 31) - 1)
    _per_channel(node, "shift", channels, -31, 30)


def _quant(node: Node, ctx, channels: int) -> dict:
    mult = _per_channel(node, "multiplier", channels, 0, (1 << 31) - 1)
    shift = _per_channel(node, "shift", channels, -31, 30)
    return {"multiplier": ctx.array(f"{node.name}_multiplier", "int32_t", mult),
            "shift": ctx.array(f"{node.name}_shift", "int32_t", shift)}


def _window(node: Node, dilation: bool = True) -> dict:
    a = node.attrs
    pads = tuple(a["pads"])
    return {"stride": tuple(a["stride"]), "padding": (pads[0], pads[1]),
            "dilation": tuple(a["dilation"]) if dilation else (1, 1)}


# -- convolutions -------------------------------------------------------------------------

def _dense(node: Node, ctx, channels: int, fast_args=None) -> dict:
    """What conv2d, depthwise_conv2d and fully_connected share: offsets, requant, tensors.
    fast_args: a fast kernel's own arrays (filter, bias, rq) replace the generic ones."""
    x, w, b, y = node.inputs[0], node.inputs[1], node.input(2), node.outputs[0]
    packed = ctx.choice(node).weight_format not in ("", "dense", "wide")   # own arrays
    args = {"act": _act(node),
            "input_offset": _int_attr(node, "in_offset", -255, 255),
            "output_offset": _int_attr(node, "out_offset", -255, 255),
            "input_dims": dims4(x.shape), "input": ctx.ptr(x),
            "filter_dims": dims4(w.shape), "output_dims": dims4(y.shape), "output": ctx.ptr(y)}
    if "ort_mult" in node.attrs:      # ONNX Runtime's requantization: the generic kernel
        fast_args = {"fast": False, **_ort_quant(node, ctx, channels), "filter": ctx.ptr(w),
                     "bias": "NULL" if b is None else ctx.ptr(b)}
    if fast_args is None:
        fast_args = {"fast": False, **_quant(node, ctx, channels),
                     "filter": "NULL" if packed else ctx.ptr(w),
                     "bias": "NULL" if b is None or (packed and bias16_fits(node))
                     else ctx.ptr(b)}
    return {**args, "ort": "_ort" if "ort_mult" in node.attrs else "", **fast_args}


def _ort_quant(node: Node, ctx, channels: int) -> dict:
    """ONNX Runtime's float32 output scale ort_mult * 2^ort_exp per channel (runtime/tinyc_ort.h:
    the quant params' multiplier[] and shift[] arrays hold them)."""
    mult = _per_channel(node, "ort_mult", channels, 1 << 23, (1 << 24) - 1)
    exp = _per_channel(node, "ort_exp", channels, -149 - 23, 127 - 23)
    return {"multiplier": ctx.array(f"{node.name}_ort_mult", "int32_t", mult),
            "shift": ctx.array(f"{node.name}_ort_exp", "int32_t", exp)}


def transpose_conv2d_args(node: Node, ctx) -> dict:
    channels = node.inputs[1].shape[0]
    _quant_check(node, channels)
    return {**_dense(node, ctx, channels), "stride": tuple(node.attrs["stride"]),
            "padding": tuple(node.attrs["padding"])}


def _dims5(shape) -> tuple[int, ...]:
    shape = tuple(int(d) for d in shape)
    if len(shape) != 5:
        raise IRError(f"backend_c: shape {shape} is not 5-D")
    return shape


def conv3d_args(node: Node, ctx) -> dict:
    x, w, b, y = node.inputs[0], node.inputs[1], node.input(2), node.outputs[0]
    channels = w.shape[0]
    a = node.attrs
    return {"act": _act(node), "input_offset": _int_attr(node, "in_offset", -255, 255),
            "output_offset": _int_attr(node, "out_offset", -255, 255),
            "stride": tuple(a["stride"]), "padding": tuple(a["pads"][:3]),
            "dilation": tuple(a["dilation"]), **_quant(node, ctx, channels),
            "input_dims": _dims5(x.shape), "input": ctx.ptr(x),
            "filter_dims": _dims5(w.shape), "filter": ctx.ptr(w),
            "bias": "NULL" if b is None else ctx.ptr(b),
            "output_dims": _dims5(y.shape), "output": ctx.ptr(y)}


def pool3d_args(node: Node, ctx) -> dict:
    x, y, a = node.inputs[0], node.outputs[0], node.attrs
    cp = tuple(a.get("count_pads") or (0,) * 6)
    return {"kernel": tuple(a["kernel"]), "stride": tuple(a["stride"]),
            "padding": tuple(a["pads"][:3]), "dilation": tuple(a["dilation"]),
            "count_begin": cp[:3], "count_end": cp[3:],
            "pad_value": _int_attr(node, "pad_value", -128, 127) if node.op == "avg_pool3d"
            else 0, "act": _act(node), "function": f"tinyc_{node.op}_s8",
            "input_dims": _dims5(x.shape), "input": ctx.ptr(x),
            "output_dims": _dims5(y.shape), "output": ctx.ptr(y)}


def batch_matmul_args(node: Node, ctx) -> dict:
    from ..ir.ops.matmul import matmul_dims
    a, b, y = node.inputs[0], node.inputs[1], node.outputs[0]
    adj_x, adj_y = bool(node.attrs.get("adj_x")), bool(node.attrs.get("adj_y"))
    batch, m, k, _, n, _ = matmul_dims(a.shape, b.shape, adj_x, adj_y)
    if len(batch) > 3:
        _fail(node, "batch dims", "at most 3", len(batch))

    def strides(shape) -> tuple[int, ...]:
        lead = (1,) * (len(batch) - (len(shape) - 2)) + tuple(shape[:-2])
        size, out = int(shape[-1]) * int(shape[-2]), []
        for d in reversed(lead):
            out.append(0 if d == 1 else size)
            size *= int(d)
        return (0,) * (3 - len(lead)) + tuple(reversed(out))
    return {"batch": (1,) * (3 - len(batch)) + tuple(int(d) for d in batch),
            "a_batch": strides(a.shape), "b_batch": strides(b.shape), "m": m, "k": k, "n": n,
            "a_m": 1 if adj_x else k, "a_k": m if adj_x else 1,
            "b_k": 1 if adj_y else n, "b_n": k if adj_y else 1,
            "a_offset": _int_attr(node, "a_offset", -255, 255),
            "b_offset": _int_attr(node, "b_offset", -255, 255),
            "out_offset": _int_attr(node, "out_offset", -255, 255),
            "multiplier": _int_attr(node, "multiplier", 0),
            "shift": _int_attr(node, "shift", -31, 30),
            "act": _act16(node) if y.dtype is DType.INT16 else _act(node),
            "a": ctx.ptr(a), "b": ctx.ptr(b), "output": ctx.ptr(y)}


def l2_norm_args(node: Node, ctx) -> dict:
    x, y = node.inputs[0], node.outputs[0]
    row = int(x.shape[-1]) if x.shape else 1
    return {"num_rows": x.type.size // row, "row_size": row,
            "input_offset": _int_attr(node, "in_offset", -255, 255),
            "input": ctx.ptr(x), "output": ctx.ptr(y)}


def l1_norm_args(node: Node, ctx) -> dict:
    x, y = node.inputs[0], node.outputs[0]
    row = int(x.shape[-1]) if x.shape else 1
    return {"num_rows": x.type.size // row, "row_size": row,
            "in_offset": _int_attr(node, "in_offset", -127, 128),
            "out_offset": _int_attr(node, "out_offset", -128, 127),
            "multiplier": _int_attr(node, "multiplier", 0, (1 << 31) - 1),
            "shift": _int_attr(node, "shift", -8, 30),
            "input": ctx.ptr(x), "output": ctx.ptr(y)}


def bias16_fits(node: Node) -> bool:
    """Whether the packed kernels store this layer's bias as int16 (every value fits)."""
    b = node.input(2)
    return b is not None and b.is_const and b.data.size > 0 and \
        -32768 <= int(b.data.min()) and int(b.data.max()) <= 32767


def conv2d_args(node: Node, ctx) -> dict:
    channels = node.inputs[1].shape[0]
    _quant_check(node, channels)
    fast_args = fewch.conv2d(node, ctx) or fast.conv2d(node, ctx)
    return {"fewch": False, **_window(node), **_dense(node, ctx, channels, fast_args)}


def depthwise_args(node: Node, ctx) -> dict:
    x, w = node.inputs[0], node.inputs[1]
    if w.shape[3] % x.shape[3]:
        _fail(node, "depthwise channels", f"a multiple of {x.shape[3]}", w.shape[3])
    _quant_check(node, w.shape[3])
    return {**_window(node), **_dense(node, ctx, w.shape[3], fast.depthwise(node, ctx)),
            "ch_mult": w.shape[3] // x.shape[3]}


def fully_connected_args(node: Node, ctx) -> dict:
    x, w, y = node.inputs[0], node.inputs[1], node.outputs[0]
    _quant_check(node, w.shape[0])
    return {**_dense(node, ctx, w.shape[0], fast.fully_connected(node, ctx)),
            "input_dims": (x.shape[0], 1, 1, x.shape[1]),
            "filter_dims": (w.shape[0], 1, 1, w.shape[1]),
            "output_dims": (y.shape[0], 1, 1, y.shape[1])}


# -- pooling ---------------------------------------------------------------------------------

def pool_args(node: Node, ctx) -> dict:
    x, y = node.inputs[0], node.outputs[0]
    kh, kw = node.attrs["kernel"]
    return {**_window(node, dilation=False), "act": _act(node),
            "input_dims": dims4(x.shape), "input": ctx.ptr(x),
            "filter_dims": (1, kh, kw, 1), "output_dims": dims4(y.shape), "output": ctx.ptr(y)}


# -- elementwise --------------------------------------------------------------------------------

def broadcast_strides(out_shape, in_shapes) -> tuple[tuple, list[tuple]]:
    """4-D iteration space and per-input element strides (0 = broadcast) for numpy broadcasting."""
    r = len(out_shape)
    strides = []
    for shape in in_shapes:
        shape = (1,) * (r - len(shape)) + tuple(shape)
        st = contiguous_strides(shape)
        strides.append([0 if d == 1 else s for d, s in zip(shape, st)])
    return pad4(*collapse(list(out_shape), strides))


def _binary(node: Node, ctx) -> dict:
    a, b, y = node.inputs[0], node.inputs[1], node.outputs[0]
    dims, (s1, s2) = broadcast_strides(y.shape, [a.shape, b.shape])
    return {"in1_strides": s1, "in1": ctx.ptr(a), "in2_strides": s2, "in2": ctx.ptr(b),
            "output_dims": dims, "output": ctx.ptr(y), "act": _act(node),
            "in1_offset": _int_attr(node, "in1_offset", -255, 255),
            "in2_offset": _int_attr(node, "in2_offset", -255, 255),
            "out_multiplier": _int_attr(node, "out_mult", 0),
            "out_shift": _int_attr(node, "out_shift", -31, 30),
            "out_offset": _int_attr(node, "out_offset", -255, 255)}


def add_args(node: Node, ctx) -> dict:
    args = {**_binary(node, ctx), "left_shift": _int_attr(node, "left_shift", 0, 30),
            "in1_multiplier": _int_attr(node, "in1_mult", 0),
            "in1_shift": _int_attr(node, "in1_shift", -31, 30),
            "in2_multiplier": _int_attr(node, "in2_mult", 0),
            "in2_shift": _int_attr(node, "in2_shift", -31, 30)}
    return {**args, **fast.add(node, ctx)}


_PARAMS = {"in1_offset": ("in1_offset", -255, 255), "in2_offset": ("in2_offset", -255, 255),
           "left_shift": ("left_shift", 0, 30),
           "in1_multiplier": ("in1_mult", 0, (1 << 31) - 1), "in1_shift": ("in1_shift", -31, 30),
           "in2_multiplier": ("in2_mult", 0, (1 << 31) - 1), "in2_shift": ("in2_shift", -31, 30),
           "out_multiplier": ("out_mult", 0, (1 << 31) - 1), "out_shift": ("out_shift", -31, 30),
           "out_offset": ("out_offset", -255, 255)}


def binary_args(node: Node, ctx) -> dict:
    """runtime/tinyc_binary.h: sub, squared_difference, prelu (tinyc_add_params: the fields
    the op's OpDef.int_attrs name), minimum, maximum (no parameters)."""
    a, b, y = node.inputs[0], node.inputs[1], node.outputs[0]
    dims, (s1, s2) = broadcast_strides(y.shape, [a.shape, b.shape])
    attrs = OPS[node.op].int_attrs
    params = [(k, _int_attr(node, key, lo, hi)) for k, (key, lo, hi) in _PARAMS.items()
              if key in attrs]
    return {"function": f"tinyc_{node.op}_s8", "params": params,
            "act": _act(node) if params else (-128, 127),
            "in1_strides": s1, "in1": ctx.ptr(a), "in2_strides": s2, "in2": ctx.ptr(b),
            "output_dims": dims, "output": ctx.ptr(y)}


def lut_args(node: Node, ctx) -> dict:
    table = np.asarray(node.attrs["table"]).reshape(-1)
    if table.size != 256 or table.min() < -128 or table.max() > 127:
        _fail(node, "lut table", "256 int8 values", f"{table.size} values")
    x, y = node.inputs[0], node.outputs[0]
    return {"table": ctx.array(f"{node.name}_table", "int8_t", table),
            "size": x.type.size, "input": ctx.ptr(x), "output": ctx.ptr(y)}


def softmax_args(node: Node, ctx) -> dict:
    x, y = node.inputs[0], node.outputs[0]
    row = x.shape[-1]
    return {"input_multiplier": _int_attr(node, "input_multiplier", 0),
            "input_left_shift": _int_attr(node, "input_left_shift", 0, 31),
            "diff_min": _int_attr(node, "diff_min"),
            "num_rows": x.type.size // row, "row_size": row,
            "input": ctx.ptr(x), "output": ctx.ptr(y)}


def softmax8_16_args(node: Node, ctx) -> dict:
    return {**softmax_args(node, ctx), "output": _ptr16(ctx, node.outputs[0])}


def log_softmax_args(node: Node, ctx) -> dict:
    return {**softmax_args(node, ctx),
            "reverse_multiplier": _int_attr(node, "reverse_multiplier", 0),
            "reverse_shift": _int_attr(node, "reverse_shift", -31, 0)}


def layer_norm_args(node: Node, ctx) -> dict:
    x, y = node.inputs[0], node.outputs[0]
    n = x.shape[-1]
    arrays = {k: _per_channel(node, k, n, lo, hi) for k, lo, hi in (
        ("multiplier", -(1 << 31) + 1, (1 << 31) - 1), ("shift", -31, 30),
        ("bias", -(1 << 30), 1 << 30))}
    return {"in_offset": _int_attr(node, "in_offset", -127, 128),
            "out_offset": _int_attr(node, "out_offset", -128, 127),
            "eps_q": int(node.attrs["eps_q"]),
            **{k: ctx.array(f"{node.name}_{k}", "int32_t", v) for k, v in arrays.items()},
            "num_rows": x.type.size // n, "row_size": n,
            "input": ctx.ptr(x), "output": ctx.ptr(y)}
def svdf_args(node: Node, ctx) -> dict:
    """SVDF on a fresh state (ir/ops/svdf.py): only the newest column of weights_time is
    stored; the older columns meet the reset state, which equals the state zero point."""
    x, wf, wt, b = node.inputs[0], node.inputs[1], node.inputs[2], node.input(3)
    y = node.outputs[0]
    rank = _int_attr(node, "rank", 1)
    state_offset, reset = _int_attr(node, "state_offset"), _int_attr(node, "reset")
    lo, hi = {DType.INT16: (-32768, 32767), DType.INT8: (-128, 127)}.get(wt.dtype, (0, -1))
    if lo > hi or reset != state_offset or (wt.dtype is DType.INT16 and state_offset != 0):
        _fail(node, "weights_time / state", "int16 with zero point 0 or int8, reset value = "
              "state zero point", (wt.type, state_offset, reset))
    return {"n_batch": x.shape[0], "n_input": x.shape[1], "n_unit": y.shape[1], "rank": rank,
            "in_offset": _int_attr(node, "in_offset"), "state_offset": state_offset,
            "mult1": _int_attr(node, "mult1", 0), "shift1": _int_attr(node, "shift1", -31, 30),
            "mult2": _int_attr(node, "mult2", 0), "shift2": _int_attr(node, "shift2", -31, 30),
            "out_offset": _int_attr(node, "out_offset", -128, 127),
            "input": ctx.ptr(x), "weights_feature": ctx.ptr(wf), "output": ctx.ptr(y),
            "time_last": ctx.array(f"{node.name}_time_last", "int16_t",
                                   wt.data[:, -1].astype(np.int16)),
            "state_min": lo, "state_max": hi,
            "bias": ctx.ptr(b) if b is not None else "NULL"}


# -- data movement ------------------------------------------------------------------------------

def reshape_args(node: Node, ctx) -> dict:
    x, y = node.inputs[0], node.outputs[0]
    return {"input": ctx.ptr(x), "output": ctx.ptr(y), "size": x.type.nbytes}


def _strided_copy(node: Node, ctx, strides, offset: int = 0) -> dict:
    """tinyc_transpose_s8's arguments: output element i = input[offset + sum(i_k * strides_k)]
    (transpose, slice)."""
    x, y = node.inputs[0], node.outputs[0]
    shape, (st,) = collapse(list(y.shape), [list(strides)])
    outer = {}
    if len(shape) == 5:             # rank 5: a loop over the outermost axis
        outer = {"outer": {"count": shape[0], "in_stride": st[0],
                           "out_stride": int(np.prod(shape[1:], dtype=np.int64))}}
        shape, st = shape[1:], st[1:]
    dims, (st,) = pad4(shape, [st])
    return {"in_strides": st, "input": ctx.ptr(x, offset), "output_dims": dims,
            "output": ctx.ptr(y), **outer}


def transpose_args(node: Node, ctx) -> dict:
    x = node.inputs[0]
    perm = [p % len(x.shape) for p in node.attrs["perm"]]
    in_strides = contiguous_strides(x.shape)
    return _strided_copy(node, ctx, [in_strides[p] for p in perm])


def slice_args(node: Node, ctx) -> dict:
    x = node.inputs[0]
    a, cs = node.attrs, contiguous_strides(x.shape)
    offset = sum(int(b) * s for b, s in zip(a["begin"], cs))
    return _strided_copy(node, ctx, [int(st) * s for st, s in zip(a["strides"], cs)], offset)


def gather_args(node: Node, ctx) -> dict:
    x, y, a = node.inputs[0], node.outputs[0], node.attrs
    ax = a["axis"]
    idx = np.asarray(a["indices"], np.int64).reshape(-1)
    return {"outer": int(np.prod(x.shape[:ax], dtype=np.int64)), "axis_len": x.shape[ax],
            "inner": int(np.prod(x.shape[ax + 1:], dtype=np.int64)), "count": idx.size,
            "indices": ctx.array(f"{node.name}_indices", "int32_t", idx),
            "input": ctx.ptr(x), "output": ctx.ptr(y)}


def resize_nearest_args(node: Node, ctx) -> dict:
    x, y, a = node.inputs[0], node.outputs[0], node.attrs
    return {"input_dims": dims4(x.shape), "out_h": y.shape[1], "out_w": y.shape[2],
            **{k: ctx.array(f"{node.name}_{k}", "int32_t", np.asarray(a[k], np.int64))
               for k in ("h_index", "w_index")},
            "input": ctx.ptr(x), "output": ctx.ptr(y)}


def resize_bilinear_args(node: Node, ctx) -> dict:
    x, y, a = node.inputs[0], node.outputs[0], node.attrs
    coords = {k: np.stack(bilinear_int_coords(x.shape[i], y.shape[i], a["align_corners"],
                                              a["half_pixel_centers"]), axis=1)
              for k, i in (("rows", 1), ("cols", 2))}
    return {"input_dims": dims4(x.shape), "out_h": y.shape[1], "out_w": y.shape[2],
            **{k: ctx.array(f"{node.name}_{k}", "int32_t", v.reshape(-1))
               for k, v in coords.items()},
            "input": ctx.ptr(x), "output": ctx.ptr(y)}


def resize_args(node: Node, ctx) -> dict:
    """ONNX's general resize: the per-axis tap tables with their Q16 integer weights."""
    from ..ir.ops.resize import int_weights
    x, y, a = node.inputs[0], node.outputs[0], node.attrs
    tables = {}
    for key in ("h", "w"):
        k = int(a[f"k{key}"])
        tables[f"{key}_index"] = ctx.array(f"{node.name}_{key}_index", "int32_t",
                                           np.asarray(a[f"{key}_index"], np.int64))
        tables[f"{key}_weight"] = ctx.array(f"{node.name}_{key}_weight", "int32_t",
                                            int_weights(a[f"{key}_weight"], k).reshape(-1))
    return {"input_dims": dims4(x.shape), "out_h": y.shape[1], "out_w": y.shape[2],
            "kh": int(a["kh"]), "kw": int(a["kw"]), **tables,
            "in_offset": _int_attr(node, "in_offset", -127, 128),
            "out_offset": _int_attr(node, "out_offset", -128, 127),
            "multiplier": _int_attr(node, "multiplier", 0, (1 << 31) - 1),
            "shift": _int_attr(node, "shift", -31, 30),
            "extrapolation": _int_attr(node, "extrapolation_q", -128, 127),
            "input": ctx.ptr(x), "output": ctx.ptr(y)}


def reduce_args(node: Node, ctx) -> dict:
    x, y = node.inputs[0], node.outputs[0]
    axes, cs = reduce_axes(node, len(x.shape)), contiguous_strides(x.shape)
    kept = [i for i in range(len(x.shape)) if i not in axes]
    out_dims, (out_st,) = pad4(*collapse([x.shape[i] for i in kept], [[cs[i] for i in kept]]))
    red_dims, (red_st,) = pad4(*collapse([x.shape[i] for i in axes], [[cs[i] for i in axes]]))
    maxed = node.op == "reduce_max"
    q = dict.fromkeys(REDUCE_INT_ATTRS, 0) if maxed else {
        "in_offset": _int_attr(node, "in_offset", -255, 255),
        "multiplier": _int_attr(node, "multiplier", 0),
        "shift": _int_attr(node, "shift", -31, 30),
        "out_offset": _int_attr(node, "out_offset", -255, 255)}
    return {"function": "tinyc_reduce_max_s8" if maxed else "tinyc_reduce_sum_s8",
            "out_dims": out_dims, "out_strides": out_st, "red_dims": red_dims,
            "red_strides": red_st, **q, "input": ctx.ptr(x), "output": ctx.ptr(y)}


def pad_args(node: Node, ctx) -> dict:
    x, y = node.inputs[0], node.outputs[0]
    pads = tuple(node.attrs["pads"])
    r = len(x.shape)
    if len(pads) != 2 * r or min(pads) < 0:
        _fail(node, "pads", f"{2 * r} non-negative ints", pads)
    if r > 4:
        _fail(node, "pad rank", "<= 4", r)
    before = (0,) * (4 - r) + pads[:r]
    return {"before": before, "input_dims": dims4(x.shape),
            "input": ctx.ptr(x), "output_dims": dims4(y.shape), "output": ctx.ptr(y),
            "pad_value": _int_attr(node, "pad_value", -128, 127)}


def concat_args(node: Node, ctx) -> dict:
    y = node.outputs[0]
    axis = node.attrs["axis"] % len(y.shape)
    outer = int(np.prod(y.shape[:axis], dtype=np.int64))
    out_stride = int(np.prod(y.shape[axis:], dtype=np.int64))
    parts, offset = [], 0
    for x in node.inputs:
        block = int(np.prod(x.shape[axis:], dtype=np.int64))
        parts.append({"num_blocks": outer, "block_size": block, "out_stride": out_stride,
                      "input": ctx.ptr(x), "output": ctx.ptr(y, offset), "name": x.name})
        offset += block
    return {"parts": parts}


def lstm_scratch(node: Node) -> int:
    """runtime/tinyc_lstm.h: gates and cell state (int16), hidden state (int8 or int16)."""
    return (5 * 2 + node.outputs[0].dtype.itemsize) * node.inputs[1].shape[0]


def lstm_args(node: Node, ctx, peephole: bool = False) -> dict:
    from ..ir.ops.lstm import SIGMOID_TABLE_U16
    x, y, a = node.inputs[0], node.outputs[0], node.attrs
    if not peephole and a.get("peep_w") is not None:
        _fail(node, "peephole weights", "none (the int8 kernel lstm.peephole has them)",
              "peep_w")
    wide = y.dtype is DType.INT16
    if x.dtype is not y.dtype or y.dtype not in (DType.INT8, DType.INT16):
        _fail(node, "activations", "int8 or int16 (16x8) input and output", (x.dtype, y.dtype))
    bias_type = DType.INT64 if wide else DType.INT32
    if any(node.input(k) is None or node.input(k).dtype is not bias_type
           for k in range(9, 13)):
        _fail(node, "gate biases", f"4 {bias_type.value} biases", "other")
    off = ctx.scratch_offset(node)
    if off is None:
        _fail(node, "arena scratch", f"{lstm_scratch(node)} B", "none planned")
    tm = bool(a["time_major"])
    steps, batches = (x.shape[0], x.shape[1]) if tm else (x.shape[1], x.shape[0])
    quad = {k: tuple(int(v) for v in a[k])
            for k in ("in_mult", "in_shift", "rec_mult", "rec_shift")}
    ints = {k: _int_attr(node, k) for k in ("fc_mult", "fc_shift", "ic_mult", "ic_shift",
                                              "h_mult", "h_shift", "tanh_mult", "tanh_shift")}
    return {"batches": batches, "steps": steps, "features": x.shape[2],
            "hidden": y.shape[2], "time_major": int(tm),
            "in_offset": _int_attr(node, "in_offset", -255, 255),
            "h_offset": _int_attr(node, "h_offset", -255, 255),
            "h_zp": _int_attr(node, "h_zp", *((0, 0) if wide else (-128, 127))), **quad, **ints,
            "cell_clip": _int_attr(node, "cell_clip_q", -1, 32767),
            "in_weights": [ctx.ptr(node.inputs[k]) for k in range(1, 5)],
            "rec_weights": [ctx.ptr(node.inputs[k]) for k in range(5, 9)],
            "biases": [ctx.ptr(node.inputs[k]) for k in range(9, 13)],
            "table": ctx.array("lstm_sigmoid_table", "uint16_t", SIGMOID_TABLE_U16),
            "scratch": f"(int16_t *)(void *)(TINYC_ARENA + {off})",
            "input": _ptr16(ctx, x), "output": _ptr16(ctx, y)}


def gru_scratch(node: Node) -> int:
    """runtime/tinyc_gru.h: hidden state, z, r, r * h, candidate (int16 each)."""
    return 10 * node.inputs[1].shape[0]


def gru_args(node: Node, ctx) -> dict:
    from ..ir.ops.lstm import SIGMOID_TABLE_U16
    x, y, a = node.inputs[0], node.outputs[0], node.attrs
    if x.dtype is not DType.INT8 or y.dtype is not DType.INT8:
        _fail(node, "activations", "int8 input and output", (x.dtype, y.dtype))
    if any(node.input(k) is None or node.input(k).dtype is not DType.INT32
           for k in range(7, 10)):
        _fail(node, "gate biases", "3 int32 biases", "other")
    off = ctx.scratch_offset(node)
    if off is None:
        _fail(node, "arena scratch", f"{gru_scratch(node)} B", "none planned")
    tm = bool(a["time_major"])
    steps, batches = (x.shape[0], x.shape[1]) if tm else (x.shape[1], x.shape[0])
    hid = y.shape[2]
    rbh = _per_channel(node, "rbh_q", hid, -(1 << 30), 1 << 30)
    return {"batches": batches, "steps": steps, "features": x.shape[2], "hidden": hid,
            "time_major": int(tm), "linear_before_reset": int(bool(a["linear_before_reset"])),
            "in_offset": _int_attr(node, "in_offset", -255, 255),
            **{k: tuple(int(v) for v in a[k]) for k in ("in_mult", "in_shift", "rec_mult",
                                                         "rec_shift")},
            "y_mult": _int_attr(node, "y_mult", 0), "y_shift": _int_attr(node, "y_shift", -31, 30),
            "y_zp": _int_attr(node, "y_zp", -128, 127),
            "in_weights": [ctx.ptr(node.inputs[k]) for k in range(1, 4)],
            "rec_weights": [ctx.ptr(node.inputs[k]) for k in range(4, 7)],
            "biases": [ctx.ptr(node.inputs[k]) for k in range(7, 10)],
            "rbh": ctx.array(f"{node.name}_rbh", "int32_t", rbh),
            "table": ctx.array("lstm_sigmoid_table", "uint16_t", SIGMOID_TABLE_U16),
            "scratch": f"(int16_t *)(void *)(TINYC_ARENA + {off})",
            "input": ctx.ptr(x), "output": ctx.ptr(y)}


# -- 16x8: int16 activations, int8 weights, int64 bias (runtime/tinyc_nn_s16.h) ---------------

ACT16 = (-32768, 32767)


def s16_key(node: Node) -> str | None:
    """'<op>.s16' for a layer with int16 activations (requantize and reshape handle both)."""
    if node.op in ("requantize", "reshape"):
        return None
    acts = [v for v in (*node.inputs, *node.outputs) if v is not None and not v.is_const]
    return f"{node.op}.s16" if any(v.dtype is DType.INT16 for v in acts) else None


def _ptr16(ctx, v) -> str:
    """An int16 tensor's C pointer (arena slots are int8_t *; plans align them to 4 bytes)."""
    p = ctx.ptr(v)
    return p if v.is_const or v.dtype is not DType.INT16 else f"(int16_t *)(void *)({p})"


def _act16(node: Node) -> tuple[int, int]:
    lo, hi = _int_attr(node, "act_min", *ACT16), _int_attr(node, "act_max", *ACT16)
    if lo > hi:
        _fail(node, "activation range", "act_min <= act_max", (lo, hi))
    return lo, hi


def _dense16(node: Node, ctx, channels: int, filter: bool = True) -> dict:
    x, w, b, y = node.inputs[0], node.inputs[1], node.input(2), node.outputs[0]
    for key in ("in_offset", "out_offset"):
        _int_attr(node, key, 0, 0)
    mult = _per_channel(node, "multiplier", channels, 0, (1 << 31) - 1)
    shift = _per_channel(node, "shift", channels, -31, 7)
    return {"act": _act16(node), "input_dims": dims4(x.shape), "input": _ptr16(ctx, x),
            "filter_dims": dims4(w.shape), "filter": ctx.ptr(w) if filter else "NULL",
            "bias": ctx.ptr(b) if b is not None else "NULL",
            "output_dims": dims4(y.shape), "output": _ptr16(ctx, y),
            "multiplier": ctx.array(f"{node.name}_multiplier", "int32_t", mult),
            "shift": ctx.array(f"{node.name}_shift", "int32_t", shift)}


def conv2d_s16_args(node: Node, ctx) -> dict:
    fast16 = ctx.choice(node).fast                  # fast_s16: its own filter layout
    args = {**_window(node), **_dense16(node, ctx, node.inputs[1].shape[0], not fast16),
            "fast": False}
    return fast_s16.args(node, ctx, args) if fast16 else args


def depthwise_s16_args(node: Node, ctx) -> dict:
    x, w = node.inputs[0], node.inputs[1]
    if w.shape[3] % x.shape[3]:
        _fail(node, "depthwise channels", f"a multiple of {x.shape[3]}", w.shape[3])
    fast16 = ctx.choice(node).fast
    args = {**_window(node), **_dense16(node, ctx, w.shape[3], not fast16),
            "ch_mult": w.shape[3] // x.shape[3], "fast": False}
    return fast_s16.args(node, ctx, args) if fast16 else args


def fully_connected_s16_args(node: Node, ctx) -> dict:
    x, w, y = node.inputs[0], node.inputs[1], node.outputs[0]
    return {**_dense16(node, ctx, w.shape[0]), "input_dims": (x.shape[0], 1, 1, x.shape[1]),
            "filter_dims": (w.shape[0], 1, 1, w.shape[1]),
            "output_dims": (y.shape[0], 1, 1, y.shape[1])}


def transpose_conv2d_s16_args(node: Node, ctx) -> dict:
    return {**_dense16(node, ctx, node.inputs[1].shape[0]),
            "stride": tuple(node.attrs["stride"]), "padding": tuple(node.attrs["padding"])}


def add_s16_args(node: Node, ctx) -> dict:
    a, b, y = node.inputs[0], node.inputs[1], node.outputs[0]
    dims, (s1, s2) = broadcast_strides(y.shape, [a.shape, b.shape])
    return {"in1_strides": s1, "in1": _ptr16(ctx, a), "in2_strides": s2, "in2": _ptr16(ctx, b),
            "output_dims": dims, "output": _ptr16(ctx, y), "act": _act16(node),
            **{k: _int_attr(node, k, 0, 0) for k in ("in1_offset", "in2_offset")},
            "out_offset": _int_attr(node, "out_offset", 0, 0),
            "left_shift": _int_attr(node, "left_shift", 0, 15),
            "in1_multiplier": _int_attr(node, "in1_mult", 0),
            "in1_shift": _int_attr(node, "in1_shift", -31, 30),
            "in2_multiplier": _int_attr(node, "in2_mult", 0),
            "in2_shift": _int_attr(node, "in2_shift", -31, 30),
            "out_multiplier": _int_attr(node, "out_mult", 0),
            "out_shift": _int_attr(node, "out_shift", -31, 30)}


def pool_s16_args(node: Node, ctx) -> dict:
    x, y = node.inputs[0], node.outputs[0]
    kh, kw = node.attrs["kernel"]
    return {**_window(node, dilation=False), "act": _act16(node),
            "input_dims": dims4(x.shape), "input": _ptr16(ctx, x),
            "filter_dims": (1, kh, kw, 1), "output_dims": dims4(y.shape),
            "output": _ptr16(ctx, y)}


def _moved16(args: dict, node: Node, ctx, offset: int = 0) -> dict:
    """tinyc_transpose_s16's arguments: _strided_copy's, with int16 pointers (strides and
    offset in elements)."""
    x, y = node.inputs[0], node.outputs[0]
    base = f"(const int16_t *)(const void *)({ctx.ptr(x)})"
    return {**args, "input": f"{base} + {offset}" if offset else base,
            "output": _ptr16(ctx, y)}


def transpose_s16_args(node: Node, ctx) -> dict:
    return _moved16(transpose_args(node, ctx), node, ctx)


def slice_s16_args(node: Node, ctx) -> dict:
    x, a = node.inputs[0], node.attrs
    offset = sum(int(b) * s for b, s in zip(a["begin"], contiguous_strides(x.shape)))
    return _moved16(slice_args(node, ctx), node, ctx, offset)


def concat_s16_args(node: Node, ctx) -> dict:
    """tinyc_concat_s8 copies bytes: the int16 blocks in bytes (2 per element)."""
    y = node.outputs[0]
    axis = node.attrs["axis"] % len(y.shape)
    outer = int(np.prod(y.shape[:axis], dtype=np.int64))
    out_stride = 2 * int(np.prod(y.shape[axis:], dtype=np.int64))
    parts, offset = [], 0
    for x in node.inputs:
        block = 2 * int(np.prod(x.shape[axis:], dtype=np.int64))
        parts.append({"num_blocks": outer, "block_size": block, "out_stride": out_stride,
                      "input": f"(const int8_t *)(const void *)({ctx.ptr(x)})",
                      "output": f"(int8_t *)(void *)({ctx.ptr(y)}) + {offset}",
                      "name": x.name})
        offset += block
    return {"parts": parts}


def pad_s16_args(node: Node, ctx) -> dict:
    x, y = node.inputs[0], node.outputs[0]
    pads = tuple(node.attrs["pads"])
    r = len(x.shape)
    if len(pads) != 2 * r or min(pads) < 0:
        _fail(node, "pads", f"{2 * r} non-negative ints", pads)
    if r > 4:
        _fail(node, "pad rank", "<= 4", r)
    return {"before": (0,) * (4 - r) + pads[:r], "input_dims": dims4(x.shape),
            "input": _ptr16(ctx, x), "output_dims": dims4(y.shape), "output": _ptr16(ctx, y),
            "pad_value": _int_attr(node, "pad_value", -32768, 32767)}


def resize_nearest_s16_args(node: Node, ctx) -> dict:
    """tinyc_resize_nearest_s8 copies whole pixels (c bytes): an int16 pixel is 2c bytes."""
    x, y = node.inputs[0], node.outputs[0]
    n, h, w, c = dims4(x.shape)
    return {**resize_nearest_args(node, ctx), "input_dims": (n, h, w, 2 * c),
            "input": f"(const int8_t *)(const void *)({ctx.ptr(x)})",
            "output": f"(int8_t *)(void *)({ctx.ptr(y)})"}


def minmax_s16_args(node: Node, ctx) -> dict:
    a, b, y = node.inputs[0], node.inputs[1], node.outputs[0]
    dims, (s1, s2) = broadcast_strides(y.shape, [a.shape, b.shape])
    return {"function": f"tinyc_{node.op}_s16", "in1_strides": s1, "in1": _ptr16(ctx, a),
            "in2_strides": s2, "in2": _ptr16(ctx, b), "output_dims": dims,
            "output": _ptr16(ctx, y)}


def requantize_args(node: Node, ctx) -> dict:
    x, y = node.inputs[0], node.outputs[0]
    pair = (x.dtype, y.dtype)
    fns = {(DType.INT8, DType.INT16): "tinyc_requantize_s8_s16",
           (DType.INT16, DType.INT8): "tinyc_requantize_s16_s8",
           (DType.INT16, DType.INT16): "tinyc_requantize_s16_s16"}
    if pair not in fns:
        _fail(node, "conversion", "int8 -> int16, int16 -> int8 or int16 -> int16", pair)
    fn = fns[pair]
    return {"function": fn, "size": x.type.size, "input": _ptr16(ctx, x),
            "output": _ptr16(ctx, y),
            "input_offset": _int_attr(node, "in_offset", -255, 255),
            "output_offset": _int_attr(node, "out_offset", -255, 255),
            "multiplier": _int_attr(node, "multiplier", 0),
            "shift": _int_attr(node, "shift", -31, 30)}


def leaky_requantize_s16_args(node: Node, ctx) -> dict:
    x, y = node.inputs[0], node.outputs[0]
    return {"size": x.type.size, "input": _ptr16(ctx, x), "output": _ptr16(ctx, y),
            "mult_pos": _int_attr(node, "mult_pos", 0),
            "shift_pos": _int_attr(node, "shift_pos", -31, 30),
            "mult_neg": _int_attr(node, "mult_neg", 0),
            "shift_neg": _int_attr(node, "shift_neg", -31, 30)}


def logistic16_args(node: Node, ctx) -> dict:
    from ..ir.ops.lstm import SIGMOID_TABLE_U16
    x, y = node.inputs[0], node.outputs[0]
    return {"function": "tinyc_logistic_s16", "size": x.type.size,
            "input": _ptr16(ctx, x), "output": _ptr16(ctx, y),
            "mult": _int_attr(node, "in_mult", 1, 32767),
            "shift": _int_attr(node, "in_shift", 0, 31),
            "table": ctx.array("lstm_sigmoid_table", "uint16_t", SIGMOID_TABLE_U16)}


def tanh16_args(node: Node, ctx) -> dict:
    return {**logistic16_args(node, ctx), "function": "tinyc_tanh_s16"}


def softmax16_args(node: Node, ctx) -> dict:
    from ..ir.ops.softmax16 import EXP_LUT, ONE_OVER_1PX_LUT
    x, y = node.inputs[0], node.outputs[0]
    depth = x.shape[-1]
    return {"rows": x.type.size // depth, "depth": depth,
            "input": _ptr16(ctx, x), "output": _ptr16(ctx, y),
            "mult": _int_attr(node, "input_multiplier", 0),
            "shift": _int_attr(node, "input_left_shift", -31, 30),
            "exp_lut": ctx.array("softmax16_exp_lut", "int16_t", EXP_LUT),
            "recip_lut": ctx.array("softmax16_one_over_one_plus_x_lut", "int16_t",
                                   ONE_OVER_1PX_LUT)}


def rsqrt16_args(node: Node, ctx) -> dict:
    x, y = node.inputs[0], node.outputs[0]
    return {"size": x.type.size, "input": _ptr16(ctx, x), "output": _ptr16(ctx, y),
            "mult": _int_attr(node, "out_mult", 0),
            "shift": _int_attr(node, "out_shift", -31, 30)}


def mul_s16_args(node: Node, ctx) -> dict:
    a, b, y = node.inputs[0], node.inputs[1], node.outputs[0]
    dims, (s1, s2) = broadcast_strides(y.shape, [a.shape, b.shape])
    return {"in1_strides": s1, "in1": _ptr16(ctx, a), "in2_strides": s2, "in2": _ptr16(ctx, b),
            "output_dims": dims, "output": _ptr16(ctx, y), "act": _act16(node),
            **{k: _int_attr(node, k, 0, 0) for k in ("in1_offset", "in2_offset", "out_offset")},
            "out_multiplier": _int_attr(node, "out_mult", 0),
            "out_shift": _int_attr(node, "out_shift", -31, 30)}


def reduce_s16_args(node: Node, ctx) -> dict:
    x, y = node.inputs[0], node.outputs[0]
    return {**reduce_args(node, ctx), "function": "tinyc_reduce_sum_s16",
            "input": _ptr16(ctx, x), "output": _ptr16(ctx, y)}


def prelu_s16_args(node: Node, ctx) -> dict:
    a, b, y = node.inputs[0], node.inputs[1], node.outputs[0]
    dims, (s1, s2) = broadcast_strides(y.shape, [a.shape, b.shape])
    return {"in1_strides": s1, "in1": _ptr16(ctx, a), "in2_strides": s2, "in2": ctx.ptr(b),
            "output_dims": dims, "output": _ptr16(ctx, y), "act": _act16(node),
            **{k: _int_attr(node, k, 0, 0) for k in ("in1_offset", "out_offset")},
            "in2_offset": _int_attr(node, "in2_offset", -255, 255),
            "in1_multiplier": _int_attr(node, "in1_mult", 0),
            "in1_shift": _int_attr(node, "in1_shift", -31, 30),
            "out_multiplier": _int_attr(node, "out_mult", 0),
            "out_shift": _int_attr(node, "out_shift", -31, 30)}


def batch_matmul_s16_args(node: Node, ctx) -> dict:
    a, b, y = node.inputs[0], node.inputs[1], node.outputs[0]
    return {**batch_matmul_args(node, ctx), "a": _ptr16(ctx, a),
            "b": _ptr16(ctx, b), "output": _ptr16(ctx, y)}


_S16 = ("tinyc_nn_s16.h",)
KERNELS_S16: dict[str, Kernel] = {
    f"{CONV2D}.s16": Kernel("call_conv2d_s16.c.j2", _S16 + ("tinyc_conv2d_s16.c", "tinyc_window.h",
                                                         "tinyc_conv2d_fast_s16.c"),
                         conv2d_s16_args),
    f"{DEPTHWISE_CONV2D}.s16": Kernel("call_depthwise_conv2d_s16.c.j2",
                                   _S16 + ("tinyc_depthwise_conv2d_s16.c", "tinyc_window.h",
                                           "tinyc_depthwise_conv2d_fast_s16.c"),
                                   depthwise_s16_args),
    f"{FULLY_CONNECTED}.s16": Kernel("call_fully_connected_s16.c.j2",
                                  _S16 + ("tinyc_fully_connected_s16.c",),
                                  fully_connected_s16_args),
    "add.s16": Kernel("call_add_s16.c.j2", _S16 + ("tinyc_add_s16.c",), add_s16_args),
    "avg_pool2d.s16": Kernel("call_avg_pool2d_s16.c.j2",
                             _S16 + ("tinyc_avg_pool2d_s16.c", "tinyc_window.h"), pool_s16_args),
    "max_pool2d.s16": Kernel("call_max_pool2d_s16.c.j2",
                             _S16 + ("tinyc_max_pool2d_s16.c", "tinyc_window.h"), pool_s16_args),
    "requantize": Kernel("call_requantize_s16.c.j2", _S16 + ("tinyc_requantize_s16.c",),
                         requantize_args),
    "lstm.s16": Kernel("call_lstm_s16.c.j2", _S16 + ("tinyc_lstm.h", "tinyc_lstm_s16.c"),
                       lstm_args, lstm_scratch),
    "transpose.s16": Kernel("call_transpose_s16.c.j2",
                            ("tinyc_move_s16.h", "tinyc_transpose_s16.c"), transpose_s16_args),
    "slice.s16": Kernel("call_transpose_s16.c.j2",
                        ("tinyc_move_s16.h", "tinyc_transpose_s16.c"), slice_s16_args),
    "concat.s16": Kernel("call_concat.c.j2", ("tinyc_concat_s8.c",), concat_s16_args),
    "pad.s16": Kernel("call_pad_s16.c.j2", ("tinyc_move_s16.h", "tinyc_pad_s16.c"),
                      pad_s16_args),
    "resize_nearest.s16": Kernel("call_resize_nearest.c.j2",
                                 ("tinyc_nn_move.h", "tinyc_resize_nearest_s8.c"),
                                 resize_nearest_s16_args),
    **{f"{op}.s16": Kernel("call_minmax_s16.c.j2", ("tinyc_move_s16.h", "tinyc_minmax_s16.c"),
                           minmax_s16_args) for op in ("minimum", "maximum")},
    "leaky_requantize.s16": Kernel("call_leaky_requantize_s16.c.j2",
                                   _S16 + ("tinyc_leaky_requantize_s16.c",),
                                   leaky_requantize_s16_args),
    "sub.s16": Kernel("call_sub_s16.c.j2", _S16 + ("tinyc_sub_s16.c",), add_s16_args),
    "mul.s16": Kernel("call_mul_s16.c.j2", _S16 + ("tinyc_mul_s16.c",), mul_s16_args),
    "squared_difference.s16": Kernel("call_squared_difference_s16.c.j2",
                                     _S16 + ("tinyc_squared_difference_s16.c",), add_s16_args),
    **{f"{op}.s16": Kernel("call_reduce.c.j2", ("tinyc_nn_move.h", "tinyc_nn_s16.h",
                                                  "tinyc_reduce_s16.h", "tinyc_reduce_s16.c"),
                           reduce_s16_args) for op in ("mean", "sum")},
    "prelu.s16": Kernel("call_prelu_s16.c.j2", _S16 + ("tinyc_prelu_s16.c",), prelu_s16_args),
    "batch_matmul.s16": Kernel("call_batch_matmul_s16.c.j2",
                               _S16 + ("tinyc_batch_matmul.h", "tinyc_batch_matmul_s16.h",
                                       "tinyc_batch_matmul_s16.c"), batch_matmul_s16_args),
    "logistic16.s16": Kernel("call_logistic_s16.c.j2",
                             _S16 + ("tinyc_lstm.h", "tinyc_logistic_s16.c"), logistic16_args),
    "tanh16.s16": Kernel("call_logistic_s16.c.j2",
                         _S16 + ("tinyc_lstm.h", "tinyc_logistic_s16.c"), tanh16_args),
    "softmax16.s16": Kernel("call_softmax_s16.c.j2", _S16 + ("tinyc_softmax_s16.c",),
                            softmax16_args),
    "rsqrt16.s16": Kernel("call_rsqrt_s16.c.j2", _S16 + ("tinyc_rsqrt_s16.c",),
                          rsqrt16_args),
    "softmax8_16.s16": Kernel("call_softmax_s8_s16.c.j2", ("tinyc_softmax_s8.c",),
                              softmax8_16_args),
}


_WIN = ("tinyc_window.h",)
_FAST = ("tinyc_fast.h", "tinyc_clamp_s8.c")

KERNELS: dict[str, Kernel] = {
    CONV2D: Kernel("call_conv2d.c.j2", ("tinyc_conv2d_s8.c", "tinyc_dot.h", "tinyc_dsp.h",
                                        "tinyc_conv2d_fast_s8.c") + _WIN + _FAST
                    + ("tinyc_conv2d_fewch_s8.c", "tinyc_conv2d_fewch_dsp.h",
                       "tinyc_conv2d_fewch_c.h", "tinyc_conv2d_k8_fast_s8.c"), conv2d_args),
    DEPTHWISE_CONV2D: Kernel("call_depthwise_conv2d.c.j2",
                               ("tinyc_depthwise_conv2d_s8.c", "tinyc_dot.h", "tinyc_dsp.h",
                                "tinyc_depthwise_conv2d_fast_s8.c") + _WIN + _FAST,
                               depthwise_args),
    FULLY_CONNECTED: Kernel("call_fully_connected.c.j2",
                            ("tinyc_fully_connected_s8.c", "tinyc_dot.h", "tinyc_dsp.h",
                             "tinyc_fully_connected_fast_s8.c") + _WIN + _FAST,
                            fully_connected_args),
    "avg_pool2d": Kernel("call_avg_pool2d.c.j2", ("tinyc_avg_pool2d_s8.c",) + _WIN + _FAST,
                         pool_args),
    "max_pool2d": Kernel("call_max_pool2d.c.j2", ("tinyc_max_pool2d_s8.c",) + _WIN, pool_args),
    "add": Kernel("call_add.c.j2",
                  ("tinyc_add_s8.c", "tinyc_add_lut_s8.c", "tinyc_add_sum_s8.c") + _FAST,
                  add_args),
    "mul": Kernel("call_mul.c.j2", ("tinyc_mul_s8.c",), _binary),
    **{op: Kernel("call_binary.c.j2", ("tinyc_binary.h", "tinyc_binary_s8.c"), binary_args)
       for op in ("sub", "squared_difference", "prelu", "minimum", "maximum")},
    "softmax": Kernel("call_softmax.c.j2", ("tinyc_softmax_s8.c",), softmax_args),
    "log_softmax": Kernel("call_log_softmax.c.j2",
                          ("tinyc_log_softmax.h", "tinyc_log_softmax_s8.c"), log_softmax_args),
    "lut": Kernel("call_lut.c.j2", ("tinyc_lut_s8.c",), lut_args),
    "pad": Kernel("call_pad.c.j2", ("tinyc_pad_s8.c",), pad_args),
    "transpose": Kernel("call_transpose.c.j2", ("tinyc_transpose_s8.c",), transpose_args),
    "slice": Kernel("call_transpose.c.j2", ("tinyc_transpose_s8.c",), slice_args),
    "gather": Kernel("call_gather.c.j2", ("tinyc_nn_move.h", "tinyc_gather_s8.c"),
                     gather_args),
    "resize_nearest": Kernel("call_resize_nearest.c.j2",
                             ("tinyc_nn_move.h", "tinyc_resize_nearest_s8.c"),
                             resize_nearest_args),
    "resize_bilinear": Kernel("call_resize_bilinear.c.j2",
                              ("tinyc_nn_move.h", "tinyc_resize_bilinear_s8.c"),
                              resize_bilinear_args),
    **{name: Kernel("call_reduce.c.j2", ("tinyc_nn_move.h", "tinyc_reduce_s8.c"),
                    reduce_args) for name in ("mean", "sum", "reduce_max")},
    "concat": Kernel("call_concat.c.j2", ("tinyc_concat_s8.c",), concat_args),
    "reshape": Kernel("call_reshape.c.j2", (), reshape_args),
    **KERNELS_S16,
    "transpose_conv2d": Kernel("call_transpose_conv2d.c.j2",
                               ("tinyc_transpose_conv.h", "tinyc_transpose_conv_s8.c",
                                "tinyc_dot.h", "tinyc_dsp.h") + _WIN, transpose_conv2d_args),
    "batch_matmul": Kernel("call_batch_matmul.c.j2",
                           ("tinyc_batch_matmul.h", "tinyc_batch_matmul_s8.c"),
                           batch_matmul_args),
    "l2_norm": Kernel("call_l2_norm.c.j2", ("tinyc_l2norm.h", "tinyc_l2norm_s8.c"),
                      l2_norm_args),
    "transpose_conv2d.s16": Kernel("call_transpose_conv2d_s16.c.j2",
                                   _S16 + ("tinyc_transpose_conv.h",
                                           "tinyc_transpose_conv_s16.c"),
                                   transpose_conv2d_s16_args),
    "lstm": Kernel("call_lstm.c.j2", ("tinyc_lstm.h", "tinyc_lstm_s8.c"), lstm_args,
                   lstm_scratch),
    "layer_norm": Kernel("call_layer_norm.c.j2", ("tinyc_layer_norm.h", "tinyc_layer_norm_s8.c"),
                         layer_norm_args),
    "svdf": Kernel("call_svdf.c.j2", ("tinyc_svdf.h", "tinyc_svdf_s8.c"), svdf_args),
    "depthwise_conv2d.inplace": Kernel("call_depthwise_conv2d_inplace.c.j2",
                                       ("tinyc_depthwise_inplace.h",
                                        "tinyc_depthwise_conv2d_inplace_s8.c") + _WIN,
                                       lambda node, ctx: depthwise_inplace_args(node, ctx),
                                       lambda node: depthwise_inplace_scratch(node), True),
    "resize": Kernel("call_resize.c.j2", ("tinyc_resize.h", "tinyc_resize_s8.c"), resize_args),
    "l1_norm": Kernel("call_l1_norm.c.j2", ("tinyc_l1norm.h", "tinyc_l1norm_s8.c"),
                      l1_norm_args),
    # averages rounded half to even (ONNX QDQ imports, attrs["round_half_even"]; select.py)
    "avg_pool2d.even": Kernel("call_avg_pool2d_even.c.j2",
                              ("tinyc_nn_move.h", "tinyc_round_even.h", "tinyc_round_even_s8.c")
                              + _WIN, lambda node, ctx: {
                                  **pool_args(node, ctx),
                                  "zero_point": _int_zero_point(node)}),
    "mean.even": Kernel("call_reduce.c.j2",
                        ("tinyc_nn_move.h", "tinyc_round_even.h", "tinyc_round_even_s8.c"),
                        lambda node, ctx: {**reduce_args(node, ctx),
                                           "function": "tinyc_reduce_mean_even_s8"}),
    "conv3d": Kernel("call_conv3d.c.j2", ("tinyc_nd.h", "tinyc_conv3d_s8.c", "tinyc_dot.h",
                                          "tinyc_dsp.h"), conv3d_args),
    **{op: Kernel("call_pool3d.c.j2", ("tinyc_nd.h", "tinyc_pool3d_s8.c") + _WIN, pool3d_args)
       for op in ("max_pool3d", "avg_pool3d")},
    "gru": Kernel("call_gru.c.j2", ("tinyc_lstm.h", "tinyc_gru.h", "tinyc_gru_s8.c"), gru_args,
                  gru_scratch),
    # ONNX Runtime's float32 requantization in integers (ORT-family QDQ imports, attrs ort_mult;
    # select.py): the generic loops compiled with tinyc_ort.h
    **{f"{op}.ort": Kernel(f"call_{op}.c.j2", ("tinyc_ort.h", f"tinyc_{op}_ort_s8.c",
                                               f"tinyc_{op}_s8.c", "tinyc_dot.h", "tinyc_dsp.h")
                           + _WIN, args)
       for op, args in ((CONV2D, lambda node, ctx: conv2d_args(node, ctx)),
                        (DEPTHWISE_CONV2D, lambda node, ctx: depthwise_args(node, ctx)),
                        (FULLY_CONNECTED, lambda node, ctx: fully_connected_args(node, ctx)))},
    # an ONNX LSTM with peephole weights P (attrs["peep_w"]; select.py)
    "lstm.peephole": Kernel("call_lstm_peep.c.j2", ("tinyc_lstm.h", "tinyc_lstm_peep.h",
                                                    "tinyc_lstm_peep_s8.c"),
                            lambda node, ctx: lstm_peep_args(node, ctx), lstm_scratch),
    # a value with no elements (ir/ops/empty.py): no code, no memory
    **{key: Kernel("call_empty.c.j2", (), lambda node, ctx: {
        "output": node.outputs[0].name.replace("*/", "* /"),
        "shape": list(node.outputs[0].shape)}) for key in ("empty", "empty.s16")},
    "fill": Kernel("call_fill.c.j2", (), lambda node, ctx: {
        "output": ctx.ptr(node.outputs[0]), "size": node.outputs[0].type.nbytes,
        "value": int(_fill_value(node))}),
    # ONNX Runtime's float32 averages in integers (attrs["ort_float"], ort_exact; select.py)
    "avg_pool2d.ortf": Kernel("call_avg_pool2d_ortf.c.j2",
                              ("tinyc_ort.h", "tinyc_ort_float.h", "tinyc_avg_pool_ortf_s8.c")
                              + _WIN, lambda node, ctx: ortf_pool_args(node, ctx)),
    # a table per channel (ONNX Runtime's float BatchNormalization, ort_exact)
    "lut_channels": Kernel("call_lut_channels.c.j2", ("tinyc_lut_channels.h",
                                                      "tinyc_lut_channels_s8.c"),
                           lambda node, ctx: lut_channels_args(node, ctx)),
    # ONNX Runtime's QLinearMul (attrs ort_mult / ort_exp, ort_exact; select.py)
    "mul.ort": Kernel("call_mul.c.j2", ("tinyc_ort.h", "tinyc_mul_s8.c", "tinyc_mul_ort_s8.c"),
                      lambda node, ctx: {**_binary(node, ctx), "function": "tinyc_mul_ort_s8",
                                         "out_multiplier": _int_attr(node, "ort_mult", 1 << 23,
                                                                     (1 << 24) - 1),
                                         "out_shift": _int_attr(node, "ort_exp", -200, 100)}),
}


def lut_channels_args(node: Node, ctx) -> dict:
    table = np.asarray(node.attrs["table"])
    x, y = node.inputs[0], node.outputs[0]
    c = x.shape[-1]
    if table.shape != (c, 256) or table.min() < -128 or table.max() > 127:
        _fail(node, "lut_channels table", f"[{c}, 256] int8 values", table.shape)
    return {"table": ctx.array(f"{node.name}_table", "int8_t", table.reshape(-1)),
            "channels": c, "size": x.type.size, "input": ctx.ptr(x), "output": ctx.ptr(y)}


def ortf_pool_args(node: Node, ctx) -> dict:
    """pool_args and ORT's float32 average (ir/ort_float.py): mode, the input's and the output's
    zero point and float32 scale as its 24-bit significand and exponent
    (runtime/tinyc_ort_float.h)."""
    a = node.attrs
    m, e = qmath.f32_parts(a["ort_scale"])
    om, oe = qmath.f32_parts(a["ort_out_scale"])
    return {**pool_args(node, ctx), "mode": int(a["ort_float"]),
            "zero_point": _int_attr(node, "ort_zp", -128, 127), "scale_m": m, "scale_e": e,
            "out_zero_point": _int_attr(node, "ort_out_zp", -128, 127), "out_scale_m": om,
            "out_scale_e": oe}


def _fill_value(node: Node) -> int:
    """fill's int8 element (its integer semantics, one element)."""
    return int(OPS["fill"].run_int(node, None).reshape(-1)[0])


def lstm_peep_args(node: Node, ctx) -> dict:
    """lstm_args and the int16 cell-to-gate weights (runtime/tinyc_lstm_peep.h)."""
    args = lstm_args(node, ctx, peephole=True)
    if node.outputs[0].dtype is not DType.INT8:
        _fail(node, "activations", "int8 (the peephole LSTM has no 16x8 kernel)",
              node.outputs[0].dtype)
    a = node.attrs
    args["peep_w"] = [ctx.array(f"{node.name}_peep_{g}", "int16_t",
                                np.asarray(a["peep_w"][k], np.int64))
                      for k, g in enumerate("ifo")]
    args["peep_mult"] = tuple(int(v) for v in a["peep_mult"])
    args["peep_shift"] = tuple(int(v) for v in a["peep_shift"])
    return args


def _int_zero_point(node: Node) -> int:
    return _int_attr(node, "even_zero_point", -128, 127) if "even_zero_point" in node.attrs else 0


def depthwise_inplace_fits(node: Node) -> bool:
    """The in-place depthwise kernel runs node: int8, one image, channel multiplier 1, an
    output no larger than its input (its channel-by-channel order is then safe, the kernel's
    doc)."""
    x, w, y = node.inputs[0], node.inputs[1], node.outputs[0]
    return (node.op == DEPTHWISE_CONV2D and x.dtype.name == "INT8" and y.dtype.name == "INT8"
            and "ort_mult" not in node.attrs
            and x.shape[0] == 1 and w.shape[3] == x.shape[3] == y.shape[3]
            and y.type.nbytes <= x.type.nbytes)


def depthwise_inplace_scratch(node: Node) -> int:
    """One input channel: h * w bytes."""
    x = node.inputs[0]
    return int(x.shape[1] * x.shape[2])


def depthwise_inplace_args(node: Node, ctx) -> dict:
    """The generic depthwise arguments; output: the shared buffer; scratch: one channel."""
    if not depthwise_inplace_fits(node):
        _fail(node, "in-place depthwise", "int8, one image, channel multiplier 1, output no "
              "larger than input", f"{node.inputs[0].type} -> {node.outputs[0].type}")
    off = ctx.scratch_offset(node)
    if off is None:
        _fail(node, "arena scratch", f"{depthwise_inplace_scratch(node)} B", "none planned")
    w = node.inputs[1]
    _quant_check(node, w.shape[3])
    return {**_window(node), **_dense(node, ctx, w.shape[3]),
            "scratch": f"TINYC_ARENA + {off}"}
