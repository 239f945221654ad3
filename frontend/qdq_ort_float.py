"""ONNX Runtime's float32 averages (compile's ort_exact, ORT-family QDQ imports): an average
ORT computes in float32 on dequantized values gets attrs["ort_float"] on its avg_pool2d
(ir/ort_float.py: the exact float32 steps in numpy; runtime/tinyc_ort_float.h: the same in
integers), with the input's zero point and float32 scale (ort_zp, ort_scale):
- ReduceMean over H and W between DQ and Q (pt2e writes the global pool so): ORT keeps it in
  float (DQ -> ReduceMean -> Q), an Eigen vectorized sum / count (ORT_FLOAT_REDUCE_MEAN);
- AveragePool (QDQ) or QLinearAveragePool (QOperator): ORT runs QLinearAveragePool, a float32
  sum in window order / count, then nearbyint(y / s + zp) (ORT_FLOAT_QLINEAR_AVG).
QLinearAveragePool may rescale (QOperator files give it its own output scale): the node then
writes the output's quantization itself (ort_out_zp, ort_out_scale; passes/quantize.py adds no
requantizing table after it). GlobalAveragePool (QLinearGlobalAveragePool: MLAS integer sums,
already exact) keeps round_half_even."""
from __future__ import annotations

from ..ir.ort_float import ORT_FLOAT_QLINEAR_AVG, ORT_FLOAT_REDUCE_MEAN

# the ONNX op an avg_pool2d came from (frontend origin string "... (<op>, opset n)")
_MODE = {"ReduceMean": ORT_FLOAT_REDUCE_MEAN, "AveragePool": ORT_FLOAT_QLINEAR_AVG,
         "QLinearAveragePool": ORT_FLOAT_QLINEAR_AVG}
# the float32 steps stay IEEE normal numbers (no subnormal, no overflow) for such scales
SCALE_RANGE = (2.0 ** -90, 2.0 ** 90)


def ort_float_averages(g, origin: dict) -> None:
    """Mark the averages ORT computes in float32 (above). origin: id(node) -> where it came from."""
    for node in g.nodes:
        if node.op != "avg_pool2d":
            continue
        x, y = node.inputs[0], node.outputs[0]
        where = origin.get(id(node), "")
        op = next((k for k in _MODE if f"({k}," in where), None)
        if op is None or x.q is None or y.q is None or x.q.per_channel or y.q.per_channel:
            continue
        a = node.attrs
        if op == "ReduceMean" and (tuple(a["kernel"]) != x.shape[1:3] or any(a["pads"])
                                   or x.q != y.q):
            continue
        if not all(SCALE_RANGE[0] <= float(q.scale[0]) <= SCALE_RANGE[1] for q in (x.q, y.q)):
            continue
        a["ort_float"] = _MODE[op]
        a["ort_zp"], a["ort_scale"] = int(x.q.zp), float(x.q.scale[0])
        a["ort_out_zp"], a["ort_out_scale"] = int(y.q.zp), float(y.q.scale[0])


def ort_float_muls(g) -> None:
    """A Mul of two QDQ-quantized tensors is ORT's QLinearMul (MLAS: rint(float32((a - za) *
    (b - zb)) * float32(float32(sa * sb) / sc)) + zc, half to even; equal to its float DQ -> Mul
    -> Q on every input pair of the scales tried, tests/test_ort_float_avg.py): attrs["ort_mul"]
    makes quantize give it that float32 ratio (quant_rules mul_rule: ort_mult, ort_exp),
    requantized as ORT (ir/ops/eltwise.py mul_int; kernel mul.ort, runtime/tinyc_ort.h)."""
    for node in g.nodes:
        if node.op != "mul" or node.attrs.get("act") is not None:
            continue
        qs = [v.q for v in (*node.inputs[:2], node.outputs[0])]
        if all(q is not None and not q.per_channel for q in qs):
            node.attrs["ort_mul"] = True
