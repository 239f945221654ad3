"""Function-expanded forms (issue 15): float elementwise islands (frontend/onnx_islands.py ->
IR elementwise_fn -> one int8 table), Cast / CastLike between float types dropped, and the
written-out PRelu, Softmax / LogSoftmax and LayerNormalization recognised as the ops
(frontend/onnx_patterns.py).

References: onnxruntime on the float model (the import within 1e-4 relative; the int8 model
within 3 output steps for the tables and softmax, 4 for layer_norm, calibrated on 32 inputs);
host C == interpret() bit for bit.
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper as h

import tinyc
from tinyc.frontend import load_onnx

from .util import check_float, make_model, rand, session

node = h.make_node
F = onnx.TensorProto.FLOAT


def _c(name: str, value) -> onnx.NodeProto:
    """A Constant node (the function bodies' style)."""
    return node("Constant", [], [name], value=onnx.numpy_helper.from_array(
        np.asarray(value, np.float32), name))


def _like(name: str, value, x: str = "c") -> list:
    """Constant + CastLike(., x): how ONNX function bodies write their constants."""
    return [_c(f"{name}_c", value), node("CastLike", [f"{name}_c", x], [name])]


# islands: x -> y with only elementwise ops and scalar constants, around an op tinyc cannot
# convert alone (Exp, Less/Where, Log, Sqrt, Pow, Abs, Neg)
ISLANDS = {
    "elu": _like("alpha", 1.5) + _like("zero", 0.0) + _like("one", 1.0) + [
        node("Less", ["c", "zero"], ["lt"]), node("Exp", ["c"], ["e"]),
        node("Sub", ["e", "one"], ["em1"]), node("Mul", ["alpha", "em1"], ["neg"]),
        node("Where", ["lt", "neg", "c"], ["y"])],
    "softplus": _like("one", 1.0) + [node("Exp", ["c"], ["e"]), node("Add", ["e", "one"], ["a"]),
                                     node("Log", ["a"], ["y"])],
    "clip": [_c("lo", -0.5), _c("hi", 1.2), node("Less", ["c", "lo"], ["l1"]),
             node("Where", ["l1", "lo", "c"], ["t"]), node("Less", ["hi", "t"], ["l2"]),
             node("Where", ["l2", "hi", "t"], ["y"])],
    "odd": [_c("two", 2.0), _c("one", 1.0),        # a user's own (continuous) activation
            node("Greater", ["c", "one"], ["gt"]), node("Abs", ["c"], ["a"]),
            node("Sqrt", ["a"], ["s"]), node("Pow", ["c", "two"], ["p"]),
            node("Neg", ["p"], ["np"]), node("Add", ["np", "one"], ["e1"]),
            node("Exp", ["e1"], ["g"]), node("Cast", ["g"], ["gc"], to=F),
            node("Where", ["gt", "s", "gc"], ["y"])],   # x > 1 ? sqrt|x| : exp(1 - x^2)
    "gelu_sum": _like("half", 0.5) + _like("one", 1.0) + [           # Gelu's own body
        _c("two", 2.0), node("Sqrt", ["two"], ["s2"]), node("Div", ["c", "s2"], ["u"]),
        node("Erf", ["u"], ["e"]), node("Sum", ["one", "e"], ["phi"]),
        node("Mul", ["half", "c"], ["hx"]), node("Mul", ["hx", "phi"], ["y"])],
}


def _island_model(kind: str, batch: int = 1):
    nodes = [node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1])] + ISLANDS[kind]
    return make_model(nodes, {"x": [batch, 3, 6, 6]}, ["y"],
                      {"W": rand(4, 3, 3, 3, seed=1) * 0.6}, opset=18)


def _compile(model, tmp_path, shape, n=32):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    calib = {"x": np.stack([rand(*shape, seed=s) for s in range(n)])}
    return tinyc.compile(path, calib=calib, progress=None)


def _check_int8(model, m, shape, steps: float, node_op: str):
    """int8 interpret() within `steps` steps of onnxruntime — output steps, or for a table the
    larger of its input and output steps (the input's rounding goes through the function,
    whose slope is at most 2.4 here); host C == interpret()."""
    x = rand(1, *shape, seed=99)
    want = session(model).run(None, {"x": x})[0]
    step = m.graph.outputs[0].q.s
    lut = next((n for n in m.graph.nodes if n.op == "lut"), None)
    if lut is not None:
        step = max(lut.inputs[0].q.s, lut.outputs[0].q.s)
    err = np.abs(m.interpret(x).reshape(want.shape) - want).max() / step
    assert err <= steps, (node_op, err)
    xq = m.inputs[0].quantize(np.stack([rand(*shape, seed=s) for s in range(50, 58)]))
    np.testing.assert_array_equal(m.run_host(xq, batch=True), m.interpret(xq, batch=True))


