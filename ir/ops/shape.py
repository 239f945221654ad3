"""Data-movement ops: reshape (an alias, no copy), transpose, concat, pad.
Integer forms move bytes; quantization is the same on input and output (concat: all inputs).
"""
from __future__ import annotations

import numpy as np

from ..types import TensorType
from .registry import op, require


@op("reshape", run_float=lambda node, x: x.reshape(node.attrs["shape"]),
    run_int=lambda node, x: x.reshape(node.attrs["shape"]), alias=True, same_q=True,
    keeps_values=True, int16=True, int16_follow=True)
def reshape(inputs, attrs):
    """reshape(x) {shape} — same bytes, new shape"""
    shape = tuple(attrs["shape"])
    require(min(shape, default=1) >= 1 and int(np.prod(shape)) == inputs[0].type.size,
            "reshape", f"new shape for {list(inputs[0].shape)}",
            f"{inputs[0].type.size} elements", f"{list(shape)}")
    return [TensorType(inputs[0].dtype, shape)]


def _transpose(node, x):
    return np.ascontiguousarray(np.transpose(x, node.attrs["perm"]))


@op("transpose", run_float=_transpose, run_int=_transpose, same_q=True, keeps_values=True,
    int16=True, int16_follow=True,
    patch_lead=lambda node: tuple(node.attrs["perm"]) == (0, 2, 3, 1))
def transpose(inputs, attrs):
    """transpose(x) {perm}"""
    r = len(inputs[0].shape)
    require(r > 0 and sorted(p % r for p in attrs["perm"]) == list(range(r)), "transpose",
            "perm", f"a permutation of 0..{r - 1}", attrs["perm"])
    return [TensorType(inputs[0].dtype, tuple(inputs[0].shape[p] for p in attrs["perm"]))]


def _concat(node, *xs):
    return np.concatenate(xs, axis=node.attrs["axis"])


@op("concat", run_float=_concat, run_int=_concat, inputs_as_output_q=True, int16=True,
    int16_follow=True)
def concat(inputs, attrs):
    """concat(x0, x1, ...) {axis}"""
    ax = attrs["axis"]
    shape = list(inputs[0].shape)
    for v in inputs[1:]:
        same = len(v.shape) == len(shape) and all(
            d == e for i, (d, e) in enumerate(zip(v.shape, shape)) if i != ax % len(shape))
        require(same, "concat", f"input shapes (axis {ax})", f"{shape} except on the axis",
                list(v.shape))
    shape[ax] = sum(v.shape[ax] for v in inputs)
    return [TensorType(inputs[0].dtype, tuple(shape))]


def _pad_widths(node):
    p = node.attrs["pads"]              # (begin_0, ..., begin_r-1, end_0, ..., end_r-1)
    r = len(p) // 2
    return [(p[i], p[i + r]) for i in range(r)]


def _pad_window(node, axis: int):
    """A pad of H and W only (NHWC, rank 4) is a 1x1 window with padding: (1, 1, before)."""
    p = node.attrs["pads"]
    if len(p) != 8 or p[0] or p[3] or p[4] or p[7]:
        return None
    return (1, 1, p[1 + axis])


def _pad_band(node, p):
    t, left, b, r = p
    return {**node.attrs, "pads": (0, t, left, 0, 0, b, r, 0)}


@op("pad", run_float=lambda node, x: np.pad(x, _pad_widths(node),
                                           constant_values=node.attrs.get("value", 0.0)),
    run_int=lambda node, x: np.pad(x, _pad_widths(node),
                                   constant_values=node.attrs["pad_value"]),
    int_attrs=("pad_value",), same_q=True, channel_tie=True, int16=True, int16_follow=True,
    patchable=True, patch_window=lambda node, axis: _pad_window(node, axis),
    patch_pads=lambda node, p: _pad_band(node, p))
def pad(inputs, attrs):
    """pad(x) {pads=(begins..., ends...), value (float) / pad_value (int)}"""
    p = attrs["pads"]
    r = len(p) // 2
    require(len(p) == 2 * len(inputs[0].shape) and min(p, default=0) >= 0, "pad", "pads",
            f"{2 * len(inputs[0].shape)} values >= 0", tuple(p))
    return [TensorType(inputs[0].dtype,
                       tuple(d + p[i] + p[i + r] for i, d in enumerate(inputs[0].shape)))]


