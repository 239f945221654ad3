"""Old opsets (7..10): converted with onnx.version_converter to opset 11 (one note line), then
compiled like any model. References: onnxruntime on the ORIGINAL old-opset model (float
import within 1e-4 of it), the int8 build's accuracy on the digits test split (within 1 point
of the float model's), host C == interpret()."""
from __future__ import annotations

import logging

import numpy as np
import onnx
import pytest
from onnx import helper as h
from onnx import numpy_helper as nh

import tinyc
from tinyc.errors import ModelError
from tinyc.frontend import load_onnx
from tinyc.frontend import old_opset
from tinyc.ir import interpret

from .util import make_model, rand, session


def _mnist_cnn(opset: int, bn: bool = True) -> onnx.ModelProto:
    """A CNTK-style MNIST CNN written at an old opset: Conv (+ BatchNormalization) / Relu /
    MaxPool twice, Reshape to [1, -1], Gemm (C required before opset 11), Softmax."""
    nodes = [h.make_node("Conv", ["x", "W1", "B1"], ["c1"], kernel_shape=[5, 5],
                         pads=[2, 2, 2, 2], name="conv1")]
    top = "c1"
    if bn:
        nodes.append(h.make_node("BatchNormalization", ["c1", "s", "o", "m", "v"], ["bn1"],
                                 epsilon=1e-5, name="bn1"))
        top = "bn1"
    nodes += [h.make_node("Relu", [top], ["r1"]),
              h.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
              h.make_node("Conv", ["p1", "W2", "B2"], ["c2"], kernel_shape=[3, 3],
                          pads=[1, 1, 1, 1]),
              h.make_node("Relu", ["c2"], ["r2"]),
              h.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]),
              h.make_node("Reshape", ["p2", "shape"], ["f"]),
              h.make_node("Gemm", ["f", "Wf", "Bf"], ["z"]),
              h.make_node("Softmax", ["z"], ["y"])]
    inits = {"W1": rand(4, 1, 5, 5, seed=1) * 0.3, "B1": rand(4, seed=2) * 0.1,
             "s": 1 + 0.1 * rand(4, seed=3), "o": 0.1 * rand(4, seed=4),
             "m": 0.1 * rand(4, seed=5), "v": 1 + np.abs(rand(4, seed=6)),
             "W2": rand(8, 4, 3, 3, seed=7) * 0.3, "B2": rand(8, seed=8) * 0.1,
             "shape": np.array([1, -1], np.int64), "Wf": rand(8 * 7 * 7, 10, seed=9) * 0.1,
             "Bf": rand(10, seed=10) * 0.1}
    if not bn:
        for k in "somv":
            inits.pop(k)
    ins = [h.make_tensor_value_info("x", 1, [1, 1, 28, 28])]
    if opset < 9:                           # IR version 3: initializers are graph inputs too
        ins += [h.make_tensor_value_info(k, 7 if k == "shape" else 1, np.shape(a))
                for k, a in inits.items()]
    g = h.make_graph(nodes, "mnist", ins,
                     [h.make_tensor_value_info("y", 1, [1, 10])],
                     [nh.from_array(np.asarray(a), k) for k, a in inits.items()])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 4 if opset >= 9 else 3
    onnx.checker.check_model(m)
    return m


@pytest.mark.parametrize("opset", [7, 8, 9, 10])
def test_mnist_cnn_at_old_opset_matches_onnxruntime(opset, caplog):
    m = _mnist_cnn(opset)
    with caplog.at_level(logging.WARNING, "tinyc"):
        g = load_onnx(m)
    notes = [r.getMessage() for r in caplog.records if "version_converter" in r.getMessage()]
    assert len(notes) == 1 and f"opset {opset} model converted to opset 11" in notes[0]
    sess = session(m)                       # the original, old-opset model
    for seed in range(3):
        x = rand(1, 1, 28, 28, seed=seed)
        want = sess.run(None, {"x": x})[0]
        got = interpret(g, {"x": x})[0]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_mnist_cnn_opset_8_int8_build(tmp_path):
    m = _mnist_cnn(8, bn=False)
    path = tmp_path / "m8.onnx"
    path.write_bytes(m.SerializeToString())
    calib = {"x": np.stack([np.abs(rand(1, 28, 28, seed=s)) for s in range(24)])}
    model = tinyc.compile(path, calib=calib, progress=None)
    x = np.abs(rand(1, 1, 28, 28, seed=50))
    want = session(m).run(None, {"x": x})[0]
    got = model.interpret(x)
    assert np.abs(got - want).max() <= 0.05          # softmax probabilities, int8 output
    xq = model.inputs[0].quantize(x)
    np.testing.assert_array_equal(model.run_host(xq), model.interpret(xq))


@pytest.mark.parametrize("opset", [7, 9])
def test_digits_down_converted_keeps_accuracy(opset, example_dir, tmp_path):
    """The bundled digits CNN (Conv, BatchNormalization, Relu, GlobalAveragePool, Flatten,
    Gemm with C) written at opset 7 / 9 (onnx.version_converter has no down adapter for Relu:
    the opset is relabelled, which the full checker accepts, as these ops read the same
    there): compiled, float == onnxruntime on the old model, int8 accuracy within 1 point."""
    old = onnx.load(str(example_dir / "digits.onnx"))
    old.opset_import[0].version = opset
    old.ir_version = 4
    onnx.checker.check_model(old, full_check=True)
    path = tmp_path / f"digits{opset}.onnx"
    path.write_bytes(old.SerializeToString())
    with np.load(example_dir / "calib.npz") as c, np.load(example_dir / "test.npz") as t:
        calib, x, y = c["input"], t["input"], t["label"]
    model = tinyc.compile(path, calib={"input": calib}, progress=None)
    want = session(old).run(None, {"input": x[:1]})[0]
    np.testing.assert_allclose(model.run_float(x[:1]), want, rtol=1e-4, atol=1e-4)
    flt = model.run_float(x, batch=True).reshape(len(x), -1).argmax(1)
    q = model.interpret(x, batch=True).reshape(len(x), -1).argmax(1)
    acc_f, acc_q = (flt == y).mean(), (q == y).mean()
    assert acc_f >= 0.95 and acc_q >= acc_f - 0.01, (acc_f, acc_q)
    xq = model.inputs[0].quantize(x[:4])
    np.testing.assert_array_equal(model.run_host(xq, batch=True), model.interpret(xq, batch=True))


def test_opset_below_7_is_refused():
    m = make_model([h.make_node("Relu", ["x"], ["y"])], {"x": [1, 3]}, ["y"], opset=6)
    with pytest.raises(ModelError, match=r"opset 6 is too old .*convert_version\(model, 11\)"):
        load_onnx(m)


def test_failed_conversion_names_opset_and_fix(monkeypatch):
    def broken(model, target):
        raise RuntimeError("No Adapter For Foo")
    monkeypatch.setattr(old_opset.version_converter, "convert_version", broken)
    m = make_model([h.make_node("Relu", ["x"], ["y"])], {"x": [1, 3]}, ["y"], opset=9)
    with pytest.raises(ModelError, match=r"opset 9 could not be converted to opset 11 .*"
                       r"No Adapter For Foo.* re-export"):
        load_onnx(m)
