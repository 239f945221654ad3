"""Unsupported input analysed whole: ONE error lists every node tinyc cannot convert (op, node
names, count) before anything is converted, and says what known patterns are: Erf of GELU,
training-only nodes (export in eval mode), a custom domain (named)."""
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
    """x -> Hardmax -> Hardmax -> com.example.MyOp -> Dropout(training) -> GELU written with
    0.5 x as Div(x, 2) -> Conv -> TopK... (every kind of refusal once, Hardmax twice)."""
    nodes = [node("Hardmax", ["x"], ["h1"], name="hm1"),
             node("Hardmax", ["h1"], ["h2"], name="hm2"),
             node("MyOp", ["h2"], ["c"], name="custom", domain="com.example"),
             node("Dropout", ["c", "ratio", "train"], ["d"], name="drop"),
             node("Div", ["d", "sqrt2"], ["u"], name="gelu/div"),
             node("Erf", ["u"], ["e"], name="gelu/erf"),
             node("Add", ["e", "one"], ["a"], name="gelu/add"),
             node("Div", ["d", "two"], ["half"], name="gelu/half"),
             node("Mul", ["half", "a"], ["y"], name="gelu/mul")]
    inits = {"ratio": np.array(0.1, np.float32), "train": np.array(True),
             "sqrt2": np.array(np.sqrt(2), np.float32), "one": np.array(1, np.float32),
             "two": np.array(2, np.float32)}
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
    assert "5 nodes tinyc cannot convert (4 kinds)" in msg, msg
    assert "Hardmax x2 (nodes 'hm1', 'hm2'): op Hardmax is not supported on activations" in msg
    assert "MyOp in domain 'com.example' x1 (node 'custom'): domain 'com.example' is not " \
           "supported" in msg
    assert "Dropout x1 (node 'drop'): Dropout in training mode" in msg and \
        "export in eval mode" in msg
    assert "Erf x1 (node 'gelu/erf'): op Erf is not supported on activations — it is the " \
           "Erf of GELU" in msg and "Gelu op (opset 20)" in msg


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
    """Erf of a constant is folded; the Erf on the activation is the one listed."""
    nodes = [node("Erf", ["c"], ["ec"], name="folded"), node("Add", ["x", "ec"], ["s"]),
             node("Erf", ["s"], ["y"], name="live")]
    m = make_model(nodes, {"x": [1, 4]}, ["y"], {"c": rand(1, 4)})
    with pytest.raises(UnsupportedOpError, match=r"1 node tinyc cannot convert \(1 kind\) — "
                       r"Erf x1 \(node 'live'\)"):
        load_onnx(m)
