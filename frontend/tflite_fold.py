"""Static shape subgraphs of a .tflite file evaluated at import (no IR ops).

Keras converters compute shapes at run time even when they are static: `tf.reshape(x,
[tf.shape(x)[0], -1])` is SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE. TFLite shapes are static,
so such ops on constants (SHAPE: on any tensor, its shape is in the file) are computed here
with numpy, in the importer's file order, and their outputs become constants; RESHAPE then
reads its output shape from the file as always (and the computed shape is checked against it).

    values = fold(op)     # the op's outputs as arrays, or None: not foldable (an IR op)
"""
from __future__ import annotations

import math

import numpy as np

from typing import TYPE_CHECKING

from ..errors import ModelError
from .tflite_reader import NP_TYPES, TfliteFormatError

if TYPE_CHECKING:
    from .tflite import TflOp

FOLDABLE = ("SHAPE", "STRIDED_SLICE", "SLICE", "PACK", "UNPACK", "CONCATENATION", "GATHER",
            "CAST", "FILL")
INDEX_INPUTS = {"STRIDED_SLICE": (1, 2, 3), "SLICE": (1, 2), "GATHER": (1,), "FILL": (0,)}


def fold(op: TflOp) -> list[np.ndarray] | None:
    """The outputs of a static op (checked against the file's shapes), or None."""
    ins = op.in_tensors()
    if op.name not in FOLDABLE or not ins or any(t is None for t in ins):
        return None
    if op.name != "SHAPE" and not all(t.is_const for t in ins):
        return None
    if op.name == "CONCATENATION" and op.out().q is not None:
        return None                               # int8 data: the concat IR op
    for i in INDEX_INPUTS.get(op.name, ()):
        if i >= len(ins) or ins[i].dtype not in ("INT32", "INT64"):
            raise op.error(f"input {i} must be an int32 or int64 tensor", cls=ModelError)
    outs = [op.out(k) for k in range(len(op.outputs))]
    if any(t.dtype not in NP_TYPES for t in outs):
        return None
    try:
        values = globals()[op.name](op, [t.data for t in ins])
    except (IndexError, ValueError) as e:         # numpy's word on bad indices / shapes
        raise op.error(f"cannot evaluate it on its constant inputs ({e})",
                       cls=ModelError) from None
    values = values if isinstance(values, list) else [values]
    if len(values) != len(outs):
        raise op.error(f"computes {len(values)} outputs, the file lists {len(outs)}",
                       cls=TfliteFormatError)
    for v, t in zip(values, outs):
        if v.shape != t.shape:
            raise op.error(f"computes shape {list(v.shape)} for {t.describe()}, the file "
                           f"says {list(t.shape)}", cls=TfliteFormatError)
    return [np.asarray(v).astype(NP_TYPES[t.dtype]) for v, t in zip(values, outs)]


