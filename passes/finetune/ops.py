"""Forward and backward of every IR op, batched over axis 0: one table keyed by op name, the
plain linear layers (conv, depthwise, fully connected) found by their registry Layer facts,
and the lookup-table ops by their table function (grad_fns).

GRADS[op] = (forward, backward):
  forward(node, *inputs) -> (y, cache)       inputs as arrays, batch first (any batch size)
  backward(node, cache, dy) -> [dx_0, dx_1, ...]   one gradient per input (None: not needed)

The arithmetic runs in the inputs' dtype (float32 for training, float64 for the gradient
checks). Sliding windows are im2col (ir.ops.conv.patches) + one matmul; their adjoint (col2im)
adds the column gradients back window offset by window offset. Unary ops that quantize makes
lookup tables (OpDef.table) have explicit derivatives here; any other such op gets a central
difference of its table function.
"""
from __future__ import annotations

import math

import numpy as np

from ...errors import TinycError
from ...ir import OPS
from ...ir.ops.conv import patches
from ...ir.ops.eltwise import SELU_ALPHA, SELU_GAMMA, _erf


def _act_mask(y, attrs):
    """Gradient mask of the fused activation clamp (0 where the clamp is active)."""
    lo, hi = attrs.get("act") or (-np.inf, np.inf)
    return (y > lo) & (y < hi) if (np.isfinite(lo) or np.isfinite(hi)) else None


def _clamp(acc, attrs):
    lo, hi = attrs.get("act") or (-np.inf, np.inf)
    if np.isfinite(lo) or np.isfinite(hi):
        return np.clip(acc, lo, hi)
    return acc