@pytest.mark.parametrize("kind", sorted(ISLANDS))
def test_island_is_one_function_matching_onnxruntime(kind):
    g = check_float(_island_model(kind), rtol=2e-5)
    assert [n.op for n in g.nodes if n.op not in ("transpose", "reshape")] == \
        ["conv2d", "elementwise_fn"]


@pytest.mark.parametrize("kind", sorted(ISLANDS))
def test_island_int8_is_one_table(kind, tmp_path):
    model = _island_model(kind)
    m = _compile(model, tmp_path, (3, 6, 6))
    assert [n.op for n in m.graph.nodes if n.op != "transpose"] == ["conv2d", "lut"]
    _check_int8(model, m, (3, 6, 6), 3.0, kind)


def test_island_pins_the_batch():
    g = load_onnx(_island_model("elu", batch=3), input_shapes={"x": (1, 3, 6, 6)})
    assert g.inputs[0].shape == (1, 3, 6, 6)


def test_island_with_two_outputs_gives_two_functions():
    """An inner value read outside the island: one elementwise_fn per value read."""
    nodes = [node("Relu", ["x"], ["c"]), node("Exp", ["c"], ["e"]), node("Log", ["e"], ["y1"]),
             node("Conv", ["e", "W"], ["y2"])]
    m = make_model(nodes, {"x": [1, 2, 4, 4]}, ["y1", "y2"], {"W": rand(3, 2, 1, 1, seed=2)})
    g = check_float(m)
    assert [n.op for n in g.nodes].count("elementwise_fn") == 2


def test_island_on_a_computed_value():
    """Exp(Add(x, z)) * x: the add (two activations), then a table of exp, then the mul."""
    nodes = [node("Add", ["x", "z"], ["s"]), node("Exp", ["s"], ["e"]),
             node("Mul", ["e", "x"], ["y"])]
    g = check_float(make_model(nodes, {"x": [1, 4], "z": [1, 4]}, ["y"]))
    assert [n.op for n in g.nodes] == ["add", "elementwise_fn", "mul"]


def test_where_of_two_activations_is_refused_with_a_hint():
    nodes = [_c("zero", 0.0), node("Less", ["x", "zero"], ["lt"]),
             node("Where", ["lt", "x", "z"], ["y"])]
    m = make_model(nodes, {"x": [1, 4], "z": [1, 4]}, ["y"])
    with pytest.raises(tinyc.TinycError, match=r"Where x1 .*float function of ONE activation"):
        load_onnx(m)


def test_float_casts_are_dropped_integer_cast_refused():
    nodes = [node("Relu", ["x"], ["r"]), node("Cast", ["r"], ["d"], to=onnx.TensorProto.DOUBLE),
             node("Cast", ["d"], ["f"], to=F), node("CastLike", ["f", "x"], ["y"])]
    g = check_float(make_model(nodes, {"x": [1, 8]}, ["y"], opset=18))
    assert [n.op for n in g.nodes if n.op != "reshape"] == ["relu"]
    bad = [node("Relu", ["x"], ["r"]), node("Cast", ["r"], ["i"], to=onnx.TensorProto.INT32),
           node("Cast", ["i"], ["y"], to=F)]
    m = make_model(bad, {"x": [1, 8]}, ["y"])
    with pytest.raises(tinyc.TinycError, match=r"Cast of the float activation 'r' to INT32"):
        load_onnx(m)


def test_cast_inside_an_island_is_its_function():
    """Cast(Less(x, 0), FLOAT) (a step function) inside an island: computed, not refused."""
    nodes = [node("Relu", ["x"], ["c"]), _c("t", 0.3), node("Less", ["c", "t"], ["lt"]),
             node("Cast", ["lt"], ["f"], to=F), node("Mul", ["f", "c"], ["y"])]
    g = check_float(make_model(nodes, {"x": [1, 16]}, ["y"]))
    assert "elementwise_fn" in [n.op for n in g.nodes]


def test_flatten_negative_axis_shape():
    nodes = [node("Relu", ["x"], ["r"]), node("Flatten", ["r"], ["y"], axis=-1)]
    g = check_float(make_model(nodes, {"x": [1, 2, 3, 4]}, ["y"]))
    assert g.outputs[0].shape == (6, 4)


