"""The test models themselves: valid ONNX, deterministic, sensible, and two independent float
references (onnxruntime and onnx.reference) agree on them. Everything else trusts these."""
from __future__ import annotations

import numpy as np
import onnx
import pytest

import models

EXPECTED_OPS = {
    "cnn": {"Conv", "BatchNormalization", "Relu", "MaxPool", "AveragePool", "Flatten", "Gemm", "Softmax"},
    "cnn_gap": {"Conv", "BatchNormalization", "Relu", "MaxPool", "GlobalAveragePool", "Reshape", "Gemm",
                "Softmax"},
    "mlp": {"Gemm", "MatMul", "Add", "Relu", "Clip", "Softmax"},
    "resnet": {"Pad", "Conv", "Add", "Relu", "Sigmoid", "Mul", "HardSwish", "Concat", "GlobalAveragePool",
               "Flatten", "Gemm", "Softmax"},
}


@pytest.fixture(scope="module", params=sorted(models.BUILDERS))
def built(request):
    m = models.build(request.param)
    return request.param, m, models.test_data(m, 24)


def test_every_builder_is_listed():
    assert set(EXPECTED_OPS) == set(models.BUILDERS)


def test_valid_and_has_the_promised_ops(built):
    name, m, _ = built
    onnx.checker.check_model(m, full_check=True)
    ops = {n.op_type for n in m.graph.node}
    assert EXPECTED_OPS[name] <= ops, EXPECTED_OPS[name] - ops
    if name.startswith("cnn"):
        assert any(n.op_type == "Conv" and onnx.helper.get_attribute_value(a) > 1
                   for n in m.graph.node for a in n.attribute if a.name == "group"), "no depthwise conv"
    assert [i.name for i in m.graph.input] == ["input"] and [o.name for o in m.graph.output] == ["probs"]


def test_deterministic(built):
    name, m, data = built
    assert models.build(name).SerializeToString() == m.SerializeToString()
    again = models.test_data(m, 24)
    assert all(np.array_equal(data[k], again[k]) for k in data)
    assert models.build(name, seed=1).SerializeToString() != m.SerializeToString()


def test_data_layout_and_streams(built):
    _, m, data = built
    (name, shape), = models.graph_inputs(m)
    calib = models.calib_data(m, 5, seed=0)
    lo, hi = models.input_range(m)
    for d, n in ((calib, 5), (data, 24)):
        assert set(d) == {name}
        x = d[name]
        assert x.dtype == np.float32 and x.shape == (n, *shape[1:])
        assert lo <= x.min() and x.max() <= hi
    assert not np.array_equal(calib[name], data[name][:5]), "calibration and test data overlap"


def test_onnxruntime_and_reference_agree(built):
    name, m, data = built
    ort_out = models.run_onnxruntime(m, data)["probs"]
    ref_out = models.run_reference(m, data)["probs"]
    assert ort_out.shape == ref_out.shape == (24, 10)
    np.testing.assert_allclose(ort_out, ref_out, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ort_out.sum(axis=1), 1.0, atol=1e-5)
    assert np.array_equal(ort_out.argmax(1), ref_out.argmax(1))


def test_outputs_are_informative(built):
    """Samples spread over classes and probabilities are not saturated, so int8-vs-float
    agreement measured on these models means something."""
    _, m, _ = built
    probs = models.run_onnxruntime(m, models.test_data(m, 100, seed=3))["probs"]
    assert np.isfinite(probs).all()
    assert len(np.unique(probs.argmax(1))) >= 6
    assert 0.2 < probs.max(axis=1).mean() < 0.95


def test_reference_batchnorm_fix_matches_numpy():
    """onnx.reference's own BatchNormalization (opsets 9-13) is wrong in inference mode; ours is not."""
    from onnx import TensorProto, helper

    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 3, 4, 4)).astype(np.float32)
    s, b, mu = (rng.normal(size=3).astype(np.float32) for _ in range(3))
    var = rng.uniform(0.5, 2, 3).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3)], "bn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])],
        [onnx.numpy_helper.from_array(a, n) for a, n in ((s, "s"), (b, "b"), (mu, "m"), (var, "v"))])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    c = (1, 3, 1, 1)
    want = s.reshape(c) * (x - mu.reshape(c)) / np.sqrt(var.reshape(c) + 1e-3) + b.reshape(c)
    np.testing.assert_allclose(models.run_reference(m, {"x": x})["y"], want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(models.run_onnxruntime(m, {"x": x})["y"], want, rtol=1e-5, atol=1e-6)


def test_saved_fixture_files(test_models):
    for name, t in test_models.items():
        assert onnx.load(str(t.path)).SerializeToString() == t.proto.SerializeToString()
        with np.load(t.calib) as c, np.load(t.test) as d:
            assert c["input"].shape[0] == 32 and d["input"].shape[0] == 16