def col2im(dp, x_shape, kernel, stride, pads, dilation):
    """The adjoint of patches: [N,OH,OW,KH,KW,C] column gradients summed into [N,H,W,C]."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    pt, pl, pb, pr = pads
    n, h, w, c = x_shape
    oh, ow = dp.shape[1:3]
    dxp = np.zeros((n, h + pt + pb, w + pl + pr, c), dp.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                j * dw:j * dw + sw * (ow - 1) + 1:sw, :] += dp[:, :, :, i, j, :]
    return dxp[:, pt:pt + h, pl:pl + w, :]


def _win(node):
    a = node.attrs
    return a["stride"], a["pads"], a.get("dilation", (1, 1))


# -- layers ---------------------------------------------------------------------------------

def conv_fwd(node, x, w, b=None):
    stride, pads, dil = _win(node)
    p = patches(x, w.shape[1:3], stride, pads, dil, 0.0)
    n, oh, ow = p.shape[:3]
    cols = p.reshape(n * oh * ow, -1)
    acc = cols @ w.reshape(w.shape[0], -1).T
    if b is not None:
        acc = acc + b
    y = _clamp(acc.reshape(n, oh, ow, w.shape[0]), node.attrs)
    return y, (x.shape, cols, w, b is not None, y)


def conv_bwd(node, cache, dy):
    x_shape, cols, w, has_b, y = cache
    m = _act_mask(y, node.attrs)
    if m is not None:
        dy = dy * m
    dy2 = dy.reshape(-1, w.shape[0])
    dw = (dy2.T @ cols).reshape(w.shape)
    dcols = dy2 @ w.reshape(w.shape[0], -1)
    n, oh, ow = dy.shape[:3]
    stride, pads, dil = _win(node)
    dp = dcols.reshape(n, oh, ow, w.shape[1], w.shape[2], w.shape[3])
    dx = col2im(dp, x_shape, w.shape[1:3], stride, pads, dil)
    return [dx, dw, dy2.sum(axis=0) if has_b else None]


def depthwise_fwd(node, x, w, b=None):
    stride, pads, dil = _win(node)
    p = patches(x, w.shape[1:3], stride, pads, dil, 0.0)
    mult = w.shape[3] // x.shape[3]
    if mult > 1:
        p = p[..., np.arange(w.shape[3]) // mult]
    acc = _taps_fwd(p, w[0])
    if b is not None:
        acc = acc + b
    y = _clamp(acc, node.attrs)
    return y, (x.shape, p, w, b is not None, y, mult)


def _taps_fwd(p, w):
    """sum over the kernel taps of p[n, y, x, h, w, c] * w[h, w, c]: one multiply-add per
    tap (an einsum here goes through transposed copies and a batched matmul: 4-8x slower)."""
    acc = p[:, :, :, 0, 0, :] * w[0, 0]
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            if i or j:
                acc += p[:, :, :, i, j, :] * w[i, j]
    return acc


def _taps_dw(p, dy):
    """The depthwise weight gradient [h, w, c]: per tap, sum over n, y, x of p * dy."""
    return np.stack([np.stack([np.einsum("nyxc,nyxc->c", p[:, :, :, i, j, :], dy)
                               for j in range(p.shape[4])]) for i in range(p.shape[3])])


def depthwise_bwd(node, cache, dy):
    x_shape, p, w, has_b, y, mult = cache
    m = _act_mask(y, node.attrs)
    if m is not None:
        dy = dy * m
    dw = _taps_dw(p, dy)[None]
    dp = dy[:, :, :, None, None, :] * w[0]
    if mult > 1:
        dp = dp.reshape(dp.shape[:5] + (x_shape[3], mult)).sum(axis=-1)
    stride, pads, dil = _win(node)
    dx = col2im(dp, x_shape, w.shape[1:3], stride, pads, dil)
    return [dx, dw, dy.sum(axis=(0, 1, 2)) if has_b else None]


def fc_fwd(node, x, w, b=None):
    acc = x @ w.T
    if b is not None:
        acc = acc + b
    y = _clamp(acc, node.attrs)
    return y, (x, w, b is not None, y)


def fc_bwd(node, cache, dy):
    x, w, has_b, y = cache
    m = _act_mask(y, node.attrs)
    if m is not None:
        dy = dy * m
    return [dy @ w, dy.T @ x, dy.sum(axis=0) if has_b else None]


# -- pools ----------------------------------------------------------------------------------

def _pool_win(node):
    a = node.attrs
    return a["kernel"], a["stride"], a["pads"], (1, 1)


def avg_fwd(node, x):
    k, s, pads, d = _pool_win(node)
    cnt = patches(np.ones(x.shape[:3] + (1,), x.dtype), k, s, pads, d, 0.0).sum(axis=(3, 4))
    y = _clamp(patches(x, k, s, pads, d, 0.0).sum(axis=(3, 4)) / cnt, node.attrs)
    return y, (x.shape, cnt, y)


def avg_bwd(node, cache, dy):
    x_shape, cnt, y = cache
    m = _act_mask(y, node.attrs)
    if m is not None:
        dy = dy * m
    k, s, pads, d = _pool_win(node)
    g = dy / cnt
    dp = np.broadcast_to(g[:, :, :, None, None, :], g.shape[:3] + tuple(k) + g.shape[3:])
    return [col2im(dp, x_shape, k, s, pads, d)]


def max_fwd(node, x):
    k, s, pads, d = _pool_win(node)
    p = patches(x, k, s, pads, d, -np.inf)
    flat = p.reshape(p.shape[:3] + (-1, p.shape[5]))
    arg = flat.argmax(axis=3)
    y = _clamp(np.take_along_axis(flat, arg[:, :, :, None], 3)[:, :, :, 0], node.attrs)
    return y, (x.shape, arg, y)


def max_bwd(node, cache, dy):
    x_shape, arg, y = cache
    m = _act_mask(y, node.attrs)
    if m is not None:
        dy = dy * m
    k, s, pads, d = _pool_win(node)
    kk = int(np.prod(k))
    onehot = (arg[:, :, :, None, :] == np.arange(kk)[None, None, None, :, None])
    dp = (onehot * dy[:, :, :, None, :]).reshape(dy.shape[:3] + tuple(k) + dy.shape[3:])
    return [col2im(dp.astype(dy.dtype), x_shape, k, s, pads, d)]


# -- elementwise binary (numpy broadcasting) -------------------------------------------------

def unbroadcast(g, shape):
    """Sum a broadcast gradient back to an operand's shape."""
    if g.shape == tuple(shape):
        return g
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def binary(fn, grads):
    """An elementwise op y = act(fn(a, b)); grads(a, b) -> (dy/da, dy/db) elementwise."""
    def fwd(node, a, b):
        y = _clamp(fn(a, b), node.attrs)
        return y, (a, b, y)

    def bwd(node, cache, dy):
        a, b, y = cache
        m = _act_mask(y, node.attrs)
        if m is not None:
            dy = dy * m
        ga, gb = grads(a, b)
        return [unbroadcast(dy * ga, a.shape), unbroadcast(dy * gb, b.shape)]
    return fwd, bwd


