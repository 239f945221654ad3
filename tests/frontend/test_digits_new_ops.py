"""Issue 15's ops in digits classifiers: int8 accuracy within 1 point of float, and the
generated C in QEMU == host C == interpret().

Two random-feature nets on the bundled digits data (examples/digits): the hidden layers are
fixed random weights through the new ops, the last layer is fitted by least squares (ridge) to
the bundled digits CNN's predictions on calib.npz (no training framework needed). Float
accuracy: onnxruntime on test.npz's 360 labelled samples; int8: interpret() (== host C).
- mlp (opset 17): MatMul, LayerNormalization, GELU as torch exports it (Erf pattern), SiLU
  (x * Sigmoid(x)), Selu, Softplus, Gemm;
- conv1d (opset 20): the 8x8 image as 8 rows of 8 (rank 3), Conv1d + SiLU, MaxPool1d,
  Conv1d + Softplus, AveragePool1d, Flatten, LayerNormalization, Gelu (tanh), Gemm.
"""
from __future__ import annotations

import math

import numpy as np
import onnx
import pytest
from onnx import helper as h
from onnx import numpy_helper

import tinyc

from .util import session

node = h.make_node


def _rng_w(shape, seed, scale):
    r = np.random.default_rng(seed)
    return (r.standard_normal(shape) * scale).astype(np.float32)


