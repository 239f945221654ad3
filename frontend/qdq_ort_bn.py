"""ONNX Runtime's float BatchNormalization between QDQ pairs (compile's ort_exact, ORT-family
imports): ORT has no quantized BatchNormalization, so DQ -> BatchNormalization (-> Relu) -> Q
runs in float32 (onnxruntime/core/providers/cpu/nn/batch_norm.h, inference):
    inv_std = 1 / sqrt(var + epsilon);  new_scale = inv_std * scale
    new_bias = bias - mean * new_scale;  y = x * new_scale + new_bias
each step one float32 operation (IEEE, round to nearest even), x = (q - zp_in) * s_in, then
QuantizeLinear: nearbyint(y / s_out) + zp_out, saturated (a Relu in between: max(y, 0); ORT
drops it when the zero point is the type's minimum, the same result). Its input is one of 256
int8 values per channel, so the whole thing is a table per channel, computed here in numpy
float32 (the IR op lut_channels: no float in the C). By default (no ort_exact) the batch_norm
keeps its folded lowering (a 1x1 depthwise conv and TFLite's requantization)."""
from __future__ import annotations

import numpy as np

F32 = np.float32


def ort_batchnorm_tables(x_q, y_q, scale, bias, mean, var, epsilon: float,
                         relu: bool) -> np.ndarray:
    """[C, 256] int8: ORT's float32 BatchNormalization (-> Relu) -> QuantizeLinear of each
    channel's 256 int8 inputs (x_q, y_q: per-tensor QParams in the int8 view)."""
    scale, bias, mean, var = (np.asarray(v, np.float32).reshape(-1) for v in
                              (scale, bias, mean, var))
    inv_std = F32(1) / np.sqrt(F32(var + F32(epsilon)))
    new_scale = F32(inv_std * scale)
    new_bias = F32(bias - F32(mean * new_scale))
    q = np.arange(-128, 128)
    x = F32(F32(q - x_q.zp) * F32(x_q.s))                          # [256]
    y = F32(F32(x[None, :] * new_scale[:, None]) + new_bias[:, None])
    if relu:
        y = np.maximum(y, F32(0))
    r = np.rint(F32(y / F32(y_q.s))) + y_q.zp
    return np.clip(r, -128, 127).astype(np.int8)


def ort_float_batchnorms(g) -> None:
    """batch_norm (-> relu) with a QDQ-quantized input and output and constant parameters ->
    lut_channels with ORT's float32 tables (above)."""
    for bn in [n for n in g.nodes if n.op == "batch_norm"]:
        x, out = bn.inputs[0], bn.outputs[0]
        params = bn.inputs[1:5]
        if x.q is None or x.q.per_channel or len(params) != 4 or any(
                v is None or not v.is_const for v in params):
            continue
        users = g.consumers(out)
        relu = None
        if out.q is None and len(users) == 1 and users[0].op == "relu" and \
                out not in g.outputs:
            relu = users[0]
            out = relu.outputs[0]
        if out.q is None or out.q.per_channel:
            continue
        c = x.shape[-1]
        data = [np.broadcast_to(np.asarray(v.data, np.float32).reshape(-1), (c,))
                for v in params]
        table = ort_batchnorm_tables(x.q, out.q, *data, float(bn.attrs.get("epsilon", 1e-5)),
                                     relu is not None)
        node = g.add("lut_channels", [x], [out.type], {"table": table},
                     name=f"{out.name}_ort_bn", before=bn)
        g.replace_all_uses_with(out, node.outputs[0])
        for n in (relu, bn):
            if n is not None:
                g.remove(n)