def _ones(a, b):
    return np.ones(np.broadcast_shapes(a.shape, b.shape), a.dtype)


# -- unary (float forms of the table ops) ---------------------------------------------------

def _swish_grad(x, alpha):
    s = 1.0 / (1.0 + np.exp(-alpha * x))
    return s + alpha * x * s * (1.0 - s)


def _gelu_grad(x, tanh):
    if tanh:
        c = math.sqrt(2.0 / math.pi)
        t = np.tanh(c * (x + 0.044715 * x ** 3))
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * c * (1.0 + 3 * 0.044715 * x * x)
    return (0.5 * (1.0 + _erf(np.asarray(x, np.float64) / math.sqrt(2.0)))
            + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi))


def _hsig_grad(x, alpha, beta):
    v = alpha * x + beta
    return np.where((v > 0) & (v < 1), alpha, 0.0)


UNARY_GRAD = {
    "relu": lambda x, a: (x > 0).astype(x.dtype),
    "clip": lambda x, a: ((x > a.get("min", -np.inf)) & (x < a.get("max", np.inf))).astype(x.dtype),
    "sigmoid": lambda x, a: (lambda s: s * (1 - s))(1.0 / (1.0 + np.exp(-x))),
    "tanh": lambda x, a: 1.0 - np.tanh(x) ** 2,
    "hard_sigmoid": lambda x, a: _hsig_grad(x, a.get("alpha", 0.2), a.get("beta", 0.5)),
    "hard_swish": lambda x, a: (np.clip(x / 6.0 + 0.5, 0.0, 1.0)
                                + x * _hsig_grad(x, 1.0 / 6.0, 0.5)),
    "leaky_relu": lambda x, a: np.where(x >= 0, 1.0, a.get("alpha", 0.01)),
    "elu": lambda x, a: np.where(x >= 0, 1.0, a.get("alpha", 1.0) * np.exp(np.minimum(x, 0))),
    "softplus": lambda x, a: 1.0 / (1.0 + np.exp(-x)),
    "selu": lambda x, a: a.get("gamma", SELU_GAMMA) * np.where(
        x > 0, 1.0, a.get("alpha", SELU_ALPHA) * np.exp(np.minimum(x, 0))),
    "swish": lambda x, a: _swish_grad(x, a.get("alpha", 1.0)),
    "gelu": lambda x, a: _gelu_grad(x, a.get("tanh", False)),
    "rsqrt": lambda x, a: np.where(x > 0, -0.5 * (np.maximum(x, 0) + a.get("epsilon", 0.0))
                                   ** -1.5, 0.0),
}


def unary_fwd(node, x):
    fn = OPS[node.op].table
    return np.asarray(fn(x, node.attrs), x.dtype), x


def unary_bwd(node, x, dy):
    d = UNARY_GRAD.get(node.op)
    if d is not None:
        g = d(x, node.attrs)
    else:                                   # any other table op: central difference of fn
        fn, h = OPS[node.op].table, 1e-3
        g = (np.asarray(fn(x.astype(np.float64) + h, node.attrs), np.float64)
             - np.asarray(fn(x.astype(np.float64) - h, node.attrs), np.float64)) / (2 * h)
    return [(dy * g).astype(dy.dtype)]


# -- softmax, log_softmax ------------------------------------------------------------------

def softmax_fwd(node, x):
    z = (x - x.max(axis=-1, keepdims=True)) * node.attrs.get("beta", 1.0)
    e = np.exp(z)
    y = e / e.sum(axis=-1, keepdims=True)
    return y, y


def softmax_bwd(node, y, dy):
    beta = node.attrs.get("beta", 1.0)
    return [beta * y * (dy - (dy * y).sum(axis=-1, keepdims=True))]


def log_softmax_fwd(node, x):
    z = x - x.max(axis=-1, keepdims=True)
    y = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return y, y


