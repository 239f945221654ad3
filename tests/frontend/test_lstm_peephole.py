"""ONNX LSTM with peephole weights P onto the IR lstm's attrs["peephole"] (TFLite's integer
LSTM cell-to-gate weights: int16, their own multipliers; kernel lstm.peephole,
runtime/tinyc_lstm_peep_s8.c): the float import equals onnxruntime (rtol 1e-4); the int8
build is within the LSTM bound TOL of onnxruntime's float output (tests/frontend/
test_lstm_onnx.py); host C == interpret() bit for bit, QEMU == host C; the generated C is
strict C99 with gcc and clang. TFLite imports never set peephole (TFLite Micro refuses it):
their lstm kernel and bits are unchanged."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from onnx import helper as h

import tinyc
from tinyc.frontend import load_onnx
from tinyc.ir import interpret, verify

from .test_lstm_onnx import TOL
from .util import assert_close, make_model, rand, session


def _model(steps=6, feat=5, hid=8, direction="forward", peep_scale=0.5):
    d = 2 if direction == "bidirectional" else 1
    inits = {"W": rand(d, 4 * hid, feat, seed=1) * 0.4, "R": rand(d, 4 * hid, hid, seed=2) * 0.3,
             "B": rand(d, 8 * hid, seed=3) * 0.2, "P": rand(d, 3 * hid, seed=4) * peep_scale,
             "seq_shape": np.array([steps, 1, feat], np.int64)}
    nodes = [h.make_node("Reshape", ["x", "seq_shape"], ["x_seq"]),
             h.make_node("LSTM", ["x_seq", "W", "R", "B", "", "", "", "P"], ["y", "y_h"],
                         hidden_size=hid, direction=direction)]
    return make_model(nodes, {"x": [1, steps * feat]}, ["y", "y_h"], inits, opset=14)


CASES = {"forward": dict(), "short": dict(steps=1, feat=3, hid=4),
         "bidirectional": dict(direction="bidirectional"),
         "large_p": dict(steps=8, hid=6, peep_scale=2.0)}


@pytest.mark.parametrize("name", sorted(CASES))
def test_float_import_matches_onnxruntime(name):
    model = _model(**CASES[name])
    g = verify(load_onnx(model))
    lstms = [n for n in g.nodes if n.op == "lstm"]
    assert lstms and all("peephole" in n.attrs for n in lstms)
    for seed in (0, 1):
        x = rand(*model_shape(model), seed=seed)
        for got, want in zip(interpret(g, [x]), session(model).run(None, {"x": x})):
            assert_close(got, want, 1e-4)


def test_peephole_changes_the_result():
    """The P term matters (a model without P differs by more than the int8 bound)."""
    with_p, no_p = _model(peep_scale=2.0), _model(peep_scale=0.0)
    x = rand(*model_shape(with_p), seed=5)
    a = session(with_p).run(None, {"x": x})[0]
    b = session(no_p).run(None, {"x": x})[0]
    assert np.abs(a - b).max() > 4 * TOL


def model_shape(model):
    return [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]


def _compile(model, tmp_path, name="peep"):
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(model.SerializeToString())
    shape = model_shape(model)
    calib = {"x": np.stack([rand(*shape[1:], seed=s) for s in range(32)])}
    return tinyc.compile(path, calib=calib, progress=None, name=name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_int8_within_bound_and_host_c(name, tmp_path):
    model = _model(**CASES[name])
    m = _compile(model, tmp_path)
    sess = session(model)
    for seed in (99, 100, 101):
        x = rand(*model_shape(model), seed=seed)
        want = sess.run(None, {"x": x})[0]
        got = np.asarray(m.interpret(x)[0] if isinstance(m.interpret(x), list)
                         else m.interpret(x)).reshape(want.shape)
        assert np.abs(got - want).max() <= TOL, np.abs(got - want).max()
        xq = m.inputs[0].quantize(x)
        host, gold = m.run_host(xq), m.interpret(xq)
        for a, b in zip(host if isinstance(host, list) else [host],
                        gold if isinstance(gold, list) else [gold]):
            np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    return _compile(_model(**CASES["forward"]), tmp_path_factory.mktemp("peep"), "peep_net")


def test_qemu_equals_host_c(net):
    shape = model_shape(_model(**CASES["forward"]))
    xq = net.inputs[0].quantize(np.stack([rand(*shape[1:], seed=s) for s in (7, 8)]))
    host = net.run_host(xq, batch=True)
    qemu = net.run_qemu(xq, batch=True)
    for a, b in zip(host if isinstance(host, list) else [host],
                    qemu if isinstance(qemu, list) else [qemu]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_generated_c_is_strict_c99(net, cc, tmp_path):
    if shutil.which(cc) is None:
        from tests.needs import missing
        missing(f"{cc} not installed")
    d = net.c_dir()
    assert "peep_net_tinyc_lstm_peep_s8.c" in {p.name for p in d.rglob("*.c")}
    flags = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wsign-conversion",
             "-Werror", "-O2", "-c"]
    for src in sorted(d.rglob("*.c")):
        subprocess.run([cc, *flags, str(src), "-o", str(tmp_path / "x.o")], check=True, cwd=d)