def slice_index(node_or_attrs, shape) -> list[np.ndarray]:
    """Per axis, the input indices a slice reads: range(begin, end, stride) (end -1 with a
    negative stride: down to index 0)."""
    a = getattr(node_or_attrs, "attrs", node_or_attrs)
    return [np.arange(b, e, s) for b, e, s in zip(a["begin"], a["end"], a["strides"])]


def slice_attrs(shape, index) -> dict:
    """slice's normalised attrs for x[index] (per axis a Python slice, clamped as Python and
    TFLite/ONNX do, or an int index); ValueError when an axis would be empty."""
    begin, end, strides = [], [], []
    for d, ix in zip(shape, index):
        sl = ix if isinstance(ix, slice) else slice(ix % d, ix % d + 1)
        picked = np.arange(d)[sl]
        if picked.size == 0:
            raise ValueError(f"empty slice {ix} of an axis of {d}")
        step = sl.step or 1
        begin.append(int(picked[0]))
        strides.append(int(step))
        end.append(int(picked[-1]) + (1 if step > 0 else -1))
    return {"begin": tuple(begin), "end": tuple(end), "strides": tuple(strides)}


def _slice(node, x):
    return np.ascontiguousarray(x[np.ix_(*slice_index(node, x.shape))])


@op("slice", run_float=_slice, run_int=_slice, same_q=True, keeps_values=True, int16=True,
    int16_follow=True)
def slice_(inputs, attrs):
    """slice(x) {begin, end, strides} — per axis range(begin, end, stride), normalised: begin in
    [0, d), end in [-1, d], stride != 0 (SLICE, STRIDED_SLICE, SPLIT, SPLIT_V, Slice, Split)"""
    shape = inputs[0].shape
    b, e, s = (tuple(int(v) for v in attrs[k]) for k in ("begin", "end", "strides"))
    ok = len(b) == len(e) == len(s) == len(shape) and all(
        st != 0 and 0 <= bb < d and -1 <= ee <= d for bb, ee, st, d in zip(b, e, s, shape))
    require(ok, "slice", f"begin/end/strides for {list(shape)}",
            "one normalised (begin, end, stride) per axis", (b, e, s))
    out = tuple(len(ix) for ix in slice_index(attrs, shape))
    require(min(out) > 0, "slice", "output shape", "no empty axis", out)
    return [TensorType(inputs[0].dtype, out)]


def _gather(node, x):
    a = node.attrs
    idx = np.asarray(a["indices"], np.int64).reshape(a["indices_shape"])
    return np.ascontiguousarray(np.take(x, idx, axis=a["axis"]))


@op("gather", run_float=_gather, run_int=_gather, same_q=True, keeps_values=True)
def gather(inputs, attrs):
    """gather(x) {axis, indices (constant, flat), indices_shape} — x's slices along axis"""
    shape = inputs[0].shape
    r = len(shape)
    ax = attrs["axis"]
    require(0 <= ax < r, "gather", "axis", f"in [0, {r - 1}]", ax)
    idx = tuple(int(i) for i in attrs["indices"])
    ishape = tuple(int(d) for d in attrs["indices_shape"])
    require(len(idx) == int(np.prod(ishape, dtype=np.int64)) and len(idx) > 0 and
            all(0 <= i < shape[ax] for i in idx), "gather", "indices",
            f"{int(np.prod(ishape))} values in [0, {shape[ax]})", idx)
    return [TensorType(inputs[0].dtype, tuple(shape[:ax]) + ishape + tuple(shape[ax + 1:]))]


def _resize_nearest(node, x):
    a = node.attrs
    return np.ascontiguousarray(x[:, list(a["h_index"])][:, :, list(a["w_index"])])


@op("resize_nearest", run_float=_resize_nearest, run_int=_resize_nearest, same_q=True,
    keeps_values=True, channel_tie=True, int16=True, int16_follow=True)
def resize_nearest(inputs, attrs):
    """resize_nearest(x NHWC) {h_index, w_index} — output row i reads input row h_index[i],
    column j input column w_index[j] (the frontends compute them: TFLite's align_corners /
    half_pixel_centers, ONNX's coordinate modes)"""
    x = inputs[0]
    require(len(x.shape) == 4, "resize_nearest", "input rank", 4, len(x.shape))
    for key, d in (("h_index", x.shape[1]), ("w_index", x.shape[2])):
        ix = tuple(attrs[key])
        require(len(ix) > 0 and all(0 <= int(i) < d for i in ix), "resize_nearest", key,
                f"indices in [0, {d})", ix)
    return [TensorType(x.dtype, (x.shape[0], len(attrs["h_index"]), len(attrs["w_index"]),
                                 x.shape[3]))]