def log_softmax_bwd(node, y, dy):
    return [dy - np.exp(y) * dy.sum(axis=-1, keepdims=True)]


# -- data movement ----------------------------------------------------------------------------

def _batched(shape, n):
    return (n,) + tuple(shape[1:])


def reshape_fwd(node, x):
    return x.reshape(_batched(node.attrs["shape"], x.shape[0])), x.shape


def transpose_fwd(node, x):
    perm = node.attrs["perm"]
    if perm[0] != 0:
        raise TinycError(f"node '{node.name}' (transpose): fine-tuning needs the batch axis to "
                         f"stay first — got perm {tuple(perm)}; fine-tune without this node")
    return np.transpose(x, perm), None


def transpose_bwd(node, _, dy):
    return [np.transpose(dy, np.argsort(node.attrs["perm"]))]


def concat_fwd(node, *xs):
    return np.concatenate(xs, axis=node.attrs["axis"]), [x.shape[node.attrs["axis"]] for x in xs]


def concat_bwd(node, sizes, dy):
    return list(np.split(dy, np.cumsum(sizes)[:-1], axis=node.attrs["axis"]))


def _pads(node, ndim):
    p = node.attrs["pads"]
    r = len(p) // 2
    return [(p[i], p[i + r]) for i in range(r)]


def pad_fwd(node, x):
    return np.pad(x, _pads(node, x.ndim), constant_values=node.attrs.get("value", 0.0)), x.shape


def pad_bwd(node, x_shape, dy):
    return [dy[tuple(slice(b, b + d) for (b, _), d in zip(_pads(node, dy.ndim), x_shape))]]


def _index(node, shape):
    from ...ir.ops.shape import slice_index
    idx = slice_index(node, shape)
    idx[0] = np.arange(shape[0])                # every sample of the batch
    return idx


def slice_fwd(node, x):
    return x[np.ix_(*_index(node, x.shape))], x.shape


def slice_bwd(node, x_shape, dy):
    dx = np.zeros(x_shape, dy.dtype)
    dx[np.ix_(*_index(node, x_shape))] = dy     # indices are distinct: plain assignment
    return [dx]


def gather_fwd(node, x):
    a = node.attrs
    if a["axis"] % x.ndim == 0:
        raise TinycError(f"node '{node.name}' (gather): fine-tuning needs the batch axis "
                         "kept; a gather along axis 0 is not supported")
    idx = np.asarray(a["indices"], np.int64).reshape(a.get("indices_shape", (-1,)))
    return np.take(x, idx, axis=a["axis"]), x.shape


def gather_bwd(node, x_shape, dy):
    a = node.attrs
    ax = a["axis"] % len(x_shape)
    idx = np.asarray(a["indices"]).ravel()
    k = len(a.get("indices_shape", (idx.size,)))
    dyr = np.moveaxis(dy.reshape(dy.shape[:ax] + (idx.size,) + dy.shape[ax + k:]), ax, 0)
    dx = np.zeros((x_shape[ax],) + dyr.shape[1:], dy.dtype)
    np.add.at(dx, idx, dyr)
    return [np.moveaxis(dx, 0, ax)]


def resize_nearest_fwd(node, x):
    a = node.attrs
    return x[:, list(a["h_index"])][:, :, list(a["w_index"])], x.shape


def resize_nearest_bwd(node, x_shape, dy):
    a = node.attrs
    t = np.zeros((dy.shape[0], x_shape[1], dy.shape[2], dy.shape[3]), dy.dtype)
    np.add.at(t, (slice(None), np.asarray(a["h_index"])), dy)
    dx = np.zeros(x_shape, dy.dtype)
    np.add.at(dx, (slice(None), slice(None), np.asarray(a["w_index"])), t)
    return [dx]


def _bilinear_mats(node, x_shape, dtype):
    from ...ir.ops.shape import bilinear_float_coords
    a = node.attrs
    mats = []
    for k in (1, 2):
        lo, hi, d = bilinear_float_coords(x_shape[k], a["size"][k - 1], a["align_corners"],
                                          a["half_pixel_centers"])
        m = np.zeros((len(lo), x_shape[k]))
        np.add.at(m, (np.arange(len(lo)), lo), 1 - d)
        np.add.at(m, (np.arange(len(lo)), hi), d)
        mats.append(m.astype(dtype))
    return mats


