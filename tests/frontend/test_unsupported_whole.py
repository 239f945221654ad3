"""Unsupported input analysed whole: ONE error lists every node tinyc cannot convert (op, node
names, count) before anything is converted, and says what known patterns are: an op tinyc
reads only inside float islands, training-only nodes (export in eval mode), a custom domain (named)."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper as h
from onnx import numpy_helper

from tinyc.errors import UnsupportedOpError
from tinyc.frontend import load_onnx

from .util import make_model, rand

node = h.make_node


def _messy(opset: int = 13):
    """x -> Hardmax -> Hardmax -> com.example.MyOp -> Dropout(training) -> Where(Less(d, 0),
    d, x) (every kind of refusal once, Hardmax twice; the Where reads two activations, so it is
    no float island)."""
    nodes = [node("Hardmax", ["x"], ["h1"], name="hm1"),
             node("Hardmax", ["h1"], ["h2"], name="hm2"),
             node("MyOp", ["h2"], ["c"], name="custom", domain="com.example"),
             node("Dropout", ["c", "ratio", "train"], ["d"], name="drop"),
             node("Less", ["d", "zero"], ["lt"], name="pick/less"),
             node("Where", ["lt", "d", "x"], ["y"], name="pick/where")]
    inits = {"ratio": np.array(0.1, np.float32), "train": np.array(True),
             "zero": np.array(0, np.float32)}
    g = h.make_graph(nodes, "t", [h.make_tensor_value_info("x", 1, [1, 8])],
                     [h.make_tensor_value_info("y", 1, [1, 8])],
                     [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset),
                                       h.make_opsetid("com.example", 1)])
    m.ir_version = 8
    return m


def test_one_error_lists_every_unsupported_node():
    with pytest.raises(UnsupportedOpError) as e:
        load_onnx(_messy())
    msg = str(e.value)
    assert "\n" not in msg                                   # one line for the CLI
    assert "6 nodes tinyc cannot convert (5 kinds)" in msg, msg
    assert "Hardmax x2 (nodes 'hm1', 'hm2'): op Hardmax is not supported on activations" in msg
    assert "MyOp in domain 'com.example' x1 (node 'custom'): domain 'com.example' is not " \
           "supported" in msg
    assert "Dropout x1 (node 'drop'): Dropout in training mode" in msg and \
        "export in eval mode" in msg
    assert "Where x1 (node 'pick/where'): op Where is not supported on activations — tinyc " \
           "reads it inside a float function of ONE activation" in msg


def test_batchnorm_training_mode_and_losses_say_eval_mode():
    nodes = [node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"],
                  name="bn", training_mode=1),
             node("SoftmaxCrossEntropyLoss", ["y2", "labels"], ["loss"], name="loss")]
    m = make_model([nodes[0]], {"x": [1, 3, 4, 4]}, {"y": [1, 3, 4, 4]},
                   {k: np.ones(3, np.float32) for k in "sbmv"}, opset=15)
    with pytest.raises(UnsupportedOpError, match=r"BatchNormalization x1 \(node 'bn'\): "
                       r"BatchNormalization in training mode .* export in eval mode"):
        load_onnx(m)
    flat = make_model([node("Flatten", ["x"], ["y2"], name="flat"), nodes[1]],
                      {"x": [1, 3, 1, 1]}, {"loss": []}, {"labels": np.array([1], np.int64)})
    with pytest.raises(UnsupportedOpError, match=r"SoftmaxCrossEntropyLoss x1 \(node 'loss'\)"
                       r": SoftmaxCrossEntropyLoss is a loss, used in training only"):
        load_onnx(flat)


def test_ops_on_constants_only_are_not_listed():
    """Tan of a constant is folded; the Tan on the activation is the one listed."""
    nodes = [node("Tan", ["c"], ["ec"], name="folded"), node("Add", ["x", "ec"], ["s"]),
             node("Tan", ["s"], ["y"], name="live")]
    m = make_model(nodes, {"x": [1, 4]}, ["y"], {"c": rand(1, 4)})
    with pytest.raises(UnsupportedOpError, match=r"1 node tinyc cannot convert \(1 kind\) — "
                       r"Tan x1 \(node 'live'\)"):
        load_onnx(m)
