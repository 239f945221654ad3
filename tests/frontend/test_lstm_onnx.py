"""ONNX LSTM (one direction, batch 1, default activations, zero initial state) onto the IR
lstm — the op TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM maps to, bit-exact with TFLite Micro
(tests/tflite/test_lstm_tflm.py): the float import matches the reference (rtol 1e-4); the int8
build, quantized from calibration data, is within 0.03 (4-7 output steps; seen: <= 0.016) of the
reference's float output, and its host C equals the golden model bit for bit. The reference:
onnxruntime for layout 0, onnx.reference for layout 1 (onnxruntime refuses batch-first RNNs;
the two agree on layout 0 to 1e-7)."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest
from onnx import helper as h

import tinyc
from tinyc.errors import TinycError

from onnx.reference import ReferenceEvaluator

from tinyc.frontend import load_onnx
from tinyc.ir import interpret, verify

from .util import assert_close, make_model, rand, session

TOL = 0.03


def _model(steps=6, feat=5, hid=8, layout=0, bias=True, extra=None, outputs=("y",)):
    d = 2 if (extra or {}).get("direction") == "bidirectional" else 1
    inits = {"W": rand(d, 4 * hid, feat, seed=1) * 0.4, "R": rand(d, 4 * hid, hid, seed=2) * 0.3}
    ins = ["x", "W", "R"]
    if bias:
        inits["B"] = rand(d, 8 * hid, seed=3) * 0.2
        ins.append("B")
    attrs = {"hidden_size": hid, "layout": layout, **(extra or {})}
    nodes = []
    if layout == 0:       # tinyc's model inputs have batch 1: [T, 1, F] comes via a Reshape
        inits["seq_shape"] = np.array([steps, 1, feat], np.int64)
        nodes.append(h.make_node("Reshape", ["x", "seq_shape"], ["x_seq"]))
        ins[0] = "x_seq"
    nodes.append(h.make_node("LSTM", ins, list(outputs), **attrs))
    return make_model(nodes, {"x": _shape(steps, feat, layout)}, [o for o in outputs if o],
                      inits, opset=14)


def _shape(steps, feat, layout):
    return [1, steps * feat] if layout == 0 else [1, steps, feat]


def _reference(model, layout, x):
    if layout == 0:
        return session(model).run(None, {"x": x})[0]
    return ReferenceEvaluator(model).run(None, {"x": x})[0]


@pytest.mark.parametrize("layout", [0, 1])
def test_float_import_matches_reference(layout):
    model = _model(layout=layout)
    g = verify(load_onnx(model))
    assert "lstm" in [n.op for n in g.nodes]
    for seed in (0, 1):
        x = rand(*_shape(6, 5, layout), seed=seed)
        assert_close(interpret(g, [x])[0], _reference(model, layout, x), 1e-4)


@pytest.mark.parametrize("steps,feat,hid,layout,bias", [(6, 5, 8, 0, True), (1, 3, 4, 0, False),
                                                        (10, 12, 16, 1, True)])
def test_int8_build_near_reference_and_host_c(tmp_path, steps, feat, hid, layout, bias):
    model = _model(steps, feat, hid, layout, bias)
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    shape = tuple(_shape(steps, feat, layout))
    calib = {"x": np.stack([rand(*shape, seed=s) for s in range(32)])}
    m = tinyc.compile(path, calib=calib, progress=None)
    assert [n.op for n in m.graph.nodes].count("lstm") == 1
    for seed in (99, 100, 101):
        x = rand(*shape, seed=seed)
        want = _reference(model, layout, x)
        got = np.asarray(m.interpret(x)).reshape(want.shape)
        assert np.abs(got - want).max() <= TOL, np.abs(got - want).max()
        xq = m.inputs[0].quantize(x)
        np.testing.assert_array_equal(m.run_host(xq), m.interpret(xq))


@pytest.mark.parametrize("extra,outputs,needle", [
    ({"direction": "sideways"}, ("y",), "direction"),
    ({"clip": 3.0}, ("y",), "clip"),
    ({"activations": ["Sigmoid", "Relu", "Tanh"]}, ("y",), "activations"),
    ({}, ("y", "", "y_c"), "Y_c"),
])
def test_unsupported_variants_refused(tmp_path, extra, outputs, needle):
    path = tmp_path / "m.onnx"
    path.write_bytes(_model(extra=extra, outputs=outputs).SerializeToString())
    with pytest.raises(TinycError, match=needle):
        tinyc.compile(path, progress=None)


def test_y_h_is_the_last_step(tmp_path):
    """Y_h (Y's last step) alone, as ONNX's own LSTM tests ask for it, and with Y."""
    for outputs in (("", "y_h"), ("y", "y_h")):
        model = _model(outputs=outputs)
        g = verify(load_onnx(model))
        x = rand(*_shape(6, 5, 0), seed=4)
        for got, want in zip(interpret(g, [x]), session(model).run(None, {"x": x})):
            assert_close(got, want, 1e-4)


DIRECTIONS = ("reverse", "bidirectional")


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("layout", [0, 1])
def test_reverse_and_bidirectional_float_import(direction, layout):
    """reverse = the forward lstm on the time-reversed sequence; bidirectional = both, Y
    concatenated on the direction axis; Y_h the forward run's last and the reverse run's first
    step — equal to the reference (onnxruntime / onnx.reference) to 1e-4."""
    model = _model(layout=layout, extra={"direction": direction}, outputs=("y", "y_h"))
    g = verify(load_onnx(model))
    assert [n.op for n in g.nodes].count("lstm") == (2 if direction == "bidirectional" else 1)
    for seed in (0, 1):
        x = rand(*_shape(6, 5, layout), seed=seed)
        want = (session(model).run(None, {"x": x}) if layout == 0 else
                ReferenceEvaluator(model).run(None, {"x": x}))
        for got, w in zip(interpret(g, [x]), want):
            assert got.shape == w.shape
            assert_close(got, w, 1e-4)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("steps,feat,hid,layout", [(6, 5, 8, 0), (10, 12, 16, 1)])
def test_reverse_and_bidirectional_int8_within_bound(tmp_path, direction, steps, feat, hid,
                                                     layout):
    """The int8 build within the forward LSTM's bound TOL of the reference; host C == golden."""
    model = _model(steps, feat, hid, layout, extra={"direction": direction})
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    shape = tuple(_shape(steps, feat, layout))
    calib = {"x": np.stack([rand(*shape, seed=s) for s in range(32)])}
    m = tinyc.compile(path, calib=calib, progress=None)
    for seed in (99, 100, 101):
        x = rand(*shape, seed=seed)
        want = _reference(model, layout, x)
        got = np.asarray(m.interpret(x)).reshape(want.shape)
        assert np.abs(got - want).max() <= TOL, np.abs(got - want).max()
        xq = m.inputs[0].quantize(x)
        np.testing.assert_array_equal(m.run_host(xq), m.interpret(xq))


TORCH_LSTM = sorted((pathlib.Path(__file__).parent / "lstm_models").glob("bilstm_*.onnx"))


def test_torch_lstm_exports_are_there():
    assert [p.name for p in TORCH_LSTM] == ["bilstm_dynamo18.onnx", "bilstm_ts14.onnx"], \
        "run tests/frontend/make_models.py"


@pytest.mark.parametrize("path", TORCH_LSTM, ids=lambda p: p.stem)
def test_torch_bidirectional_lstm_export(path):
    """torch.nn.LSTM(bidirectional=True, batch_first=True) + Linear on the last step, from both
    exporters: the float import equals onnxruntime (rtol 1e-4); the int8 build (calibrated)
    is within TOL of it; host C == interpret() == QEMU."""
    g = verify(load_onnx(path))
    assert [n.op for n in g.nodes].count("lstm") == 2
    sess = session(path)
    shape = (1, 6, 5)
    for seed in (0, 1):
        x = rand(*shape, seed=seed)
        assert_close(interpret(g, [x])[0], sess.run(None, {"x": x})[0], 1e-4)
    calib = {"x": np.stack([rand(*shape, seed=s) for s in range(32)])}
    m = tinyc.compile(path, calib=calib, progress=None)
    xs = np.concatenate([rand(*shape, seed=s) for s in (99, 100, 101)])
    want = np.concatenate([sess.run(None, {"x": x[None]})[0] for x in xs])
    got = np.asarray(m.interpret(xs, batch=True)).reshape(want.shape)
    assert np.abs(got - want).max() <= TOL, np.abs(got - want).max()
    xq = m.inputs[0].quantize(xs)
    host = m.run_host(xq, batch=True)
    np.testing.assert_array_equal(host, m.interpret(xq, batch=True))
    if path.stem.endswith("ts14"):                  # one QEMU run (same IR for both exports)
        np.testing.assert_array_equal(m.run_qemu(xq, batch=True), host)