def resize_bilinear_fwd(node, x):
    ry, rx = _bilinear_mats(node, x.shape, x.dtype)
    return np.einsum("oh,nhwc,pw->nopc", ry, x, rx, optimize=True), (ry, rx)


def resize_bilinear_bwd(node, mats, dy):
    ry, rx = mats
    return [np.einsum("oh,nopc,pw->nhwc", ry, dy, rx, optimize=True)]


# -- reductions --------------------------------------------------------------------------------

def _axes(node, ndim):
    from ...ir.ops.reduce import reduce_axes
    axes = reduce_axes(node, ndim)
    if 0 in axes:
        raise TinycError(f"node '{node.name}' ({node.op}): fine-tuning needs the batch axis "
                         "kept; a reduction over axis 0 is not supported")
    return axes


def reduce_fwd(node, x):
    axes = _axes(node, x.ndim)
    keep = bool(node.attrs.get("keep_dims", True))
    if node.op == "reduce_max":
        y = x.max(axis=axes, keepdims=True)
    else:
        y = x.sum(axis=axes, keepdims=True)
        if node.op == "mean":
            y = y / np.prod([x.shape[a] for a in axes])
    out = y if keep else y.reshape([d for i, d in enumerate(y.shape) if i not in axes])
    return out, (x, y, axes)


def reduce_bwd(node, cache, dy):
    x, y, axes = cache
    dyk = dy.reshape(y.shape)
    if node.op == "reduce_max":
        hit = (x == y)
        return [hit * dyk / hit.sum(axis=axes, keepdims=True)]
    scale = 1.0 / np.prod([x.shape[a] for a in axes]) if node.op == "mean" else 1.0
    return [np.broadcast_to(dyk * scale, x.shape).astype(dy.dtype)]


def _const_fwd(fn):
    def fwd(node, *xs):
        return fn(node, *xs), None
    return fwd


GRADS: dict[str, tuple] = {
    "avg_pool2d": (avg_fwd, avg_bwd),
    "max_pool2d": (max_fwd, max_bwd),
    "add": binary(lambda a, b: a + b, lambda a, b: (_ones(a, b), _ones(a, b))),
    "sub": binary(lambda a, b: a - b, lambda a, b: (_ones(a, b), -_ones(a, b))),
    "mul": binary(lambda a, b: a * b, lambda a, b: (np.broadcast_to(b, np.broadcast_shapes(
        a.shape, b.shape)), np.broadcast_to(a, np.broadcast_shapes(a.shape, b.shape)))),
    "squared_difference": binary(lambda a, b: (a - b) ** 2,
                                 lambda a, b: (2 * (a - b), -2 * (a - b))),
    "minimum": binary(np.minimum, lambda a, b: ((a <= b).astype(a.dtype),
                                                (a > b).astype(a.dtype))),
    "maximum": binary(np.maximum, lambda a, b: ((a >= b).astype(a.dtype),
                                                (a < b).astype(a.dtype))),
    "prelu": binary(lambda x, al: np.where(x >= 0, x, al * x),
                    lambda x, al: (np.where(x >= 0, 1.0, al + 0 * x).astype(x.dtype),
                                   np.where(x >= 0, 0.0, x).astype(x.dtype))),
    "softmax": (softmax_fwd, softmax_bwd),
    "log_softmax": (log_softmax_fwd, log_softmax_bwd),
    "reshape": (reshape_fwd, lambda node, shape, dy: [dy.reshape(shape)]),
    "transpose": (transpose_fwd, transpose_bwd),
    "concat": (concat_fwd, concat_bwd),
    "pad": (pad_fwd, pad_bwd),
    "slice": (slice_fwd, slice_bwd),
    "gather": (gather_fwd, gather_bwd),
    "resize_nearest": (resize_nearest_fwd, resize_nearest_bwd),
    "resize_bilinear": (resize_bilinear_fwd, resize_bilinear_bwd),
    "mean": (reduce_fwd, reduce_bwd),
    "sum": (reduce_fwd, reduce_bwd),
    "reduce_max": (reduce_fwd, reduce_bwd),
}


