"""ONNX Sub of two activations, PRelu, Min, Max — the IR ops sub, prelu, minimum, maximum
(ir/ops/eltwise.py; TFLite's SUB, PRELU, MINIMUM, MAXIMUM map to them too): the float import
matches onnxruntime, the int8 build is within a few quantization steps of it and its host C
equals the golden model."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper as h

import tinyc

from .util import check_float, make_model, rand, session

SHAPE = [1, 4, 5, 5]


def _model(op: str):
    """x -> Conv -> c; x -> Conv -> d; y = op(c, d) (PRelu: op(c, slope per channel);
    Max_const: Max(c, 0.25); Min3: Min(0.1, c, d))."""
    nodes = [h.make_node("Conv", ["x", "W1"], ["c"], pads=[1, 1, 1, 1]),
             h.make_node("Conv", ["x", "W2"], ["d"], pads=[1, 1, 1, 1])]
    inits = {"W1": rand(4, 4, 3, 3, seed=1) * 0.3, "W2": rand(4, 4, 3, 3, seed=2) * 0.3}
    if op == "PRelu":
        nodes = nodes[:1] + [h.make_node("PRelu", ["c", "slope"], ["y"])]
        inits = {"W1": inits["W1"], "slope": np.array([0.1, -0.2, 0.5, 0.3],
                                                      np.float32).reshape(4, 1, 1)}
    elif op == "Max_const":
        nodes = nodes[:1] + [h.make_node("Max", ["c", "k"], ["y"])]
        inits = {"W1": inits["W1"], "k": np.array([0.25], np.float32)}
    elif op == "Min3":
        nodes.append(h.make_node("Min", ["k", "c", "d"], ["y"]))
        inits["k"] = np.array([0.1], np.float32)
    else:
        nodes.append(h.make_node(op, ["c", "d"], ["y"]))
    return make_model(nodes, {"x": SHAPE}, ["y"], inits)


IR = {"Sub": "sub", "PRelu": "prelu", "Min": "minimum", "Max": "maximum",
      "Max_const": "maximum", "Min3": "minimum"}


@pytest.mark.parametrize("op", sorted(IR))
def test_float_import_matches_onnxruntime(op):
    g = check_float(_model(op))
    assert IR[op] in [n.op for n in g.nodes]


@pytest.mark.parametrize("op", sorted(IR))
def test_int8_build_matches_onnxruntime_and_host_c(op, tmp_path):
    model = _model(op)
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    calib = {"x": np.stack([rand(*SHAPE[1:], seed=s) for s in range(32)])}
    m = tinyc.compile(path, calib=calib, progress=None)
    node = next(n for n in m.graph.nodes if n.op == IR[op])
    x = rand(*SHAPE, seed=99)
    want = session(model).run(None, {"x": x})[0]
    got = m.interpret(x)
    step = node.outputs[0].q.s
    assert np.abs(got - want).max() <= 4 * step, (np.abs(got - want).max(), step)
    xq = m.inputs[0].quantize(x)
    np.testing.assert_array_equal(m.run_host(xq), m.interpret(xq))