def _cdiv(a, b: int) -> np.ndarray:
    """C integer division (truncates toward zero), b > 0."""
    a = np.asarray(a, np.int64)
    return np.sign(a) * (np.abs(a) // b)


def bilinear_int_coords(in_size: int, out_size: int, align: bool, half: bool):
    """TFLM ResizeBilinearInteger's (lower, upper, weight of upper in 1/1024) per output index
    (ComputeInterpolationValuesInteger with scale_10 as TFLM rounds it)."""
    if align and out_size > 1:
        scale = ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    else:
        scale = ((1 << 10) * in_size + out_size // 2) // out_size
    o = np.arange(out_size, dtype=np.int64)
    pos = o * scale + (scale // 2 - (1 << 9) if half else 0)
    lo = np.maximum(_cdiv(pos, 1 << 10), 0)
    hi = np.minimum(_cdiv(pos + (1 << 10) - 1, 1 << 10), in_size - 1)
    return lo, hi, pos - (1 << 10) * lo


def bilinear_float_coords(in_size: int, out_size: int, align: bool, half: bool):
    """TFLM's float ResizeBilinear: (lower, upper, weight of upper) per output index."""
    scale = ((in_size - 1) / (out_size - 1) if align and out_size > 1 else in_size / out_size)
    o = np.arange(out_size, dtype=np.float64)
    pos = (o + 0.5) * scale - 0.5 if half else o * scale
    lo = np.maximum(np.floor(pos), 0).astype(np.int64)
    hi = np.minimum(np.ceil(pos), in_size - 1).astype(np.int64)
    return lo, hi, pos - lo


def _bilinear(node, x, coords, combine):
    a = node.attrs
    (y0, y1, dy), (x0, x1, dx) = (
        coords(x.shape[k], a["size"][k - 1], a["align_corners"], a["half_pixel_centers"])
        for k in (1, 2))
    dy, dx = dy[None, :, None, None], dx[None, None, :, None]
    rows = [x[:, r] for r in (y0, y1)]
    ll, rl, lu, ru = (r[:, :, c] for r in rows for c in (x0, x1))    # (y0|y1, x0|x1)
    return combine(ll, rl, lu, ru, dy, dx)


def _bilinear_float(node, x):
    return _bilinear(node, x.astype(np.float64), bilinear_float_coords,
                     lambda ll, rl, lu, ru, dy, dx: ll * (1 - dy) * (1 - dx) + lu * dy * (1 - dx)
                     + rl * (1 - dy) * dx + ru * dy * dx).astype(np.float32)


def _bilinear_int(node, x):
    def combine(ll, rl, lu, ru, dy, dx):
        one = 1 << 10
        acc = (ll * (one - dy) * (one - dx) + lu * dy * (one - dx) + rl * (one - dy) * dx
               + ru * dy * dx)
        return _cdiv(acc + np.where(acc > 0, 1 << 19, -(1 << 19)), 1 << 20)
    return _bilinear(node, x.astype(np.int64), bilinear_int_coords, combine).astype(x.dtype)


@op("resize_bilinear", run_float=_bilinear_float, run_int=_bilinear_int, same_q=True,
    channel_tie=True)
def resize_bilinear(inputs, attrs):
    """resize_bilinear(x NHWC) {size=(h, w), align_corners, half_pixel_centers} — TFLite's
    RESIZE_BILINEAR (integer form: TFLM's ResizeBilinearInteger, 10-bit weights)"""
    x = inputs[0]
    require(len(x.shape) == 4, "resize_bilinear", "input rank", 4, len(x.shape))
    size = tuple(int(d) for d in attrs["size"])
    require(len(size) == 2 and min(size) >= 1, "resize_bilinear", "size", "2 sizes >= 1", size)
    for k in (1, 2):
        lo, _, _ = bilinear_int_coords(x.shape[k], size[k - 1], attrs["align_corners"],
                                        attrs["half_pixel_centers"])
        require(lo.max() < x.shape[k], "resize_bilinear", "source rows/columns",
                f"< {x.shape[k]}", int(lo.max()))
    return [TensorType(x.dtype, (x.shape[0], *size, x.shape[3]))]