# ops whose integer kernel rounds the raw (zero-point included) value: TFLM's average pool
# divides the sum of the stored int8 values by the count, half away from zero
RAW_ROUNDING = ("avg_pool2d",)


# -- transpose_conv2d, batch_matmul, l2_norm, layer_norm ----------------------------------

def tconv_fwd(node, x, w, b=None):
    a = node.attrs
    (sh, sw), (pt, pl), (oh, ow) = a["stride"], a["padding"], a["out_size"]
    n, h, wd, _ = x.shape
    o, kh, kw, _ = w.shape
    canvas = np.zeros((n, max((h - 1) * sh + kh, pt + oh), max((wd - 1) * sw + kw, pl + ow), o),
                      x.dtype)
    for fy in range(kh):
        for fx in range(kw):
            canvas[:, fy:fy + (h - 1) * sh + 1:sh, fx:fx + (wd - 1) * sw + 1:sw] += \
                x @ w[:, fy, fx, :].T
    acc = canvas[:, pt:pt + oh, pl:pl + ow]
    if b is not None:
        acc = acc + b
    y = _clamp(acc, a)
    return y, (x, w, b is not None, y, canvas.shape)


def tconv_bwd(node, cache, dy):
    x, w, has_b, y, cshape = cache
    m = _act_mask(y, node.attrs)
    if m is not None:
        dy = dy * m
    a = node.attrs
    (sh, sw), (pt, pl), (oh, ow) = a["stride"], a["padding"], a["out_size"]
    n, h, wd, c = x.shape
    o, kh, kw, _ = w.shape
    dc = np.zeros(cshape, dy.dtype)
    dc[:, pt:pt + oh, pl:pl + ow] = dy
    dx = np.zeros(x.shape, dy.dtype)
    dw = np.zeros(w.shape, dy.dtype)
    x2 = x.reshape(-1, c)
    for fy in range(kh):
        for fx in range(kw):
            part = dc[:, fy:fy + (h - 1) * sh + 1:sh, fx:fx + (wd - 1) * sw + 1:sw]
            dx += part @ w[:, fy, fx, :]
            dw[:, fy, fx, :] = part.reshape(-1, o).T @ x2
    return [dx, dw, dy.sum(axis=(0, 1, 2)) if has_b else None]


def _adj(node, a, b):
    at = np.swapaxes(a, -1, -2) if node.attrs.get("adj_x") else a
    bt = np.swapaxes(b, -1, -2) if node.attrs.get("adj_y") else b
    return at, bt


def bmm_fwd(node, a, b):
    at, bt = _adj(node, a, b)
    return np.matmul(at, bt), (a, b)


def bmm_bwd(node, cache, dy):
    a, b = cache
    at, bt = _adj(node, a, b)
    dat = np.matmul(dy, np.swapaxes(bt, -1, -2))
    dbt = np.matmul(np.swapaxes(at, -1, -2), dy)
    da = np.swapaxes(dat, -1, -2) if node.attrs.get("adj_x") else dat
    db = np.swapaxes(dbt, -1, -2) if node.attrs.get("adj_y") else dbt
    return [unbroadcast(da, a.shape), unbroadcast(db, b.shape)]


def l2_norm_fwd(node, x):
    from ...ir.ops.l2norm import EPSILON
    raw = np.sqrt((x * x).sum(axis=-1, keepdims=True))
    norm = np.maximum(raw, EPSILON)
    y = x / norm
    return y, (y, norm, raw > EPSILON)


def l2_norm_bwd(node, cache, dy):
    y, norm, live = cache
    return [np.where(live, dy - y * (dy * y).sum(axis=-1, keepdims=True), dy) / norm]


def layer_norm_fwd(node, x):
    a = node.attrs
    mean = x.mean(axis=-1, keepdims=True)
    d = x - mean
    inv = 1.0 / np.sqrt((d * d).mean(axis=-1, keepdims=True) + a.get("epsilon", 1e-5))
    xh = d * inv
    gamma = np.asarray(a["gamma"], x.dtype)
    return xh * gamma + np.asarray(a["beta"], x.dtype), (xh, inv, gamma)


