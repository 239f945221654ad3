"""frontend/qdq_channels.py (issue 15, NNCF dwsep): a depthwise Conv's input quantized per
channel is folded into the producer's and the depthwise layer's weight scales. Checked against
onnxruntime on the file NNCF wrote (tests/qdq_models/dwsep_nncf.onnx): the folded activation's
int8 values are ORT's own (up to ORT's float32 rounding), the int8 weights are unchanged, and a
variant the fold cannot take (differing zero points) keeps its refusal."""
from __future__ import annotations

import pathlib

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

import tinyc
from tinyc.errors import TinycError
from tinyc.frontend.qdq_channels import fold_channel_scales

HERE = pathlib.Path(__file__).parent.parent / "qdq_models"
ACT = "q_output_/1/Relu_output_0_1"          # the per-channel quantized depthwise input


def _with_output(m: onnx.ModelProto, name: str) -> onnx.ModelProto:
    m2 = onnx.ModelProto()
    m2.CopyFrom(m)
    zp = {t.name: t.data_type for t in m.graph.initializer}
    q = next(n for n in m.graph.node if n.output[0] == name)
    m2.graph.output.append(helper.make_tensor_value_info(name, zp[q.input[2]], None))
    return m2


def _run(m: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    s = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    runs = [s.run(None, {name: x[i:i + 1]}) for i in range(len(x))]
    return [np.concatenate(r) for r in zip(*runs)]


def test_fold_keeps_the_int8_values_and_weights():
    m = onnx.load(HERE / "dwsep_nncf.onnx")
    f = fold_channel_scales(m)
    assert f is not m
    zp_type = {t.name: t.data_type for t in m.graph.initializer}
    # every activation Q / DQ is per tensor now
    inits = {t.name: numpy_helper.to_array(t) for t in f.graph.initializer}
    for n in f.graph.node:
        if n.op_type == "QuantizeLinear":
            assert inits[n.input[1]].size == 1, n.name
    # the int8 weights are the file's
    old = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    for name, a in old.items():
        if zp_type[name] == onnx.TensorProto.INT8 and a.ndim == 4:
            assert np.array_equal(inits[name], a), name
    x = np.load(HERE / "ref.npz")["input"].astype(np.float32)
    (y0, a0), (y1, a1) = _run(_with_output(m, ACT), x), _run(_with_output(f, ACT), x)
    d = np.abs(a0.astype(int) - a1.astype(int))
    assert d.max() <= 1 and (d > 0).mean() < 1e-3        # ORT's float32 rounding of the scales
    assert (y0.argmax(1) == y1.argmax(1)).all()


def test_differing_zero_points_are_not_folded(tmp_path):
    m = onnx.load(HERE / "dwsep_nncf.onnx")
    for t in m.graph.initializer:
        if t.name == "zero_point_/1/Relu_output_0_1":
            zp = numpy_helper.to_array(t).copy()
            zp[1] = 3
            t.CopyFrom(numpy_helper.from_array(zp, t.name))
    assert fold_channel_scales(m) is m
    with pytest.raises(TinycError, match="per-channel quantization of an activation"):
        onnx.save(m, tmp_path / "zp.onnx")
        tinyc.compile(tmp_path / "zp.onnx")
