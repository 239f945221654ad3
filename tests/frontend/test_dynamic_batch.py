"""A dynamic batch dim (PyTorch's dynamic_axes={'x': {0: 'batch'}, 'y': {0: 'batch'}}: a
dim_param on the input and the output; also 'N', a dim with no value, -1) is pinned to 1 by
default where frontend/batch.py proves the graph keeps the samples apart (one note line);
reference: onnxruntime running the dynamic model at batch 3, sample by sample. A graph that
mixes samples, and other dynamic dims, still ask for --input-shape naming the input and dim."""
from __future__ import annotations

import logging

import numpy as np
import onnx
import pytest
from onnx import helper as h

from tinyc.errors import ModelError
from tinyc.frontend import load_onnx
from tinyc.ir import interpret, verify

from .util import make_model, rand, session

node = h.make_node


def _torch_style(batch_dim, out_dim="batch") -> onnx.ModelProto:
    """Conv -> Relu -> MaxPool -> x.view(x.size(0), -1) (Shape/Gather/Unsqueeze/Concat) ->
    Gemm (transB, as torch.nn.Linear) -> Softmax, batch dim symbolic on input and output."""
    inits = {"w": rand(4, 3, 3, 3, seed=1) * 0.5, "cb": rand(4, seed=2) * 0.1,
             "fw": rand(5, 36, seed=3) * 0.3, "fb": rand(5, seed=4) * 0.1,
             "zero": np.array(0, np.int64), "zero1": np.array([0], np.int64),
             "minus1": np.array([-1], np.int64)}
    nodes = [node("Conv", ["x", "w", "cb"], ["c"], name="/conv/Conv", pads=[1, 1, 1, 1]),
             node("Relu", ["c"], ["r"], name="/relu/Relu"),
             node("MaxPool", ["r"], ["p"], name="/pool/MaxPool", kernel_shape=[2, 2],
                  strides=[2, 2]),
             node("Shape", ["p"], ["sh"], name="/Shape"),
             node("Gather", ["sh", "zero"], ["n0"], name="/Gather", axis=0),
             node("Unsqueeze", ["n0", "zero1"], ["n1"], name="/Unsqueeze"),
             node("Concat", ["n1", "minus1"], ["t"], name="/Concat", axis=0),
             node("Reshape", ["p", "t"], ["f"], name="/Reshape"),
             node("Gemm", ["f", "fw", "fb"], ["g"], name="/fc/Gemm", transB=1),
             node("Softmax", ["g"], ["y"], name="/Softmax", axis=1)]
    m = make_model(nodes, {"x": [batch_dim, 3, 6, 6]}, {"y": [out_dim, 5]}, inits)
    return m


def _dim0(m: onnx.ModelProto, how: str) -> onnx.ModelProto:
    d = m.graph.input[0].type.tensor_type.shape.dim[0]
    d.Clear()
    if how == "-1":
        d.dim_value = -1
    return m


@pytest.mark.parametrize("how", ["batch", "N", "none", "-1"])
def test_dynamic_batch_pinned_to_1_matches_onnxruntime(how, caplog):
    m = _torch_style(how if how in ("batch", "N") else "batch")
    if how in ("none", "-1"):
        m = _dim0(m, how)
    ref = _torch_style("batch")                      # what onnxruntime runs at batch 3
    with caplog.at_level(logging.WARNING, "tinyc"):
        g = load_onnx(m)
    notes = [r.getMessage() for r in caplog.records if "pinned to 1" in r.getMessage()]
    assert len(notes) == 1 and "input 'x' dim 0" in notes[0], notes
    verify(g)
    assert g.inputs[0].shape == (1, 3, 6, 6) and g.outputs[0].shape == (1, 5)
    x = rand(3, 3, 6, 6, seed=7)
    want = session(ref).run(None, {"x": x})[0]
    got = np.concatenate([interpret(g, {"x": x[i:i + 1]})[0] for i in range(3)])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_given_input_shape_wins_and_gives_no_note(caplog):
    with caplog.at_level(logging.WARNING, "tinyc"):
        g = load_onnx(_torch_style("batch"), input_shapes={"x": (1, 3, 6, 6)})
    assert g.inputs[0].shape == (1, 3, 6, 6)
    assert not [r for r in caplog.records if "pinned to 1" in r.getMessage()]


def test_graph_mixing_samples_asks_for_input_shape():
    """ReduceMean over axis 0 averages the samples: not pinned by default."""
    nodes = [node("Relu", ["x"], ["r"], name="relu"),
             node("ReduceMean", ["r"], ["y"], name="batch_mean", axes=[0], keepdims=1)]
    m = make_model(nodes, {"x": ["batch", 4]}, ["y"], opset=13)
    with pytest.raises(ModelError, match=r"input 'x' has a dynamic dim 0 \('batch'\).*"
                       r"mixes the samples.*batch_mean.*--input-shape x=1,4"):
        load_onnx(m)
    g = load_onnx(m, input_shapes={"x": (1, 4)})          # the user's choice: allowed
    assert g.inputs[0].shape == (1, 4)


def test_other_dynamic_dims_still_ask_naming_them():
    m = make_model([node("Relu", ["x"], ["y"])], {"x": ["batch", 3, "height", 8]}, ["y"])
    with pytest.raises(ModelError, match=r"input 'x' has dynamic shape \[batch,3,height,8\] "
                       r"\(dim 0 \('batch'\), dim 2 \('height'\) dynamic\).*"
                       r"--input-shape x=1,3,N,8"):
        load_onnx(m)