def layer_norm_bwd(node, cache, dy):
    xh, inv, gamma = cache
    g = dy * gamma
    return [inv * (g - g.mean(axis=-1, keepdims=True)
                   - xh * (g * xh).mean(axis=-1, keepdims=True))]


GRADS.update({
    "transpose_conv2d": (tconv_fwd, tconv_bwd),
    "batch_matmul": (bmm_fwd, bmm_bwd),
    "l2_norm": (l2_norm_fwd, l2_norm_bwd),
    "layer_norm": (layer_norm_fwd, layer_norm_bwd),
})


# -- resize (ONNX's general form): one matrix per axis, extrapolated positions constant -----

def _resize_mats(node, x_shape, dtype):
    a = node.attrs
    mats = []
    for key, d in (("h", 1), ("w", 2)):
        k = int(a[f"k{key}"])
        idx = np.asarray(a[f"{key}_index"], np.int64).reshape(-1, k)
        w = np.asarray(a[f"{key}_weight"], np.float64).reshape(-1, k)
        m = np.zeros((len(idx), x_shape[d]))
        rows = np.repeat(np.arange(len(idx)), k)
        np.add.at(m, (rows, np.maximum(idx, 0).reshape(-1)),
                  np.where(idx < 0, 0.0, w).reshape(-1))
        mats.append(m.astype(dtype))
    keep = (np.asarray(a["h_index"]).reshape(-1, int(a["kh"]))[:, 0] >= 0)[:, None] & \
        (np.asarray(a["w_index"]).reshape(-1, int(a["kw"]))[:, 0] >= 0)[None, :]
    return mats, keep[None, :, :, None]


def resize_fwd(node, x):
    (ry, rx), keep = _resize_mats(node, x.shape, x.dtype)
    y = np.einsum("oh,nhwc,pw->nopc", ry, x, rx, optimize=True)
    value = float(node.attrs.get("extrapolation_value", 0.0))
    return np.where(keep, y, value).astype(x.dtype), (ry, rx, keep)


def resize_bwd(node, saved, dy):
    ry, rx, keep = saved
    return [np.einsum("oh,nopc,pw->nhwc", ry, np.where(keep, dy, 0.0), rx, optimize=True)]


GRADS.update({"resize": (resize_fwd, resize_bwd)})


def l1_norm_fwd(node, x):
    s = np.maximum(np.abs(x).sum(axis=-1, keepdims=True), 1e-6)
    return x / s, (x, s)


def l1_norm_bwd(node, cache, dy):
    x, s = cache
    return [dy / s - np.sign(x) * (dy * x).sum(axis=-1, keepdims=True) / (s * s)]


GRADS.update({"l1_norm": (l1_norm_fwd, l1_norm_bwd)})


def _layer_grads(layer) -> tuple | None:
    """A plain linear layer's (forward, backward), told apart by the registry's Layer facts:
    fully connected (no window), depthwise (window, per channel), conv (window)."""
    if layer is None or layer.windows is not None:
        return None
    if not layer.window:
        return fc_fwd, fc_bwd
    return (depthwise_fwd, depthwise_bwd) if layer.per_channel else (conv_fwd, conv_bwd)


def grad_fns(node):
    """(forward, backward) of a node: its GRADS entry, a plain layer's, or the table op's
    derivative."""
    if not OPS[node.op].trainable:
        raise TinycError(f"node '{node.name}' ({node.op}): fine-tuning cannot train a graph "
                         f"holding this op ({OPS[node.op].trainable_note or 'no backward'}) "
                         "— compile without finetune=")
    if node.op in GRADS:
        return GRADS[node.op]
    if _layer_grads(OPS[node.op].layer) is not None:
        return _layer_grads(OPS[node.op].layer)
    if OPS[node.op].table is not None:
        return unary_fwd, unary_bwd
    raise TinycError(f"node '{node.name}' ({node.op}): fine-tuning has no backward for this op "
                     "— compile without finetune=, or ask for the op's gradient to be added")


def trainable_ops() -> list[str]:
    """Ops fine-tuning can differentiate (GRADS, the plain layers and every table op;
    OpDef.trainable)."""
    return sorted(n for n in set(GRADS) | {n for n, d in OPS.items() if d.table is not None
                                           or _layer_grads(d.layer) is not None}
                  if OPS[n].trainable)
