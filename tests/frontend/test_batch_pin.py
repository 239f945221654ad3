"""Pinning a static batch N to 1 (frontend/batch.py): allowed where every node keeps the samples
apart — then sample n of the batch-1 model equals sample n of the batch-N model (onnxruntime on
the batch-N model is the reference; onnx.reference's BatchNormalization disagrees with both) —
and refused naming the node and op otherwise."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper as h

from tinyc.errors import ModelError, TinycError, UnsupportedOpError
from tinyc.frontend import load_onnx
from tinyc.ir import interpret, verify

from .util import make_model, rand, session

node = h.make_node
N = 3


def _cnn(batch: int, target: str = "literal") -> onnx.ModelProto:
    """Conv -> BatchNorm -> Relu -> MaxPool -> Reshape(batch, -1) -> Gemm -> Softmax(axis 1).
    target 'literal': the Reshape target is an initializer [batch, -1]; 'shape': PyTorch's
    x.view(x.size(0), -1) (Shape -> Gather -> Unsqueeze -> Concat)."""
    inits = {"w": rand(4, 3, 3, 3, seed=1), "cb": rand(4, seed=2),
             "s": np.abs(rand(4, seed=3)) + 0.5, "bb": rand(4, seed=4), "mu": rand(4, seed=5),
             "var": np.abs(rand(4, seed=6)) + 0.5, "fw": rand(36, 5, seed=7),
             "fb": rand(5, seed=8), "zero": np.array(0, np.int64),
             "minus1": np.array([-1], np.int64)}
    nodes = [node("Conv", ["x", "w", "cb"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             node("BatchNormalization", ["c", "s", "bb", "mu", "var"], ["n"], name="bn"),
             node("Relu", ["n"], ["r"], name="relu"),
             node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2])]
    if target == "literal":
        inits["t"] = np.array([batch, -1], np.int64)
    else:
        nodes += [node("Shape", ["p"], ["sh"], name="shape"),
                  node("Gather", ["sh", "zero"], ["n0"], name="n0", axis=0),
                  node("Unsqueeze", ["n0", "zero1"], ["n1"], name="n1"),
                  node("Concat", ["n1", "minus1"], ["t"], name="t", axis=0)]
        inits["zero1"] = np.array([0], np.int64)
    nodes += [node("Reshape", ["p", "t"], ["f"], name="flat"),
              node("Gemm", ["f", "fw", "fb"], ["g"], name="fc"),
              node("Softmax", ["g"], ["y"], name="softmax", axis=1)]
    return make_model(nodes, {"x": [batch, 3, 6, 6]}, ["y"], inits)


def _per_sample(model, x: np.ndarray, name: str = "x") -> list[np.ndarray]:
    """The batch-N model pinned to batch 1, run on each sample."""
    g = load_onnx(model, input_shapes={name: (1,) + x.shape[1:]})
    verify(g)
    return [interpret(g, {name: x[i:i + 1]})[0] for i in range(len(x))]


@pytest.mark.parametrize("target", ["literal", "shape"])
def test_separable_cnn_gives_per_sample_what_a_batch_1_export_gives(target):
    x = rand(N, 3, 6, 6, seed=9)
    pinned = _per_sample(_cnn(N, target), x)
    single = load_onnx(_cnn(1, target))
    want = session(_cnn(N, target)).run(None, {"x": x})[0]
    for i, got in enumerate(pinned):
        assert got.shape == (1, 5)
        assert np.array_equal(got, interpret(single, {"x": x[i:i + 1]})[0])
        np.testing.assert_allclose(got[0], want[i], rtol=1e-4, atol=1e-6)


def test_compiled_int8_model_of_the_pinned_batch_equals_the_batch_1_export(tmp_path):
    import tinyc
    x = rand(N, 3, 6, 6, seed=10)
    models = []
    for batch in (N, 1):
        path = tmp_path / f"b{batch}.onnx"
        onnx.save(_cnn(batch), path)
        models.append(tinyc.compile(path, board="mps2-an386", calib={"x": x[:, None]},
                                    input_shapes={"x": (1, 3, 6, 6)} if batch > 1 else None,
                                    progress=None))
    pinned, single = models
    q = pinned.inputs[0].quantize(x[:, None])
    assert np.array_equal(pinned.interpret(q, batch=True), single.interpret(q, batch=True))


SEPARABLE = {   # name: (nodes, inputs {name: shape at batch N}, initializers)
    "flatten_axis2_k3": ([node("Flatten", ["x"], ["f"], axis=2),
                          node("MatMul", ["f", "w"], ["y"])], {"x": [N, 3, 2, 2]},
                         {"w": rand(4, 2)}),
    "reshape_rows_k2": ([node("Reshape", ["x", "t"], ["y0"]), node("Relu", ["y0"], ["y"])],
                        {"x": [N, 2, 4]}, {"t": np.array([2 * N, 4], np.int64)}),
    "transpose_0_first": ([node("Transpose", ["x"], ["t"], perm=[0, 2, 1]),
                           node("Softmax", ["t"], ["y"], axis=-1)], {"x": [N, 4, 5]}, {}),
    "concat_two_pinned": ([node("Concat", ["x", "x2"], ["c"], axis=1),
                           node("ReduceMean", ["c"], ["y"], axes=[2, 3], keepdims=1)],
                          {"x": [N, 2, 3, 3], "x2": [N, 1, 3, 3]}, {}),
    "pad_spatial_add_row": ([node("Pad", ["x", "pads"], ["p"]),
                             node("Add", ["p", "b"], ["y"])], {"x": [N, 2, 3, 3]},
                            {"pads": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64),
                             "b": rand(1, 2, 1, 1)}),
}


@pytest.mark.parametrize("name", sorted(SEPARABLE))
def test_separable_graphs_match_onnxruntime_per_sample(name):
    nodes, inputs, inits = SEPARABLE[name]
    m = make_model(nodes, inputs, ["y"], inits)
    feeds = {k: rand(*s, seed=i) for i, (k, s) in enumerate(inputs.items())}
    want = session(m).run(None, feeds)[0]
    g = load_onnx(m, input_shapes={k: (1,) + tuple(s[1:]) for k, s in inputs.items()})
    verify(g)
    got = [interpret(g, {k: a[i:i + 1] for k, a in feeds.items()})[0] for i in range(N)]
    stacked = np.concatenate([np.reshape(a, (-1,) + want.shape[1:]) for a in got])
    assert stacked.shape == want.shape
    np.testing.assert_allclose(stacked, want, rtol=1e-5, atol=1e-6)


MIXING = {   # name: (nodes, initializers, the op named, words of the reason)
    "reshape_folds_batch": ([node("Reshape", ["x", "t"], ["y"], name="r")],
                            {"t": np.array([4, 15], np.int64)}, "Reshape", "[4, 15] folds"),
    "softmax_axis0": ([node("Softmax", ["x"], ["y"], name="r", axis=0)], {}, "Softmax",
                      "axis 0"),
    "transpose_moves_batch": ([node("Transpose", ["x"], ["y"], name="r", perm=[1, 0, 2])], {},
                              "Transpose", "moves the batch axis"),
    "reduce_over_batch": ([node("ReduceMean", ["x"], ["y"], name="r", axes=[0, 2])], {},
                          "ReduceMean", "axis 0"),
    "concat_axis0": ([node("Concat", ["x", "x"], ["y"], name="r", axis=0)], {}, "Concat",
                     "axis 0"),
    "constant_rows": ([node("Add", ["x", "c"], ["y"], name="r")], {"c": rand(N, 1, 5)},
                      "Add", "rows along the batch axis"),
    "times_batch_size": ([node("Shape", ["x"], ["s"]),
                          node("Gather", ["s", "i0"], ["n"], axis=0),
                          node("Cast", ["n"], ["nf"], to=onnx.TensorProto.FLOAT),
                          node("Mul", ["x", "nf"], ["y"], name="r")],
                         {"i0": np.array(0, np.int64)}, "Mul", "computed from the batch size"),
    "gemm_transA": ([node("Reshape", ["x", "t"], ["a"]),
                     node("Gemm", ["a", "w"], ["y"], name="r", transA=1)],
                    {"t": np.array([N, 20], np.int64), "w": rand(N, 2)}, "Gemm", "transA=1"),
}


@pytest.mark.parametrize("name", sorted(MIXING))
def test_batch_mixing_graphs_are_refused_naming_node_and_op(name, tmp_path):
    nodes, inits, op, why = MIXING[name]
    path = tmp_path / "m.onnx"
    onnx.save(make_model(nodes, {"x": [N, 4, 5]}, ["y"], inits), path)
    with pytest.raises(UnsupportedOpError) as e:
        load_onnx(path, input_shapes={"x": (1, 4, 5)})
    msg = str(e.value)
    assert f"{path}: node 'r' ({op}, opset 13)" in msg and why in msg, msg
    assert "mixes the 3 samples" in msg and "export the model with batch 1" in msg
    assert "\n" not in msg


@pytest.mark.parametrize("shape, words", [
    ((1, 3, 4, 4), "static size 6 in dim 2, but x=1,3,4,4 gives 4"),
    ((2, 3, 6, 6), "dim 0 (the batch) can only be pinned to 1"),
])
def test_input_shapes_may_only_pin_the_static_batch_to_1(shape, words):
    with pytest.raises(ModelError) as e:
        load_onnx(_cnn(N), input_shapes={"x": shape})
    assert words in str(e.value) and "\n" not in str(e.value)


def test_without_input_shapes_the_error_says_how_to_pin_the_batch():
    with pytest.raises(ModelError) as e:
        load_onnx(_cnn(N))
    assert "batch size 3" in str(e.value) and "--input-shape x=1,3,6,6" in str(e.value)


def test_cli_refuses_a_batch_mixing_model_with_exit_2(tmp_path, capsys):
    from tinyc.cli import main
    nodes, inits, _, _ = MIXING["reshape_folds_batch"]
    path = tmp_path / "m.onnx"
    onnx.save(make_model(nodes, {"x": [N, 4, 5]}, ["y"], inits), path)
    calib = tmp_path / "c.npz"
    np.savez(calib, x=rand(N, 1, 4, 5))
    rc = main(["build", str(path), "--calib", str(calib), "--input-shape", "x=1,4,5",
               "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "node 'r' (Reshape" in err[0], err
    assert not (tmp_path / "out").exists()
    assert issubclass(UnsupportedOpError, TinycError)
