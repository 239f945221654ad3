"""The four MLPerf Tiny models (tf2onnx, NHWC graph inputs): float ones equal onnxruntime, QDQ
ones carry the model's quantization (and their rounded float view equals onnxruntime)."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.frontend import load_onnx
from tinyc.ir import DType, verify

from .util import assert_close, interpret, interpret_qdq, ops_of, session

MODELS = ["kws", "vww", "ic", "ad"]
COMPUTE = ("conv2d", "depthwise_conv2d", "fully_connected", "add", "avg_pool2d", "softmax")


@pytest.fixture(scope="module")
def mlperf_dir(models_dir):
    return models_dir / "mlperf-tiny"


def _ref_inputs(folder, name):
    ref = np.load(folder / f"{name}_ref.npz")
    x = (ref["inputs"].astype(np.float32) - ref["input_zero_point"]) * ref["input_scale"]
    return ref, x.astype(np.float32)


@pytest.mark.parametrize("name", MODELS)
def test_float_model_matches_onnxruntime(mlperf_dir, name):
    path = mlperf_dir / f"{name}_float.onnx"
    g = verify(load_onnx(path))
    assert "transpose" not in ops_of(g)          # tf2onnx's NHWC <-> NCHW is layout only
    assert "reshape" not in [n.op for n in g.nodes if n.inputs[0] in g.inputs]
    sess = session(path)
    _, xs = _ref_inputs(mlperf_dir, name)
    for x in xs:
        want = sess.run(None, {g.inputs[0].name: x[None]})[0]
        assert_close(interpret(g, [x[None]])[0], want, 1e-4)


def _effective_q(v):
    """The quantization of an op's output, looking through a following relu/clip."""
    if v.q is not None:
        return v.q
    if len(v.uses) == 1 and v.uses[0][0].op in ("relu", "clip"):
        return v.uses[0][0].outputs[0].q
    return None


@pytest.mark.parametrize("name", MODELS)
def test_qdq_model_carries_its_quantization(mlperf_dir, name):
    g = verify(load_onnx(mlperf_dir / f"{name}_int8_qdq.onnx"))
    ref = np.load(mlperf_dir / f"{name}_ref.npz")
    assert "transpose" not in ops_of(g)
    (x,), (y,) = g.inputs, g.outputs
    assert x.dtype is DType.FLOAT32 and g.io_dtype == {x.name: DType.INT8, y.name: DType.INT8}
    assert g.io_quant[x.name] == x.q and g.io_quant[y.name] == y.q
    assert np.float32(x.q.s) == ref["input_scale"] and x.q.zp == ref["input_zero_point"]
    assert np.float32(y.q.s) == ref["output_scale"] and y.q.zp == ref["output_zero_point"]
    for node in g.nodes:
        if node.op not in COMPUTE:
            continue
        acts = [v for v in node.inputs if v is not None and not v.is_const]
        assert all(v.q is not None for v in acts), f"{node}: input without q"
        assert _effective_q(node.outputs[0]) is not None, f"{node}: output without q"
        if node.op in ("conv2d", "depthwise_conv2d", "fully_connected"):
            w, b = node.inputs[1], node.inputs[2]
            assert w.dtype is DType.INT8 and w.q is not None
            assert b.dtype is DType.INT32 and b.q is not None
            if node.op != "fully_connected":
                assert w.q.axis == (0 if node.op == "conv2d" else 3)
                assert len(w.q.scale) == w.shape[w.q.axis] == b.shape[0]


@pytest.mark.parametrize("name", MODELS)
def test_qdq_view_matches_onnxruntime(mlperf_dir, name):
    path = mlperf_dir / f"{name}_int8_qdq.onnx"
    g = load_onnx(path)
    sess = session(path)
    ref = np.load(mlperf_dir / f"{name}_ref.npz")
    (x,), (y,) = g.inputs, g.outputs
    lsb = []
    for xi in ref["inputs"]:
        want = sess.run(None, {x.name: xi[None]})[0].astype(np.float32)
        got = interpret_qdq(g, {x.name: (xi[None].astype(np.float32) - x.q.zp) * x.q.s})[0]
        lsb.append(np.abs(np.round(got / y.q.s + y.q.zp) - want))
    lsb = np.concatenate(lsb)
    assert lsb.max() <= 8 and lsb.mean() <= 0.5, (lsb.max(), lsb.mean())