def _graph(nodes, x_shape, out, out_shape, inits, opset):
    g = h.make_graph(nodes, "digits_new_ops", [h.make_tensor_value_info("x", 1, x_shape)],
                     [h.make_tensor_value_info(out, 1, out_shape)],
                     [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 9
    onnx.checker.check_model(m, full_check=True)
    return m


def _mlp_features():
    s2 = np.float32(math.sqrt(2))
    nodes = [node("Reshape", ["x", "shape"], ["v"]),
             node("MatMul", ["v", "W1"], ["m1"]), node("Add", ["m1", "b1"], ["a1"]),
             node("LayerNormalization", ["a1", "g1", "be1"], ["n1"], name="ln"),
             node("Div", ["n1", "s2"], ["u"]), node("Erf", ["u"], ["e"]),
             node("Add", ["e", "one"], ["ea"]), node("Mul", ["n1", "ea"], ["gm"]),
             node("Mul", ["gm", "half"], ["h1"]),
             node("MatMul", ["h1", "W2"], ["m2"]), node("Sigmoid", ["m2"], ["sg"]),
             node("Mul", ["m2", "sg"], ["h2"]),
             node("MatMul", ["h2", "W3"], ["m3"]), node("Selu", ["m3"], ["h3"]),
             node("MatMul", ["h3", "W4"], ["m4"]), node("Softplus", ["m4"], ["feat"])]
    inits = {"shape": np.array([1, 64], np.int64), "W1": _rng_w((64, 128), 1, 0.5),
             "b1": _rng_w(128, 2, 0.5), "g1": np.ones(128, np.float32),
             "be1": _rng_w(128, 3, 0.2), "s2": s2, "one": np.float32(1), "half": np.float32(0.5),
             "W2": _rng_w((128, 128), 4, 0.15), "W3": _rng_w((128, 128), 5, 0.15),
             "W4": _rng_w((128, 128), 6, 0.15)}
    return nodes, inits, [1, 1, 8, 8], 128, 17


def _conv1d_features():
    nodes = [node("Reshape", ["x", "shape"], ["v"]),
             node("Conv", ["v", "W1", "b1"], ["c1"], pads=[1, 1]),
             node("Sigmoid", ["c1"], ["s1"]), node("Mul", ["c1", "s1"], ["h1"]),
             node("MaxPool", ["h1"], ["p1"], kernel_shape=[2], strides=[2]),
             node("Conv", ["p1", "W2"], ["c2"], pads=[1, 1]),
             node("Softplus", ["c2"], ["h2"]),
             node("AveragePool", ["h2"], ["p2"], kernel_shape=[2], strides=[2]),
             node("Flatten", ["p2"], ["f"]),
             node("LayerNormalization", ["f", "g1"], ["n"], name="ln"),
             node("Gelu", ["n"], ["feat"], approximate="tanh")]
    inits = {"shape": np.array([1, 8, 8], np.int64), "W1": _rng_w((32, 8, 3), 11, 0.4),
             "b1": _rng_w(32, 12, 0.3), "W2": _rng_w((48, 32, 3), 13, 0.15),
             "g1": np.ones(96, np.float32)}
    return nodes, inits, [1, 1, 8, 8], 96, 20


NETS = {"mlp": _mlp_features, "conv1d": _conv1d_features}


@pytest.fixture(scope="module")
def digits(example_dir):
    with np.load(example_dir / "calib.npz") as c, np.load(example_dir / "test.npz") as t:
        calib, x, y = c["input"], t["input"], t["label"]
    teacher = session(onnx.load(str(example_dir / "digits.onnx")))
    labels = np.array([teacher.run(None, {"input": s[None]})[0].argmax() for s in calib])
    return calib, labels, x, y


def _classifier(name: str, digits):
    """The feature net with a Gemm fitted by ridge regression to the teacher's labels."""
    nodes, inits, x_shape, n_feat, opset = NETS[name]()
    calib, labels, _, _ = digits
    feats = session(_graph(nodes, x_shape, "feat", [1, n_feat], inits, opset))
    f = np.concatenate([feats.run(None, {"x": s[None]})[0] for s in calib])
    f1 = np.concatenate([f, np.ones((len(f), 1), np.float32)], 1)
    target = np.eye(10)[labels]
    w = np.linalg.solve(f1.T @ f1 + 1.0 * np.eye(f1.shape[1]), f1.T @ target)
    inits = {**inits, "Wo": w[:-1].T.astype(np.float32), "bo": w[-1].astype(np.float32)}
    nodes = nodes + [node("Gemm", ["feat", "Wo", "bo"], ["logits"], transB=1)]
    return _graph(nodes, x_shape, "logits", [1, 10], inits, opset)


@pytest.fixture(scope="module", params=sorted(NETS))
def compiled(request, digits, tmp_path_factory):
    model = _classifier(request.param, digits)
    path = tmp_path_factory.mktemp(request.param) / f"{request.param}.onnx"
    path.write_bytes(model.SerializeToString())
    m = tinyc.compile(path, calib={"x": digits[0]}, progress=None)
    return request.param, model, m


def test_int8_accuracy_within_one_point_of_float(compiled, digits):
    name, model, m = compiled
    _, _, x, y = digits
    sess = session(model)
    flt = np.array([sess.run(None, {"x": s[None]})[0].argmax() for s in x])
    q = m.interpret(x, batch=True).reshape(len(x), -1).argmax(1)
    acc_f, acc_q = (flt == y).mean() * 100, (q == y).mean() * 100
    assert acc_f >= 85, (name, acc_f)                 # the features are informative
    assert acc_q >= acc_f - 1.0, (name, acc_f, acc_q)
    ops = {n.op for n in m.graph.nodes}
    assert "lut" in ops and "layer_norm" in ops


def test_qemu_equals_host_c_equals_interpret(compiled, digits):
    _, _, m = compiled
    xq = m.inputs[0].quantize(digits[2][:6])
    host = m.run_host(xq, batch=True)
    np.testing.assert_array_equal(host, m.interpret(xq, batch=True))
    np.testing.assert_array_equal(m.run_qemu(xq, batch=True), host)


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_generated_c_is_strict_c99(compiled, cc, tmp_path):
    """The C of both nets: -std=c99 -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion
    -Werror clean (no new kernel: every op runs on an existing one)."""
    import shutil
    import subprocess
    if shutil.which(cc) is None:
        from tests.needs import missing
        missing(f"{cc} not installed")
    _, _, m = compiled
    d = m.c_dir()
    flags = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wsign-conversion",
             "-Werror", "-O2", "-c"]
    for src in sorted(d.rglob("*.c")):
        subprocess.run([cc, *flags, str(src), "-o", str(tmp_path / "x.o")], check=True, cwd=d)
