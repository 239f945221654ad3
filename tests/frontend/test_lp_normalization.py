"""ONNX LpNormalization(p=2) -> IR l2_norm (the op TFLite L2_NORMALIZATION maps onto,
TFLM-exact in tests/tflite): float == onnxruntime over the last axis and over channels of an
NCHW tensor (moved last); the int8 build (output in 1/128) has host C == the golden model and
stays within a few 1/128 steps of onnxruntime; p other than 1 and 2 is refused by name."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper as h

import tinyc
from tinyc.errors import TinycError
from tinyc.frontend import load_onnx

from .. import models
from .util import check_float, make_model, rand, session


def lp_model(shape=(1, 6, 10), axis=-1, p=2):
    return make_model([h.make_node("LpNormalization", ["x"], ["y"], axis=axis, p=p)],
                      {"x": list(shape)}, ["y"])


def conv_then_l2():
    """Conv (NCHW -> NHWC in the IR) then LpNormalization over channels (axis 1)."""
    nodes = [h.make_node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1]),
             h.make_node("LpNormalization", ["c"], ["y"], axis=1, p=2)]
    return make_model(nodes, {"x": [1, 3, 5, 5]}, ["y"], {"W": rand(8, 3, 3, 3, seed=1)})


@pytest.mark.parametrize("shape,axis", [((1, 6, 10), -1), ((1, 16), 1), ((1, 4, 3, 5), 2)])
def test_float_matches_onnxruntime(shape, axis):
    g = check_float(lp_model(shape, axis))
    assert [n.op for n in g.nodes].count("l2_norm") == 1


def test_channels_after_conv_float():
    g = check_float(conv_then_l2())
    l2 = next(n for n in g.nodes if n.op == "l2_norm")
    assert l2.inputs[0].producer.op == "conv2d"        # NHWC: the channels are last already


@pytest.mark.parametrize("make", [lp_model, conv_then_l2])
def test_int8_build(make, tmp_path):
    model = make()
    path = models.save(model, tmp_path / "l2.onnx")
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    m = tinyc.compile(path, calib={"x": np.stack([rand(*shape[1:], seed=s)
                                                  for s in range(32)])}, progress=None)
    assert (m.outputs[0].scale, m.outputs[0].zero_point) == (1 / 128, 0)
    sess = session(model)
    for seed in (80, 81):
        x = rand(*shape, seed=seed)
        xq = m.inputs[0].quantize(x)
        np.testing.assert_array_equal(m.run_host(xq), m.interpret(xq))
        want = sess.run(None, {"x": x})[0]
        assert np.abs(m.interpret(x) - want).max() <= 4 / 128


def test_p3_refused():
    """(p=1 is supported: IR l1_norm, tests/frontend/test_onnx_small_ops.py.)"""
    with pytest.raises(TinycError, match="p=3"):
        load_onnx(lp_model(p=3))


def test_batch_pinned_over_features_refused_over_batch():
    """Batch 3 pinned to 1: over axis 1 each sample == onnxruntime's row; over axis 0 (the
    batch) refused by name."""
    from tinyc.ir import interpret
    x = rand(3, 7, seed=2)
    model = lp_model((3, 7), 1)
    want = session(model).run(None, {"x": x})[0]
    g = load_onnx(model, input_shapes={"x": (1, 7)})
    for i in range(3):
        np.testing.assert_allclose(interpret(g, {"x": x[i:i + 1]})[0], want[i:i + 1],
                                   rtol=1e-5, atol=1e-6)
    with pytest.raises(TinycError, match="LpNormalization along axis 0"):
        load_onnx(lp_model((3, 7), 0), input_shapes={"x": (1, 7)})