# -- PRelu, Softmax / LogSoftmax, LayerNormalization written out --------------------------------

def _prelu_nodes(x="c"):
    return _like("zero", 0.0, x) + [node("Less", [x, "zero"], ["lt"]),
                                    node("Mul", ["slope", x], ["sx"]),
                                    node("Where", ["lt", "sx", x], ["y"])]


def _softmax_nodes(axis: int, log: bool, x="c"):
    ax = node("Constant", [], ["axes"], value=onnx.numpy_helper.from_array(
        np.array([axis], np.int64), "axes"))
    head = [ax, node("ReduceMax", [x, "axes"], ["mx"], keepdims=1),
                 node("Sub", [x, "mx"], ["d"]), node("Exp", ["d"], ["e"]),
                 node("ReduceSum", ["e", "axes"], ["s"], keepdims=1)]
    if log:
        return head + [node("Log", ["s"], ["l"]), node("Sub", ["d", "l"], ["y"])]
    return head + [node("Div", ["e", "s"], ["y"])]


def _layer_norm_nodes(form: str, x="c"):
    """LayerNormalization over the last axis as ONNX's function body writes it
    (E[x^2] - E[x]^2, with the stash Casts) or as users do ((x - mean)^2, * 1/std)."""
    ax = node("Constant", [], ["axes"], value=onnx.numpy_helper.from_array(
        np.array([-1], np.int64), "axes"))
    common = [ax, _c("eps", 1e-5), node("Cast", [x], ["xu"], to=F),
              node("ReduceMean", ["xu", "axes"], ["mean"])]
    if form == "onnx":
        body = [node("Mul", ["xu", "xu"], ["sq"]), node("ReduceMean", ["sq", "axes"], ["msq"]),
                node("Mul", ["mean", "mean"], ["sqm"]), node("Sub", ["msq", "sqm"], ["var"]),
                node("Add", ["var", "eps"], ["ve"]), node("Sqrt", ["ve"], ["std"]),
                node("Sub", ["xu", "mean"], ["dev"]), node("Div", ["dev", "std"], ["n"]),
                node("Cast", ["n"], ["nt"], to=F)]
        tail = "nt"
    else:
        body = [node("Sub", ["xu", "mean"], ["dev"]), _c("two", 2.0),
                node("Pow", ["dev", "two"], ["sq"]), node("ReduceMean", ["sq", "axes"], ["var"]),
                node("Add", ["eps", "var"], ["ve"]), node("Sqrt", ["ve"], ["std"]),
                node("Reciprocal", ["std"], ["inv"]), node("Mul", ["dev", "inv"], ["n"])]
        tail = "n"
    return common + body + [node("Mul", [tail, "gamma"], ["g"]), node("Add", ["g", "beta"], ["y"])]


def _matmul_model(nodes, inits, opset=18):
    nodes = [node("MatMul", ["x", "W"], ["c"])] + nodes
    return make_model(nodes, {"x": [1, 6, 16]}, ["y"],
                      {"W": rand(16, 12, seed=3) * 0.5, **inits}, opset=opset)


