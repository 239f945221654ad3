"""ONNX GRU (one direction, batch 1, default activations, zero initial state,
linear_before_reset 0 and 1) onto the IR gru (ir/ops/gru.py: int8 input, weights and output,
int16 hidden state, the int8 LSTM's gate arithmetic):
- the float import == onnxruntime (rtol 1e-4), Y and Y_h;
- the int8 build: its integer arithmetic within 1 output step of the float GRU computed with
  the same int8 weights and biases (measured <= 0.55); within 4 steps of onnxruntime on the
  int8 input's real values (the per-tensor int8 weights add the rest; measured <= 2.4);
- host C == interpret() bit for bit; QEMU == host C; strict C99 with gcc and clang;
- unsupported variants refused by name."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from onnx import helper as h

import tinyc
from tinyc.errors import TinycError
from tinyc.frontend import load_onnx
from tinyc.ir import interpret, verify
from tinyc.ir.ops.gru import gru_float

from .util import assert_close, make_model, rand, session


def _model(steps=6, feat=5, hid=8, lbr=0, bias=True, extra=None, outputs=("y", "y_h")):
    """x [1, T*F] -> Reshape [T, 1, F] -> GRU (tinyc's model inputs have batch 1)."""
    inits = {"W": rand(1, 3 * hid, feat, seed=1) * 0.5, "R": rand(1, 3 * hid, hid, seed=2) * 0.5,
             "seq_shape": np.array([steps, 1, feat], np.int64)}
    ins = ["x_seq", "W", "R"]
    if bias:
        inits["B"] = rand(1, 6 * hid, seed=3) * 0.3
        ins.append("B")
    nodes = [h.make_node("Reshape", ["x", "seq_shape"], ["x_seq"]),
             h.make_node("GRU", ins, list(outputs), hidden_size=hid, linear_before_reset=lbr,
                         **(extra or {}))]
    return make_model(nodes, {"x": [1, steps * feat]}, [o for o in outputs if o], inits,
                      opset=14)


def _compile(model, tmp_path, steps=6, feat=5, name="gru"):
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(model.SerializeToString())
    calib = {"x": np.stack([rand(1, steps * feat, seed=s) for s in range(32)])}
    return tinyc.compile(path, calib=calib, progress=None, name=name)


@pytest.mark.parametrize("lbr", [0, 1])
@pytest.mark.parametrize("bias", [True, False])
def test_float_import_matches_onnxruntime(lbr, bias):
    model = _model(lbr=lbr, bias=bias)
    g = verify(load_onnx(model))
    assert [n.op for n in g.nodes].count("gru") == 1
    sess = session(model)
    for seed in (0, 1):
        x = rand(1, 30, seed=seed)
        for got, want in zip(interpret(g, [x]), sess.run(None, {"x": x})):
            assert_close(got, want, 1e-4)


def _same_weights_float(node, xq):
    """The float GRU on the int8 input's real values with the node's int8 weights and int32
    biases dequantized."""
    x = node.inputs[0]
    args = []
    for k in range(1, 10):
        v = node.inputs[k]
        s = float(x.q.s) * float(node.inputs[k - 6].q.s) if k >= 7 else float(v.q.s)
        args.append(v.data.astype(np.float64) * s)
    xr = (xq.astype(np.float64) - x.q.zp) * x.q.s
    return gru_float(node, xr.reshape(x.shape), *args)


@pytest.mark.parametrize("steps,feat,hid,lbr", [(6, 5, 8, 0), (6, 5, 8, 1), (12, 3, 16, 1),
                                                (1, 4, 4, 0)])
def test_int8_build(tmp_path, steps, feat, hid, lbr):
    model = _model(steps, feat, hid, lbr)
    m = _compile(model, tmp_path, steps, feat)
    node = next(n for n in m.graph.nodes if n.op == "gru")
    sess = session(model)
    arith, total = 0.0, 0.0
    for seed in range(8):                       # calibration samples: no clipping
        x = rand(1, steps * feat, seed=seed)
        xq = m.inputs[0].quantize(x)
        got = m.interpret(xq)
        for g, c in zip(got, m.run_host(xq)):
            np.testing.assert_array_equal(c, g)
        y = m.outputs[0].dequantize(got[0]).reshape(-1)
        s = m.outputs[0].scale
        arith = max(arith, np.abs(y - _same_weights_float(node, xq).reshape(-1)).max() / s)
        x_real = m.inputs[0].dequantize(xq).astype(np.float32).reshape(x.shape)
        for k, want in enumerate(sess.run(None, {"x": x_real})):
            yk = m.outputs[k].dequantize(got[k]).reshape(want.shape)
            total = max(total, np.abs(yk - want).max() / m.outputs[k].scale)
    assert arith <= 1.0, arith
    assert total <= 4.0, total


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return _compile(_model(lbr=1), tmp_path_factory.mktemp("gru"), name="gru_net")


def test_qemu_equals_host_c_equals_interpret(built):
    xq = built.inputs[0].quantize(np.stack([rand(1, 30, seed=s) for s in (3, 4)]))
    host = built.run_host(xq, batch=True)
    for a, b in zip(host, built.interpret(xq, batch=True)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(built.run_qemu(xq, batch=True), host):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_generated_c_is_strict_c99(built, cc, tmp_path):
    if shutil.which(cc) is None:
        from tests.needs import missing
        missing(f"{cc} not installed")
    d = built.c_dir()
    assert "gru_net_tinyc_gru_s8.c" in {p.name for p in d.rglob("*.c")}
    flags = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wsign-conversion",
             "-Werror", "-O2", "-c"]
    for src in sorted(d.rglob("*.c")):
        subprocess.run([cc, *flags, str(src), "-o", str(tmp_path / "x.o")], check=True, cwd=d)


@pytest.mark.parametrize("extra,needle", [
    ({"direction": "reverse"}, "direction"),
    ({"clip": 3.0}, "clip"),
    ({"activations": ["Sigmoid", "Relu"]}, "activations"),
])
def test_unsupported_variants_refused(extra, needle):
    with pytest.raises(TinycError, match=f"GRU.*{needle}"):
        load_onnx(_model(extra=extra))


def test_hidden_size_limit_refused():
    with pytest.raises(TinycError, match="hidden size .* <= 256"):
        load_onnx(_model(steps=2, feat=2, hid=260))


def _batch_model(layout: int, n=3, steps=4, feat=3, hid=5):
    inits = {"W": rand(1, 3 * hid, feat, seed=1) * 0.5, "R": rand(1, 3 * hid, hid, seed=2) * 0.5,
             "B": rand(1, 6 * hid, seed=3) * 0.3}
    shape = [n, steps, feat] if layout else [steps, n, feat]
    node = h.make_node("GRU", ["x", "W", "R", "B"], ["y"], hidden_size=hid, layout=layout)
    return make_model([node], {"x": shape}, ["y"], inits, opset=14)


def test_batch_first_gru_is_pinned_per_sample():
    """layout=1 (batch-first, as batch-1 pinning needs it): a batch-3 model pinned to batch 1,
    each sample == onnx.reference's row (onnxruntime runs no batch-first RNN)."""
    from onnx.reference import ReferenceEvaluator
    model = _batch_model(1)
    x = rand(3, 4, 3, seed=7)
    want = ReferenceEvaluator(model).run(None, {"x": x})[0]
    g = load_onnx(model, input_shapes={"x": (1, 4, 3)})
    for i in range(3):
        assert_close(interpret(g, [x[i:i + 1]])[0], want[i:i + 1], 1e-4)


def test_time_major_batch_refused_naming_the_axis():
    with pytest.raises(TinycError, match="layout 0 .* batch on dim 1"):
        load_onnx(_batch_model(0), input_shapes={"x": (1, 3, 3)})   # dim 0 is T here
