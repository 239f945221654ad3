"""ONNX 3-D Conv / MaxPool / AveragePool onto the IR's conv3d, max_pool3d, avg_pool3d (NDHWC),
the 2-D (and, through onnx_ops' 1-D lift, 1-D) pooling variants TFLite has no form of —
dilation > 1, count_include_pad=1 with padding — as 3-D pooling with D = 1, and the weights of
a grouped or dilated ConvTranspose as one dense transpose_conv2d's (issue 15)."""
from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError
from .builder import NCHW_TO_NHWC, Builder, Tensor

NCDHW_TO_NDHWC = (0, 2, 3, 4, 1)


def _vals(b: Builder, v, n: int, what: str, default: int = 1) -> tuple[int, ...]:
    if v is None:
        return (default,) * n
    v = tuple(int(x) for x in v)
    if len(v) != n:
        raise b.error(f"{what} {list(v)} for a {n}-D op", f"expected {n} values.",
                      cls=ModelError)
    return v


def nd_pads(b: Builder, in_sz, kernel, stride, dilation, auto_pad, pads, ceil_mode=0):
    """(begin..., end...) pads from ONNX pads / auto_pad / ceil_mode (the extra end padding of
    ceil_mode included), and the explicit ones alone (what count_include_pad counts)."""
    n = len(in_sz)
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for h, k, s, d in zip(in_sz, kernel, stride, dilation):
            total = max((math.ceil(h / s) - 1) * s + (k - 1) * d + 1 - h, 0)
            small, big = total // 2, total - total // 2
            begin.append(small if auto_pad == "SAME_UPPER" else big)
            end.append(big if auto_pad == "SAME_UPPER" else small)
        p = begin + end
        return tuple(p), tuple(p)
    if auto_pad not in ("NOTSET", "VALID"):
        raise b.error(f"auto_pad '{auto_pad}' is not an ONNX value", cls=ModelError)
    p = [0] * (2 * n) if auto_pad == "VALID" or pads is None else [int(x) for x in pads]
    if len(p) != 2 * n or min(p) < 0:
        raise b.error(f"pads {p}", f"expected {2 * n} non-negative values.", cls=ModelError)
    explicit = tuple(p)
    if ceil_mode:
        for i, (h, k, s, d) in enumerate(zip(in_sz, kernel, stride, dilation)):
            span, dk = h + p[i] + p[i + n], (k - 1) * d + 1
            out = -(-(span - dk) // s) + 1
            if (out - 1) * s >= h + p[i]:
                out -= 1
            p[i + n] += max((out - 1) * s + dk - span, 0)
    return tuple(p), explicit


def _need5(b: Builder, X: Tensor, what: str) -> None:
    if X.is_const or X.rank != 5:
        raise b.error(f"{what}: input '{X.name}' has shape {X.shape}",
                      "expected a 5-D activation [N, C, D, H, W].")


def conv3d(b: Builder, X, W, B, *, auto_pad, dilations, group, kernel_shape, pads, strides,
           dense_groups):
    """ONNX Conv on [N, C, D, H, W]: IR conv3d (a grouped one with block-diagonal weights,
    dense_groups(b, W, w, group, c_in): onnx_ops' for 2-D grouped Conv)."""
    _need5(b, X, "3-D Conv")
    w = b.const_input(W, "W")
    if w.ndim != 5:
        raise b.error(f"3-D Conv weights of shape {list(w.shape)}",
                      "expected [O, C / group, KD, KH, KW].", cls=ModelError)
    if kernel_shape is not None and tuple(kernel_shape) != w.shape[2:]:
        raise b.error(f"kernel_shape {list(kernel_shape)} but weights {list(w.shape)}",
                      "kernel_shape must equal the weights' spatial dims.", cls=ModelError)
    stride, dilation = _vals(b, strides, 3, "strides"), _vals(b, dilations, 3, "dilations")
    p, _ = nd_pads(b, X.shape[2:], w.shape[2:], stride, dilation, auto_pad, pads)
    wv = b.weight(dense_groups(b, W, w, group, X.shape[1]), (0, 2, 3, 4, 1))
    y = b.emit("conv3d", [b.layout(X, NCDHW_TO_NDHWC), wv, b.bias(B, w.shape[0])],
               {"stride": stride, "pads": p, "dilation": dilation})
    return b.act(y, NCDHW_TO_NDHWC)


def pool3d(b: Builder, op: str, X, *, kernel_shape, strides, pads, auto_pad, ceil_mode,
           dilations, count_include_pad=0):
    """ONNX MaxPool / AveragePool on [N, C, D, H, W]: IR max_pool3d / avg_pool3d."""
    _need5(b, X, f"3-D {'MaxPool' if op == 'max_pool3d' else 'AveragePool'}")
    if kernel_shape is None:
        raise b.error("pooling without kernel_shape", cls=ModelError)
    kernel = _vals(b, kernel_shape, 3, "kernel_shape")
    stride, dilation = _vals(b, strides, 3, "strides"), _vals(b, dilations, 3, "dilations")
    p, explicit = nd_pads(b, X.shape[2:], kernel, stride, dilation, auto_pad, pads, ceil_mode)
    attrs = {"kernel": kernel, "stride": stride, "dilation": dilation, "pads": p}
    if op == "avg_pool3d":
        attrs["count_pads"] = explicit if count_include_pad else (0,) * 6
    y = b.emit(op, [b.layout(X, NCDHW_TO_NDHWC)], attrs)
    return b.act(y, NCDHW_TO_NDHWC, like=X if op == "max_pool3d" else None)


def needs_pool3d(b: Builder, X, kernel_shape, strides, pads, auto_pad, dilations,
                 count_include_pad=0) -> bool:
    """Whether a 2-D pooling needs the 3-D op: dilation > 1, or count_include_pad=1 with
    padding (TFLite's pooling has neither)."""
    if X.is_const or X.rank != 4 or kernel_shape is None:
        return False
    if _vals(b, dilations, 2, "dilations") != (1, 1):
        return True
    if not count_include_pad:
        return False
    _, explicit = nd_pads(b, X.shape[2:], _vals(b, kernel_shape, 2, "kernel_shape"),
                          _vals(b, strides, 2, "strides"), (1, 1), auto_pad, pads)
    return any(explicit)


def pool2d_as_3d(b: Builder, op: str, X, *, kernel_shape, strides, pads, auto_pad,
                 ceil_mode, dilations, count_include_pad=0):
    """A 2-D pooling as the 3-D op with D = 1: [N, C, H, W] -> [N, C, 1, H, W] and back (in
    the IR both are free reshapes of NHWC)."""
    v = b.layout(X, NCHW_TO_NHWC)
    n, h, w, c = v.shape
    v5 = b.reshape(v, (n, 1, h, w, c), f"{b.out_name}_3d_in")
    X5 = Tensor(name=X.name, value=v5, perm=NCDHW_TO_NDHWC, itype=X.itype, q=X.q)
    k = _vals(b, kernel_shape, 2, "kernel_shape")
    st, dl = _vals(b, strides, 2, "strides"), _vals(b, dilations, 2, "dilations")
    p = None if pads is None else [int(x) for x in pads]
    if p is not None and len(p) != 4:
        raise b.error(f"pads {p} for a 2-D op", "expected 4 values.", cls=ModelError)
    y = pool3d(b, op, X5, kernel_shape=(1, *k), strides=(1, *st),
               pads=None if p is None else [0, p[0], p[1], 0, p[2], p[3]],
               auto_pad=auto_pad, ceil_mode=ceil_mode, dilations=(1, *dl),
               count_include_pad=count_include_pad)
    y5 = b.layout(y, NCDHW_TO_NDHWC)
    _, _, oh, ow, _ = y5.shape
    out = b.reshape(y5, (n, oh, ow, c), b.out_name)
    return Tensor(value=out, perm=NCHW_TO_NHWC, itype=y.itype, q=y.q)


def tconv_dense_weights(b: Builder, W: Tensor, w: np.ndarray, group: int,
                        dilation: tuple[int, int]) -> Tensor:
    """A grouped / dilated ConvTranspose's weights [C, O / group, KH, KW] as one dense,
    undilated ConvTranspose's [C, O, KH', KW']: input channel c of group g feeds output
    channels g O/G ... (g + 1) O/G (zeros elsewhere), and a dilated kernel's taps sit every
    d-th position of a (k - 1) d + 1 kernel (zeros between). The same sums, so the same
    bits."""
    if group == 1 and tuple(dilation) == (1, 1):
        return W
    c_in, og = w.shape[0], w.shape[1]
    if group < 1 or c_in % group:
        raise b.error(f"ConvTranspose group={group} with weights {list(w.shape)}",
                      "expected a group count dividing the input channels.", cls=ModelError)
    if min(dilation) < 1:
        raise b.error(f"ConvTranspose dilations {list(dilation)}", "expected values >= 1.",
                      cls=ModelError)
    if W.qdata is not None:
        raise b.error(f"ConvTranspose group={group}, dilations {list(dilation)} with quantized "
                      "(QDQ) weights", "only group=1 and dilation 1, or float weights, are "
                      "supported.")
    (dh, dw), (kh, kw) = dilation, w.shape[2:]
    full = np.zeros((c_in, og * group, (kh - 1) * dh + 1, (kw - 1) * dw + 1), np.float32)
    ci = c_in // group
    for g in range(group):
        full[g * ci:(g + 1) * ci, g * og:(g + 1) * og, ::dh, ::dw] = w[g * ci:(g + 1) * ci]
    return Tensor(name=W.name, data=full)


def tconv3d(b: Builder, X, W, B, *, auto_pad, dilations, group, kernel_shape, output_padding,
            output_shape, pads, strides):
    """A 3-D ConvTranspose with stride 1 as IR conv3d: the kernel flipped, its channel axes
    swapped, padding d (k - 1) - pad on each side (every output gathers exactly the taps the
    transposed convolution scatters onto it: the same sums, so the same bits). Strides > 1
    are refused."""
    _need5(b, X, "3-D ConvTranspose")
    w = b.const_input(W, "W")
    if w.ndim != 5 or w.shape[0] != X.shape[1]:
        raise b.error(f"3-D ConvTranspose weights {list(w.shape)} for {X.shape[1]} input "
                      "channels", "expected [C, O / group, KD, KH, KW].", cls=ModelError)
    if kernel_shape is not None and tuple(kernel_shape) != w.shape[2:]:
        raise b.error(f"kernel_shape {list(kernel_shape)} but weights {list(w.shape)}",
                      "kernel_shape must equal the weights' spatial dims.", cls=ModelError)
    stride = _vals(b, strides, 3, "strides")
    if stride != (1, 1, 1):
        raise b.error(f"3-D ConvTranspose strides {list(stride)}",
                      "only stride 1 is supported in 3-D (2-D and 1-D: any stride).")
    dilation = _vals(b, dilations, 3, "dilations")
    if min(dilation) < 1 or any(_vals(b, output_padding, 3, "output_padding", 0)):
        raise b.error(f"3-D ConvTranspose dilations {list(dilation)}, output_padding "
                      f"{output_padding}", "expected dilations >= 1 and output_padding 0 "
                      "(< stride 1).", cls=ModelError)
    if W.qdata is not None:
        raise b.error("3-D ConvTranspose with quantized (QDQ) weights",
                      "only float weights are supported in 3-D.")
    span = [(k - 1) * d for k, d in zip(w.shape[2:], dilation)]
    if output_shape is not None or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        want = list(X.shape[2:]) if output_shape is None else [int(v) for v in
                                                               output_shape][-3:]
        total = [X.shape[2 + i] + span[i] - want[i] for i in range(3)]
        if min(total) < 0:
            raise b.error(f"3-D ConvTranspose output_shape {want}", "larger than the input "
                          "spreads to.", cls=ModelError)
        head = [t // 2 if auto_pad == "SAME_UPPER" else t - t // 2 for t in total]
        p = head + [t - h for t, h in zip(total, head)]
    elif auto_pad in ("NOTSET", "VALID"):
        p = [0] * 6 if auto_pad == "VALID" or pads is None else [int(v) for v in pads]
    else:
        raise b.error(f"auto_pad '{auto_pad}' is not an ONNX value", cls=ModelError)
    if len(p) != 6 or min(p) < 0 or any(p[i] > span[i % 3] for i in range(6)):
        raise b.error(f"3-D ConvTranspose pads {p}", "expected 6 values in [0, (k - 1) "
                      "dilation].", cls=ModelError)
    c_in, og = w.shape[0], w.shape[1]
    if group < 1 or c_in % group:
        raise b.error(f"ConvTranspose group={group} with weights {list(w.shape)}",
                      "expected a group count dividing the input channels.", cls=ModelError)
    full = np.zeros((c_in, og * group) + w.shape[2:], np.float32)
    ci = c_in // group
    for g in range(group):
        full[g * ci:(g + 1) * ci, g * og:(g + 1) * og] = w[g * ci:(g + 1) * ci]
    conv_w = np.ascontiguousarray(full.transpose(1, 0, 2, 3, 4)[:, :, ::-1, ::-1, ::-1])
    wv = b.weight(Tensor(name=W.name, data=conv_w), (0, 2, 3, 4, 1))
    pads3 = tuple(span[i % 3] - p[i] for i in range(6))
    y = b.emit("conv3d", [b.layout(X, NCDHW_TO_NDHWC), wv, b.bias(B, og * group)],
               {"stride": (1, 1, 1), "pads": pads3, "dilation": dilation})
    return b.act(y, NCDHW_TO_NDHWC)