CASES = {
    "prelu": (lambda: _prelu_nodes(), {"slope": 0.1 + 0.2 * np.abs(rand(12, seed=7))}, "prelu"),
    "softmax_axis1": (lambda: _softmax_nodes(1, False), {}, "softmax"),
    "softmax_last": (lambda: _softmax_nodes(-1, False), {}, "softmax"),
    "log_softmax": (lambda: _softmax_nodes(2, True), {}, "log_softmax"),
    "layer_norm_onnx": (lambda: _layer_norm_nodes("onnx"),
                        {"gamma": 1 + 0.2 * rand(12, seed=4), "beta": 0.1 * rand(12, seed=5)},
                        "layer_norm"),
    "layer_norm_user": (lambda: _layer_norm_nodes("user"),
                        {"gamma": 1 + 0.2 * rand(1, 12, seed=4), "beta": 0.1 * rand(12, seed=5)},
                        "layer_norm"),
    "mish": (lambda: [node("Softplus", ["c"], ["sp"]), node("Tanh", ["sp"], ["t"]),
                      node("Mul", ["c", "t"], ["y"])], {}, "elementwise_fn"),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_written_out_op_is_the_op(kind):
    nodes, inits, ir_op = CASES[kind]
    g = check_float(_matmul_model(nodes(), inits), rtol=2e-5)
    ops = [n.op for n in g.nodes if n.op not in ("transpose", "reshape")]
    assert ops == ["fully_connected", ir_op], ops


TWINS = {   # the op itself, for each written-out form
    "prelu": lambda: [node("PRelu", ["c", "slope"], ["y"])],
    "softmax_axis1": lambda: [node("Softmax", ["c"], ["y"], axis=1)],
    "softmax_last": lambda: [node("Softmax", ["c"], ["y"], axis=-1)],
    "log_softmax": lambda: [node("LogSoftmax", ["c"], ["y"], axis=2)],
    "layer_norm_onnx": lambda: [node("LayerNormalization", ["c", "gamma", "beta"], ["y"],
                                     axis=-1, epsilon=1e-5)],
    "layer_norm_user": lambda: [node("LayerNormalization", ["c", "gamma", "beta"], ["y"],
                                     axis=-1, epsilon=1e-5)],
    "mish": lambda: [node("Mish", ["c"], ["y"])],
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_written_out_op_int8_is_the_ops_and_host_c(kind, tmp_path):
    """The written-out form compiles to the op's own int8 graph: the same bits as the model
    holding the op (same calibration), within a few output steps of onnxruntime's float run
    (softmax: its int8 input's rounding; layer_norm: tests/frontend/test_activations_1d_
    layernorm.py states its error), and host C == interpret()."""
    nodes, inits, ir_op = CASES[kind]
    model = _matmul_model(nodes(), inits)
    m = _compile(model, tmp_path / "a", (6, 16))
    assert {"elementwise_fn": "lut"}.get(ir_op, ir_op) in [n.op for n in m.graph.nodes]
    twin_inits = dict(inits)
    if "gamma" in twin_inits:
        twin_inits["gamma"] = twin_inits["gamma"].reshape(-1)
    twin = _compile(_matmul_model(TWINS[kind](), twin_inits), tmp_path / "b", (6, 16))
    x = np.stack([rand(6, 16, seed=s) for s in range(60, 68)])
    np.testing.assert_array_equal(m.interpret(x, batch=True), twin.interpret(x, batch=True))
    _check_int8(model, m, (6, 16), 6.0, kind)


def test_layer_norm_written_out_over_a_middle_axis_is_refused():
    nodes = _layer_norm_nodes("user")
    nodes[0] = node("Constant", [], ["axes"], value=onnx.numpy_helper.from_array(
        np.array([1], np.int64), "axes"))
    model = _matmul_model(nodes, {"gamma": np.ones((6, 1), np.float32),
                                  "beta": np.zeros((6, 1), np.float32)})
    with pytest.raises(tinyc.TinycError, match=r"over axes \[1\] .* trailing axes only"):
        load_onnx(model)


def test_island_between_qdq_is_one_table_equal_to_onnxruntime(tmp_path):
    """A QDQ model with 1 / (1 + Exp(x)) between DequantizeLinear and QuantizeLinear: no
    calibration, one lut, the same int8 outputs as onnxruntime's QDQ run (its float ops on the
    dequantized grid, then the QuantizeLinear: exactly the table)."""
    inits = {"s": np.float32(0.02), "z": np.int8(0), "so": np.float32(1 / 255),
             "zo": np.int8(-128), "one": np.float32(1.0)}
    nodes = [node("QuantizeLinear", ["x", "s", "z"], ["q"]),
             node("DequantizeLinear", ["q", "s", "z"], ["d"]), node("Exp", ["d"], ["e"]),
             node("Add", ["e", "one"], ["a"]), node("Reciprocal", ["a"], ["r"]),
             node("QuantizeLinear", ["r", "so", "zo"], ["q2"]),
             node("DequantizeLinear", ["q2", "so", "zo"], ["y"])]
    model = make_model(nodes, {"x": [1, 64]}, ["y"], inits)
    path = tmp_path / "q.onnx"
    path.write_bytes(model.SerializeToString())
    m = tinyc.compile(path, progress=None)
    assert [n.op for n in m.graph.nodes] == ["lut"]
    x = 3 * rand(1, 64, seed=3)
    np.testing.assert_array_equal(m.interpret(x), session(model).run(None, {"x": x})[0])
    xq = m.inputs[0].quantize(np.stack([rand(64, seed=s) for s in range(4)]))
    np.testing.assert_array_equal(m.run_host(xq, batch=True), m.interpret(xq, batch=True))
