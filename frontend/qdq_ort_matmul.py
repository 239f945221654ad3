"""ONNX Runtime's float MatMul with float weights between QDQ tensors (compile's ort_exact,
ORT-family imports). torch pt2e (XNNPACKQuantizer) leaves a Linear after a float island
(DQ(a), DQ(b) -> Concat -> MaxPool -> Reshape) with float32 weights: ORT concatenates the two
inputs' float values, runs MatMul -> Q -> DQ -> Add(DQ(bias)) -> Q, a float32 product rounded
to the product's QuantizeLinear, then the bias added in float and rounded again. tinyc's
default lowering requantizes the Concat's inputs to one int8 quantization and folds the rest
into one int8 layer (int8 weights, the bias in the accumulator, one rounding). Here, instead:
- the Concat in int16, at one symmetric int16 scale covering both inputs' ranges (attrs
  activations / int16_q; passes/quantize.py converts each int8 input straight to it), the
  MaxPool / Transpose / Reshape after it following in int16;
- the product: batch_matmul with int16 activations and int16 weights (16x16, per tensor),
  requantized to the product's own int8 quantization;
- the bias Add: lut_channels, per channel the 256 int8 products -> ORT's float32
  nearbyint(float32(float32((q - zp) * s) + bias) / s_out) + zp_out (no float in the C).
On mixed_pt2e: 8 of 2,000 logits one step from ORT (the int16 roundings), was 638 and 2 steps
(tests/test_ort_float_island.py)."""
from __future__ import annotations

import numpy as np

from ..ir.types import QParams, TensorType

F32 = np.float32


def ort_bias_tables(x_q, y_q, bias) -> np.ndarray:
    """[C, 256] int8: ORT's DQ(x) + bias -> QuantizeLinear, in float32, per channel."""
    q = np.arange(-128, 128)
    x = F32(F32(q - x_q.zp) * F32(x_q.s))
    y = F32(x[None, :] + np.asarray(bias, F32).reshape(-1)[:, None])
    r = np.rint(F32(y / F32(y_q.s))) + y_q.zp
    return np.clip(r, -128, 127).astype(np.int8)


def ort_float_matmuls(g, product_q: dict) -> None:
    """fully_connected with float weights, a constant bias folded from an Add whose input was
    quantized (product_q: id(layer) -> that quantization) -> batch_matmul (int16) and
    lut_channels (above)."""
    for fc in [n for n in g.nodes if n.op == "fully_connected"]:
        pq = product_q.get(id(fc))
        x, w, b = fc.inputs[0], fc.inputs[1], fc.input(2)
        out = fc.outputs[0]
        if pq is None or pq.per_channel or w.q is not None or not w.is_const or b is None \
                or not b.is_const or b.q is not None or out.q is None or out.q.per_channel \
                or len(x.shape) != 2 or fc.attrs.get("activations"):
            continue
        _int16_concat(g, x)
        wt = g.const(f"{w.name}_t", np.ascontiguousarray(np.asarray(w.data, F32).T))
        mm = g.add("batch_matmul", [x, wt], [out.type.with_(q=pq)], {"activations": "int16"},
                   name=f"{out.name}_product", before=fc)
        table = ort_bias_tables(pq, out.q, b.data)
        lut = g.add("lut_channels", [mm.outputs[0]], [TensorType(out.dtype, out.shape, out.q)],
                    {"table": table}, name=f"{out.name}_ort_bias", before=fc)
        g.replace_all_uses_with(out, lut.outputs[0])
        g.remove(fc)
        lut.outputs[0].name = out.name           # a graph output keeps its name


def _int16_concat(g, x) -> None:
    """x = reshape / transpose / max_pool2d of a Concat of differently quantized inputs (pt2e's
    float island; ORT concatenates their float values): the Concat in int16 (its inputs
    requantized to its int16 quantization, not to one int8 one: passes/quantize.py), the ops
    between following in int16, so that the product sees (nearly) ORT's values."""
    v = x
    while v.producer is not None and v.producer.op in ("reshape", "transpose", "max_pool2d") \
            and len(v.uses) == 1 and v not in g.outputs:
        v = v.producer.inputs[0]
    cat = v.producer
    if cat is None or cat.op != "concat" or len(v.uses) != 1 or v in g.outputs:
        return
    qs = [i.q for i in cat.inputs]
    if any(i.is_const for i in cat.inputs) or any(q is None or q.per_channel for q in qs) \
            or len(set(qs)) < 2:
        return
    big = max(max(abs((-128 - q.zp) * q.s), abs((127 - q.zp) * q.s)) for q in qs)
    cat.attrs.update(activations="int16", int16_q=True)      # both inputs' ranges
    cat.outputs[0].type = cat.outputs[0].type.with_(q=QParams((big / 32767,), (0,)))