def _axis(op: TflOp, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise op.error(f"axis {axis} out of range for rank {rank}", cls=ModelError)
    return axis % rank


def _want(op: TflOp, shape) -> None:
    """Before allocating: the output the op would make is the file's (FILL, GATHER)."""
    if tuple(int(d) for d in shape) != op.out().shape:
        raise op.error(f"computes shape {[int(d) for d in shape]} for {op.out().describe()}",
                       cls=TfliteFormatError)


def SHAPE(op: TflOp, xs) -> np.ndarray:
    return np.array(op.tensor(0).shape, np.int64)


def strided_index(op: TflOp, shape, begin, end, strides, what: str = ", on constants") -> list:
    """STRIDED_SLICE's index per axis with its masks: a Python slice (Python clamps as TFLite
    does) or, for a shrink axis, an int; ellipsis / new-axis masks and offset are refused."""
    o = op.options("StridedSliceOptions")
    if o.EllipsisMask() or o.NewAxisMask() or o.Offset():
        raise op.error(f"STRIDED_SLICE with an ellipsis or new-axis mask, or offset{what}",
                       "tinyc supports begin/end/shrink-axis masks.")
    if not len(begin) == len(end) == len(strides) == len(shape) or 0 in strides:
        raise op.error(f"begin {begin}, end {end}, strides {strides} for a rank-{len(shape)} "
                       "input", cls=ModelError)
    index = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        if o.ShrinkAxisMask() >> i & 1:
            if not -shape[i] <= b < shape[i]:
                raise op.error(f"index {b} out of range for dimension {i} of "
                               f"{list(shape)}", cls=ModelError)
            index.append(b)
        else:
            index.append(slice(None if o.BeginMask() >> i & 1 else b,
                               None if o.EndMask() >> i & 1 else e, s))
    return index


def STRIDED_SLICE(op: TflOp, xs) -> np.ndarray:
    x, begin, end, strides = xs[0], *(a.reshape(-1).tolist() for a in xs[1:4])
    return np.asarray(x[tuple(strided_index(op, x.shape, begin, end, strides))])


def SLICE(op: TflOp, xs) -> np.ndarray:
    x, begin, size = xs[0], xs[1].reshape(-1).tolist(), xs[2].reshape(-1).tolist()
    if not len(begin) == len(size) == x.ndim:
        raise op.error(f"begin {begin}, size {size} for a rank-{x.ndim} input", cls=ModelError)
    ends = [n if s == -1 else b + s for b, s, n in zip(begin, size, x.shape)]
    if any(not 0 <= b <= e <= n for b, e, n in zip(begin, ends, x.shape)):
        raise op.error(f"slice begin {begin} size {size} outside shape {list(x.shape)}",
                       cls=ModelError)
    return x[tuple(slice(b, e) for b, e in zip(begin, ends))]


def PACK(op: TflOp, xs) -> np.ndarray:
    return np.stack(xs, _axis(op, op.options("PackOptions").Axis(), xs[0].ndim + 1))


def UNPACK(op: TflOp, xs) -> list[np.ndarray]:
    x = xs[0]
    axis = _axis(op, op.options("UnpackOptions").Axis(), x.ndim)
    return [np.take(x, i, axis) for i in range(x.shape[axis])]


def CONCATENATION(op: TflOp, xs) -> np.ndarray:
    return np.concatenate(xs, _axis(op, op.options("ConcatenationOptions").Axis(), xs[0].ndim))


def GATHER(op: TflOp, xs) -> np.ndarray:
    o = op.options("GatherOptions", required=False)
    params, indices = xs
    axis = _axis(op, o.Axis() if o else 0, params.ndim)
    if o and o.BatchDims():
        raise op.error("GATHER with batch_dims on constants", "tinyc folds batch_dims = 0.")
    if indices.size and not (0 <= indices.min() and indices.max() < params.shape[axis]):
        raise op.error(f"indices {indices.reshape(-1).tolist()} out of range for dimension "
                       f"{axis} of {list(params.shape)}", cls=ModelError)
    _want(op, params.shape[:axis] + indices.shape + params.shape[axis + 1:])
    return np.take(params, indices, axis)


def CAST(op: TflOp, xs) -> np.ndarray:
    return xs[0]                                  # fold() converts to the output's type


def FILL(op: TflOp, xs) -> np.ndarray:
    dims, value = xs[0].reshape(-1), xs[1].reshape(-1)
    _want(op, dims)
    if value.size != 1:
        raise op.error(f"fill value of {value.size} elements, expected 1", cls=ModelError)
    return np.full(tuple(int(d) for d in dims), value[0])


def check_reshape(op: TflOp) -> None:
    """RESHAPE's constant (or folded) shape input, when there is one, agrees with the file's
    output shape (its one -1 resolved)."""
    t = op.tensor(1)
    if t is None or not t.is_const or t.data.size == 0:
        return
    shape, x = [int(d) for d in t.data.reshape(-1)], op.tensor(0)
    known = math.prod(d for d in shape if d != -1)
    if shape.count(-1) == 1 and known:
        shape[shape.index(-1)] = math.prod(x.shape) // known
    if tuple(shape) != op.out().shape:
        raise op.error(f"the shape input {t.data.reshape(-1).tolist()} makes "
                       f"{shape} of input {x.describe()}, the file says output "
                       f"{op.out().describe()}", cls=ModelError)
