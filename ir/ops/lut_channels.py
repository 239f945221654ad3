"""lut_channels: an int8 -> int8 function per channel (channels last), as C tables of 256 int8
values: y[..., c] = table[c][x[..., c] + 128]. Made by the ONNX QDQ import with ort_exact for a
BatchNormalization that ONNX Runtime runs in float between DequantizeLinear and QuantizeLinear
(frontend/qdq_ort_bn.py: each channel's table is ORT's float32 arithmetic on the 256 inputs);
kernel lut_channels (runtime/tinyc_lut_channels_s8.c)."""
from __future__ import annotations

import numpy as np

from .eltwise import table_float
from .registry import op, require


def lut_channels_int(node, x):
    table = np.asarray(node.attrs["table"], np.int8)
    c = np.arange(x.shape[-1])
    return table[c, x.astype(np.int16) + 128]


def lut_channels_float(node, x):
    """Real-valued view between quantized tensors: dequant(table[c][quant(x)])."""
    return table_float(node, x, lut_channels_int, "lookup tables need")


@op("lut_channels", run_float=lut_channels_float, run_int=lut_channels_int,
    int_attrs=("table",), inplace=(0,), channel_tie=True, trainable=False,
    trainable_note="integer graphs only (ONNX Runtime's float BatchNormalization as tables)")
def lut_channels(inputs, attrs):
    """lut_channels(x[..., C]) {table: C x 256 int8, row c indexed by x + 128}"""
    x = inputs[0]
    t = np.asarray(attrs["table"])
    require(t.ndim == 2 and t.shape == (x.shape[-1], 256), "lut_channels", "table",
            f"[{x.shape[-1]}, 256]", t.shape)
    return [x.type.with_(q=None)]
