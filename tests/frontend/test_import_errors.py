"""Every user error is one clear line: file, node, op type, opset, what is wrong, how to fix."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper as h

from tinyc.errors import ModelError, UnsupportedOpError
from tinyc.frontend import load_onnx

from .util import make_model, rand

node = h.make_node


def _save(model, tmp_path, name="m.onnx"):
    path = tmp_path / name
    onnx.save(model, path)
    return path


def test_unsupported_op_names_node_op_opset_and_supported_ops(tmp_path):
    m = make_model([node("Relu", ["x"], ["r"]),
                    node("Einsum", ["r", "r"], ["y"], name="mix", equation="ij,ij->ij")],
                   {"x": [1, 4]}, ["y"], opset=13)
    path = _save(m, tmp_path)
    with pytest.raises(UnsupportedOpError) as e:
        load_onnx(path)
    msg = str(e.value)
    assert str(path) in msg and "node 'mix'" in msg and "Einsum" in msg and "opset 13" in msg
    assert "Conv" in msg and "Softmax" in msg and "\n" not in msg


def test_lstm_with_cell_clip_is_unsupported():
    """(bidirectional LSTMs are supported: tests/frontend/test_lstm_onnx.py)"""
    w, r = rand(2, 8, 3), rand(2, 8, 2)
    m = make_model([node("LSTM", ["x", "W", "R"], ["y"], name="rnn", hidden_size=2,
                         direction="bidirectional", clip=3.0)],
                   {"x": [1, 1, 3]}, ["y"], {"W": w, "R": r})
    with pytest.raises((UnsupportedOpError, ModelError), match="LSTM.*clip"):
        load_onnx(m)


def test_dynamic_dims_ask_for_input_shape():
    m = make_model([node("Relu", ["x"], ["y"])], {"x": ["batch", 3, "h", 8]}, ["y"])
    with pytest.raises(ModelError, match=r"input 'x'.*--input-shape x=1,3,N,8"):
        load_onnx(m)
    g = load_onnx(m, input_shapes={"x": (1, 3, 5, 8)})
    assert g.inputs[0].shape == (1, 3, 5, 8)


def test_batch_must_be_one():
    m = make_model([node("Relu", ["x"], ["y"])], {"x": [4, 3]}, ["y"])
    with pytest.raises(ModelError, match=r"batch size 4.*--input-shape x=1,3"):
        load_onnx(m)


def test_input_shapes_naming_an_unknown_input():
    m = make_model([node("Relu", ["x"], ["y"])], {"x": [1, 3]}, ["y"])
    with pytest.raises(ModelError, match="'z', which is not an input"):
        load_onnx(m, input_shapes={"z": (1, 3)})


def test_malformed_and_missing_files(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07this is not protobuf\xff\xff")
    with pytest.raises(ModelError, match="bad.onnx"):
        load_onnx(bad)
    with pytest.raises(ModelError, match="no such file"):
        load_onnx(tmp_path / "absent.onnx")


def test_checker_failure_is_a_model_error():
    m = make_model([node("Relu", ["x"], ["y"])], {"x": [1, 3]}, ["y"])
    m.graph.node[0].attribute.append(h.make_attribute("alpha", 1.0))   # Relu has none
    with pytest.raises(ModelError, match="onnx.checker"):
        load_onnx(m)
    m = make_model([node("Relu", ["x"], ["y"], name="r")], {"x": [1, 3]}, ["y"])
    m.graph.node[0].input[0] = "undefined_tensor"       # caught before the checker, precisely
    with pytest.raises(ModelError, match="node 'r' \\(Relu\\): input 'undefined_tensor' is not"):
        load_onnx(m)


def test_opset_out_of_range():
    m = make_model([node("Relu", ["x"], ["y"])], {"x": [1, 3]}, ["y"], opset=22)
    with pytest.raises(ModelError, match="opset 22 is not supported"):
        load_onnx(m)


def test_grouped_conv_that_does_not_divide():
    m = make_model([node("Conv", ["x", "W"], ["y"], group=3, name="g3")], {"x": [1, 6, 5, 5]},
                   ["y"], {"W": rand(4, 2, 3, 3)})
    with pytest.raises(ModelError, match=r"node 'g3' \(Conv, opset 13\): group=3 with 6 input"):
        load_onnx(m)


def test_matmul_of_rank6_operands():
    """(MatMul with a 1-D operand is supported now: numpy's promotion,
    tests/frontend/test_onnx_small_ops.py.)"""
    m = make_model([node("MatMul", ["x", "x2"], ["y"], name="mm")],
                   {"x": [1, 1, 1, 1, 2, 3], "x2": [1, 1, 1, 1, 3, 2]}, ["y"])
    with pytest.raises(UnsupportedOpError, match="node 'mm'.*rank 1 to 5"):
        load_onnx(m)


def test_unknown_attribute_is_reported():
    m = make_model([node("Relu", ["x"], ["y"], name="r")], {"x": [1, 3]}, ["y"])
    m.graph.node[0].attribute.append(h.make_attribute("alpha", 0.1))
    with pytest.raises((UnsupportedOpError, ModelError), match="alpha"):
        load_onnx(m)


def test_unsupported_input_dtype():
    m = make_model([node("Cast", ["x"], ["y"], to=1)], {"x": [1, 3]}, ["y"],
                   itype=onnx.TensorProto.INT64)
    with pytest.raises(ModelError, match="input 'x' has type"):
        load_onnx(m)


def test_pad_reflect_as_long_as_the_axis():
    """(reflect, edge and wrap pads are supported: tests/frontend/test_onnx_small_ops.py.)"""
    inits = {"p": np.array([0, 0, 4, 1, 0, 0, 1, 1], np.int64)}
    m = make_model([node("Pad", ["x", "p"], ["y"], mode="reflect")], {"x": [1, 2, 4, 4]},
                   ["y"], inits)
    with pytest.raises(ModelError, match="mode 'reflect' by 4 on an axis of 4"):
        load_onnx(m)
