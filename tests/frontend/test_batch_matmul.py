"""ONNX MatMul of two activations (batched, attention's Q·K^T and P·V) -> IR batch_matmul
(the op TFLite BATCH_MATMUL maps onto, TFLM-exact in tests/tflite): float semantics ==
onnxruntime; the int8 build's host C == the golden model and stays within quantization steps
of onnxruntime's float run; a QDQ int8 MatMul is within one output step of onnxruntime's
int8 (QLinearMatMul) run."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto
from onnx import helper as h

import tinyc

from .. import models
from .util import check_float, make_model, rand, session


def attention(seq=4, dim=8):
    """x -> q, k, v (constant projections) -> softmax(q k^T) v."""
    nodes = [h.make_node("MatMul", ["x", f"W{c}"], [c]) for c in "qkv"]
    nodes += [h.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
              h.make_node("MatMul", ["q", "kt"], ["s"]),
              h.make_node("Softmax", ["s"], ["p"], axis=-1),
              h.make_node("MatMul", ["p", "v"], ["y"])]
    inits = {f"W{c}": rand(dim, dim, seed=i + 1) * 0.4 for i, c in enumerate("qkv")}
    return make_model(nodes, {"x": [1, seq, dim]}, ["y"], inits)


def two_inputs(a_shape, b_shape):
    return make_model([h.make_node("MatMul", ["a", "b"], ["y"])],
                      {"a": list(a_shape), "b": list(b_shape)}, ["y"])


SHAPES = {"3d": ((1, 3, 5), (1, 5, 4)), "4d_heads": ((1, 2, 3, 5), (1, 2, 5, 4)),
          "broadcast": ((1, 2, 3, 5), (1, 1, 5, 4)), "rank3_b": ((1, 2, 3, 5), (1, 5, 4)),
          "const_a": None}


def test_attention_float_matches_onnxruntime():
    g = check_float(attention())
    assert sum(n.op == "batch_matmul" for n in g.nodes) == 2


@pytest.mark.parametrize("name", [k for k in SHAPES if SHAPES[k] is not None])
def test_two_activations_float(name):
    g = check_float(two_inputs(*SHAPES[name]))
    assert [n.op for n in g.nodes].count("batch_matmul") == 1


def test_constant_left_operand_float():
    model = make_model([h.make_node("MatMul", ["A", "x"], ["y"])], {"x": [1, 5, 4]}, ["y"],
                       {"A": rand(3, 5, seed=3)})
    check_float(model)


def test_attention_int8(tmp_path):
    model = attention()
    path = models.save(model, tmp_path / "attn.onnx")
    m = tinyc.compile(path, calib={"x": np.stack([rand(1, 4, 8, seed=s) for s in range(32)])},
                      progress=None)
    sess = session(model)
    for seed in (70, 71, 72):
        x = rand(1, 4, 8, seed=seed)
        xq = m.inputs[0].quantize(x)
        np.testing.assert_array_equal(m.run_host(xq), m.interpret(xq))
        want = sess.run(None, {"x": x})[0]
        assert np.abs(m.interpret(x) - want).max() <= 4 * m.outputs[0].scale + \
            0.05 * np.abs(want).max()


def qdq_matmul():
    """int8 a, b -> DequantizeLinear -> MatMul -> QuantizeLinear -> int8 y."""
    nodes = [h.make_node("DequantizeLinear", ["a", "as", "az"], ["a_dq"]),
             h.make_node("DequantizeLinear", ["b", "bs", "bz"], ["b_dq"]),
             h.make_node("MatMul", ["a_dq", "b_dq"], ["r"]),
             h.make_node("QuantizeLinear", ["r", "ys", "yz"], ["y"])]
    inits = {"as": np.float32(0.03), "az": np.int8(3), "bs": np.float32(0.02),
             "bz": np.int8(-6), "ys": np.float32(0.09), "yz": np.int8(-4)}
    return make_model(nodes, {"a": [1, 2, 4, 6], "b": [1, 2, 6, 5]}, {"y": None}, inits,
                      itype=TensorProto.INT8)


def test_qdq_int8_within_one_step_of_onnxruntime(tmp_path):
    model = qdq_matmul()
    path = models.save(model, tmp_path / "mm.onnx")
    m = tinyc.compile(path)
    rng = np.random.default_rng(5)
    sess = session(model)
    for _ in range(4):
        a = rng.integers(-128, 128, (1, 2, 4, 6)).astype(np.int8)
        b = rng.integers(-128, 128, (1, 2, 6, 5)).astype(np.int8)
        got = np.asarray(m.interpret([a, b]))
        np.testing.assert_array_equal(np.asarray(m.run_host([a, b])), got)
        want = sess.run(None, {"a": a, "b": b})[0]
        diff = np.abs(got.reshape(want.shape).astype(int) - want.astype(int))
        assert diff.max() <= 1, int(diff.max())


def test_qdq_constant_operand_keeps_its_bytes(tmp_path):
    """DequantizeLinear(int8 constant) @ activation: the constant's bytes and quantization are
    the file's; within one output step of onnxruntime."""
    rng = np.random.default_rng(8)
    nodes = [h.make_node("DequantizeLinear", ["a", "as", "az"], ["a_dq"]),
             h.make_node("DequantizeLinear", ["c", "cs", "cz"], ["c_dq"]),
             h.make_node("MatMul", ["a_dq", "c_dq"], ["r"]),
             h.make_node("QuantizeLinear", ["r", "ys", "yz"], ["y"])]
    c = rng.integers(-128, 128, (1, 2, 6, 5)).astype(np.int8)
    inits = {"as": np.float32(0.03), "az": np.int8(3), "c": c, "cs": np.float32(0.02),
             "cz": np.int8(5), "ys": np.float32(0.09), "yz": np.int8(-4)}
    model = make_model(nodes, {"a": [1, 2, 4, 6]}, {"y": None}, inits,
                       itype=TensorProto.INT8)
    m = tinyc.compile(models.save(model, tmp_path / "mmc.onnx"))
    mm = next(n for n in m.graph.nodes if n.op == "batch_matmul")
    np.testing.assert_array_equal(mm.inputs[1].data, c)
    sess = session(model)
    a = rng.integers(-128, 128, (6, 1, 2, 4, 6)).astype(np.int8)
    got = np.asarray(m.interpret(a, batch=True))
    np.testing.assert_array_equal(np.asarray(m.run_host(a, batch=True)), got)
    want = np.stack([sess.run(None, {"a": s})[0] for s in a])
    assert np.abs(got.reshape(want.shape).astype(int) - want.astype(int)).max() <= 1
