"""Issue 3: QDQ models as other tools write them compile without calibration and agree with
ONNX Runtime's own run of the model on top-1 (they round differently: not bit-exact)."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest
from onnx import helper

import tinyc
from tinyc.errors import QuantizationError

from .frontend.test_import_qdq import const_dq, int_weights, qdq
from .frontend.util import make_model, rand, session

MODELS = pathlib.Path(__file__).parent / "frontend" / "models"
ORT_QDQ = sorted(p.name for p in MODELS.glob("*_ort_qdq_*.onnx"))
N = 200


def _agreement(model_or_path, m, shape, seed=0):
    sess = session(model_or_path if not isinstance(model_or_path, pathlib.Path)
                   else str(model_or_path))
    name = sess.get_inputs()[0].name
    x = np.random.default_rng(seed).standard_normal((N, *shape[1:])).astype(np.float32)
    want = np.stack([sess.run(None, {name: x[i:i + 1]})[0] for i in range(N)])
    got = np.asarray(m.run_host(x, batch=True))
    classes = want.shape[-1]                 # top-1 per row of the last axis (sequence models)
    got, want = got.reshape(-1, classes), want.reshape(-1, classes)
    # quantized probabilities tie often: tinyc's top-1 agrees when ORT gives it the top score
    pick = want[np.arange(len(want)), got.argmax(-1)]
    return (pick == want.max(-1)).mean()


@pytest.mark.parametrize("name", ORT_QDQ)
def test_onnxruntime_quantize_static_models_agree_on_top1(name):
    m = tinyc.compile(MODELS / name)        # no calib: the model carries its scales
    assert _agreement(MODELS / name, m, m.inputs[0].shape) >= 0.98


def _pt2e_model(output_quantized: bool = True):
    """pt2e-style: float bias, Pad / Sigmoid / MatMul+Add / Softmax islands between DQ and Q."""
    nw, iw = const_dq("W", int_weights((4, 3, 3, 3)), np.full(4, 0.003), axis=0)
    nf, if_ = const_dq("F", int_weights((5, 4 * 9), seed=1), np.full(5, 0.002), axis=0)
    n0, i0, xd = qdq("in", "x", 0.02, 3)
    n1, i1, cd = qdq("conv", "c", 0.03, -5)
    n2, i2, sd = qdq("sig", "s", 1 / 256, -128)
    n3, i3, ad = qdq("fc", "a", 0.05, 2)
    node = helper.make_node
    tail = n3 + [node("Softmax", [ad], ["y"])] if output_quantized else \
        [node("Softmax", ["a"], ["y"])]
    nodes = nw + nf + n0 + [node("Pad", [xd, "pads"], ["p"]),
                            node("Conv", ["p", "W", "bias"], ["c"])] + n1 + [
        node("Sigmoid", [cd], ["s"])] + n2 + [
        node("Flatten", [sd], ["f"]), node("Transpose", ["F"], ["Ft"], perm=[1, 0]),
        node("MatMul", ["f", "Ft"], ["mm"]), node("Add", ["mm", "fb"], ["a"])] + tail
    inits = {**iw, **if_, **i0, **i1, **i2, **(i3 if output_quantized else {}),
             "pads": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "bias": rand(4) * 0.1,
             "fb": rand(5, seed=3) * 0.1}
    return make_model(nodes, {"x": [1, 3, 3, 3]}, ["y"], inits)


def test_pt2e_float_islands_are_lowered_to_int8_and_agree(tmp_path):
    import onnx
    path = tmp_path / "pt2e.onnx"
    onnx.save(_pt2e_model(), path)
    m = tinyc.compile(path)
    assert {n.op for n in m.graph.nodes} >= {"pad", "conv2d", "lut", "fully_connected",
                                             "softmax"}
    assert _agreement(path, m, (1, 3, 3, 3)) >= 0.98


def test_island_without_quantization_on_one_side_asks_for_calib(tmp_path):
    import onnx
    path = tmp_path / "open.onnx"
    onnx.save(_pt2e_model(output_quantized=False), path)
    with pytest.raises(QuantizationError, match="--calib"):
        tinyc.compile(path)
    x = np.random.default_rng(0).standard_normal((16, 3, 3, 3)).astype(np.float32)
    m = tinyc.compile(path, calib=x)
    assert _agreement(path, m, (1, 3, 3, 3)) >= 0.98
