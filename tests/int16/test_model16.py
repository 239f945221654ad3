"""Mixed precision end to end: the digits example with some layers at int16 activations —
host C == interpret (100 test samples), QEMU (STM32F405) == host, error against float
measured; and the max_accuracy_drop search promoting the layers where int8 loses most."""
from __future__ import annotations

import numpy as np
import pytest

import tinyc
from tinyc.ir import DType, Graph, TensorType
from tinyc.passes.compress import Compression
from tinyc.passes.search import promote_int16, search_precision
from tinyc.passes.quantize import activation_report, quantize

from ..needs import need_tools

MIXED = {"/3/Conv_output_0": "int16", "/6/Conv_output_0": "int16", "logits": "int16"}


def _digits(example_dir, **kw):
    return tinyc.compile(example_dir / "digits.onnx", calib=example_dir / "calib.npz",
                         progress=None, **kw)


@pytest.fixture(scope="module")
def mixed(example_dir):
    m = _digits(example_dir, activations=MIXED)
    x = np.load(example_dir / "test.npz")["input"][:100]
    xq = np.stack([m.inputs[0].quantize(s.reshape(m.inputs[0].shape)) for s in x])
    return m, xq


def test_mixed_graph_and_report(mixed):
    m, _ = mixed
    assert m.report["activations"] == MIXED
    conv = [n for n in m.graph.nodes if n.op == "requantize"]
    assert len(conv) == 4          # -> /3, /3 ... /6 stay int16, /6 -> int8, -> logits, logits ->
    assert all(v.dtype is DType.INT8 for v in m.graph.inputs + m.graph.outputs)


def test_mixed_host_c_equals_golden_model(mixed):
    m, xq = mixed
    np.testing.assert_array_equal(m.run_host(xq, batch=True), m.interpret(xq, batch=True))


def test_mixed_qemu_equals_host(mixed):
    need_tools("arm-none-eabi-gcc", "qemu-system-arm")
    m, xq = mixed
    host = m.run_host(xq[:20], batch=True)
    np.testing.assert_array_equal(m.run_qemu(xq[:20], batch=True, board="stm32"), host)
    assert all(c is not None and c > 0 for c in m.last_qemu.instructions)


def test_int16_everywhere_cuts_the_output_error(example_dir):
    """Measured on the test split: int16 activations in every layer that has a 16x8 form
    lower the logits' MSE against the float model (0.0077 vs 0.0112) at the same accuracy."""
    x = np.load(example_dir / "test.npz")["input"]
    mse = {}
    for acts in ("int8", "int16"):
        m = _digits(example_dir, activations=acts)
        q = np.asarray(m.interpret(x, batch=True), np.float64)
        f = np.asarray(m.run_float(x, batch=True), np.float64)
        mse[acts] = float(np.mean((q - f) ** 2))
    assert mse["int16"] < 0.8 * mse["int8"], mse


# -- the search ------------------------------------------------------------------------------

class FakeEval:
    """(accuracy, mse) of a set of int16 layers: each layer lowers the MSE by its gain; the
    accuracy follows the MSE."""

    def __init__(self, gains):
        self.gains, self.calls = gains, []

    def __call__(self, configs, int16=()):
        self.calls.append(frozenset(int16))
        mse = 1.0 - sum(self.gains[n] for n in int16)
        return 1.0 - mse / 10, mse


def _single(*names):
    return {n: frozenset({n}) for n in names}


def test_promote_int16_is_greedy_by_measured_gain():
    ev = FakeEval({"a": 0.1, "b": 0.5, "c": 0.3, "d": 0.0})
    chosen, tried = promote_int16(ev, _single("a", "b", "c", "d"), {}, ev({}), target=0.98)
    assert [t["layer"] for t in tried] == ["b", "c"]          # largest gain first, then stop
    assert chosen == {"b", "c"} and all(t["kept"] for t in tried)


def test_promote_int16_does_nothing_within_budget():
    ev = FakeEval({"a": 0.5})
    assert promote_int16(ev, _single("a"), {}, (0.99, 0.1), target=0.95) == (set(), [])
    assert ev.calls == []


def test_int16_groups_pair_a_layer_with_its_input_producer(example_dir):
    from tinyc.passes.search import int16_groups
    m = _digits(example_dir)
    groups = int16_groups(m.float_graph)
    assert groups["/0/Conv_output_0"] == {"/0/Conv_output_0"}        # reads the graph input
    assert groups["/6/Conv_output_0"] == {"/3/Conv_output_0", "/6/Conv_output_0"}
    assert groups["logits"] == {"logits", "/12/GlobalAveragePool_output_0", "/9/Conv_output_0"}


def _outlier_mlp():
    """x[16] -> fc(64) + relu -> fc(10): one hidden channel is 300x larger (its outgoing
    weights 300x smaller), so int8's per-tensor scale of the hidden layer is too coarse for
    the other channels; int16 keeps them."""
    rng = np.random.default_rng(0)
    g = Graph("mlp")
    x = g.add_input("x", TensorType(DType.FLOAT32, (1, 16)))
    w1 = rng.standard_normal((64, 16)) * 0.3
    w1[0] = np.abs(w1[0]) * 300
    w1 = g.const("w1", w1.astype(np.float32))
    h = g.emit("fully_connected", [x, w1, g.const("b1", np.zeros(64, np.float32))],
               {"act": (0.0, np.inf)}, name="hidden")
    w2 = rng.standard_normal((10, 64)) * 0.3
    w2[:, 0] /= 300
    w2 = g.const("w2", w2.astype(np.float32))
    g.outputs = [g.emit("fully_connected", [h, w2, g.const("b2", np.zeros(10, np.float32))],
                        name="out")]
    calib = [{"x": np.abs(rng.standard_normal((1, 16))).astype(np.float32)} for _ in range(40)]
    val = {"x": np.abs(rng.standard_normal((120, 16))).astype(np.float32)}
    return g, calib, val


def test_search_promotes_int16_where_int8_loses():
    g, calib, val = _outlier_mlp()
    from tinyc.ir import interpret
    labels = np.array([int(np.argmax(interpret(g, {"x": v[None]})[0])) for v in val["x"]])
    _, report = search_precision(g, calib, Compression(compensate=False), 0.0,
                                 {**val, "label": labels})
    assert report["int8_accuracy"] < 1.0                       # int8 misses the budget
    assert report["activations"], report["steps"]
    kept = [s for s in report["steps"] if s["config"] == "int16 activations" and s["kept"]]
    assert {n for s in kept for n in s["layers"]} == set(report["activations"])
    assert max(s["accuracy"] for s in kept) > report["int8_accuracy"]
    q = quantize(g, calib)                      # the search annotated g: quantize follows it
    assert set(activation_report(q)) >= set(report["activations"])
