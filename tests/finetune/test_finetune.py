"""Fine-tuning through tinyc.compile on the digits example (fast versions: few epochs).

Acceptance 3: the training graph's fake-quantized forward pass (with the compiler's calibrated
ranges) predicts the compiled model's outputs — here exactly (the fake quantizer reproduces the
kernels' double rounding and the average pool's raw rounding), asserted at the issue's bounds
(top-1 >= 99.5 %, within 1 LSB >= 99 %) and at <= 1 LSB everywhere; the host C equals the
interpreter. Compression is kept (palettes of at most K values, pruning masks), runs are
byte-identical, labelled fine-tuning beats PTQ on held-out data."""
from __future__ import annotations

import numpy as np
import pytest

import tinyc
from tinyc.errors import TinycError
from tinyc.passes.finetune.train import fake_quant_predict


@pytest.fixture(scope="module")
def digits(example_dir):
    t = np.load(example_dir / "test.npz")
    return (example_dir / "digits.onnx", example_dir / "calib.npz", example_dir / "train.npz",
            t["input"], t["label"])


def _acc(m, x, y):
    return float(np.mean(m.interpret(x, batch=True).reshape(len(x), -1).argmax(1) == y))


@pytest.mark.parametrize("kw", [{}, {"cluster": 2}, {"prune_structured": 0.75},
                                {"weights": "int4"}, {"prune": 0.5}],
                         ids=["int8", "cluster2", "structured75", "int4", "prune50"])
def test_fake_quant_forward_predicts_compiled_outputs(digits, kw):
    model, calib, _, x, _ = digits
    m = tinyc.compile(model, calib=calib, finetune=2, progress=None, **kw)
    g = m.finetuned_graph
    name = g.inputs[0].name
    cal = np.load(calib)["input"]
    fq = fake_quant_predict(g, [{name: cal[i:i + 1]} for i in range(len(cal))], {name: x})
    q = m.interpret(x, batch=True).reshape(len(x), -1)
    lsb = np.abs(fq.reshape(q.shape) - q) / m.outputs[0].scale
    assert np.mean(fq.reshape(q.shape).argmax(1) == q.argmax(1)) >= 0.995
    assert np.mean(lsb <= 1 + 1e-4) >= 0.99
    assert lsb.max() <= 1 + 1e-4


def test_host_c_equals_interpreter_after_finetuning(digits):
    model, calib, _, x, _ = digits
    m = tinyc.compile(model, calib=calib, finetune=1, cluster=2, progress=None)
    xs = x[:40]
    assert np.array_equal(m.run_host(xs, batch=True),
                          m.interpret(xs, batch=True))


def _weights(m):
    return {n.name: n.inputs[1] for n in m.graph.nodes if n.op in
            ("conv2d", "depthwise_conv2d", "fully_connected")}


def test_palettes_and_masks_are_kept(digits):
    model, calib, _, _, _ = digits
    m = tinyc.compile(model, calib=calib, finetune=2, cluster=2, progress=None)
    for name, w in _weights(m).items():
        assert len(np.unique(w.data)) <= 2, name
    base = tinyc.compile(model, calib=calib, prune=0.5, progress=None)
    ft = tinyc.compile(model, calib=calib, prune=0.5, finetune=2, progress=None)
    for name, w in _weights(base).items():
        if base.report["compression"]["layers"][name]["zeros"] > 0.3:
            zeros = w.data == 0
            assert np.all(_weights(ft)[name].data[zeros] == 0), name
    assert ft.report["finetune"]["epochs"] >= 1


def test_two_runs_give_identical_bytes(digits):
    model, calib, _, _, _ = digits
    a = tinyc.compile(model, calib=calib, finetune=2, cluster=4, progress=None)
    b = tinyc.compile(model, calib=calib, finetune=2, cluster=4, progress=None)
    for v, u in zip(a.graph.constants(), b.graph.constants()):
        assert v.data.tobytes() == u.data.tobytes() and v.q == u.q
    assert a.report["finetune"]["history"] == [
        {**r, "seconds": a.report["finetune"]["history"][i]["seconds"]}
        for i, r in enumerate(b.report["finetune"]["history"])]


def test_labelled_finetuning_recovers_accuracy(digits):
    """cluster=2 PTQ loses ~25 points on digits; 4 epochs on the training split with labels
    win back at least 8 of them on the held-out test split (the full 10-epoch table is in
    docs/finetune.md)."""
    model, calib, train, x, y = digits
    ptq = _acc(tinyc.compile(model, calib=calib, cluster=2, progress=None), x, y)
    m = tinyc.compile(model, calib=calib, cluster=2, finetune=4, train=train, progress=None)
    assert _acc(m, x, y) >= ptq + 0.08
    assert m.report["finetune"]["labels"] and m.report["finetune"]["train_samples"] == 1293


def test_distillation_alone_does_not_lose(digits):
    """No labels: the calibration data and the float model as teacher; the held-out best
    epoch is kept, so the student is no worse than PTQ on the teacher's own objective."""
    model, calib, _, x, y = digits
    m = tinyc.compile(model, calib=calib, cluster=2, finetune=3, progress=None)
    r = m.report["finetune"]
    assert not r["labels"] and r["teacher"] == "float model"
    ptq = _acc(tinyc.compile(model, calib=calib, cluster=2, progress=None), x, y)
    assert _acc(m, x, y) >= ptq - 0.01


def test_teacher_file_and_errors(digits, tmp_path):
    model, calib, train, _, _ = digits
    m = tinyc.compile(model, calib=calib, finetune=1, teacher=model, progress=None)
    assert m.report["finetune"]["teacher"] == str(model)
    with pytest.raises(TinycError, match="epochs"):
        tinyc.compile(model, calib=calib, finetune=-1, progress=None)
    bad = tmp_path / "bad.npz"
    np.savez(bad, input=np.load(train)["input"][:20], label=np.arange(3))
    with pytest.raises(TinycError, match="labels"):
        tinyc.compile(model, calib=calib, finetune=1, train=bad, progress=None)


def test_speed_budget(digits):
    """The issue's budget: ~0.3 M MACs/sample x ~1,400 samples x 10 epochs under 60 s on 2
    cores. The depthwise-separable student (0.32 M MACs) on the 1,293 training samples, 10
    full epochs."""
    model, calib, train, _, _ = digits
    m = tinyc.compile(model.parent / "ds_net.onnx", calib=calib, finetune=10, train=train,
                      progress=None, finetune_options={"patience": 100})
    r = m.report["finetune"]
    assert r["epochs"] == 10 and r["macs_per_sample"] * r["train_samples"] >= 0.3e6 * 1290
    assert r["seconds"] < 60


def test_calib_ranges_are_the_compilers_calibration(digits):
    """Net.calib_ranges (the held-out evaluations' ranges, and ranges='calib' in training)
    gives the ranges the compiler's calibration (observe_ranges, one interpreter run per
    sample) finds on the fine-tuned graph, to float32 rounding."""
    from tinyc.passes.calibrate import observe_ranges
    from tinyc.passes.finetune.net import Net
    model, calib, _, _, _ = digits
    m = tinyc.compile(model, calib=calib, finetune=1, prune_structured=0.75, progress=None)
    g = m.finetuned_graph
    name = g.inputs[0].name
    cal = np.load(calib)["input"]
    want = observe_ranges(g, [{name: cal[i:i + 1]} for i in range(len(cal))])
    net = Net(g)
    net.calib_ranges({name: cal})
    assert len(want) > 5
    for v, (lo, hi) in want.items():
        got = net.ranges[id(v)]
        assert got == pytest.approx((lo, hi), rel=1e-5, abs=1e-6), v.name


@pytest.mark.parametrize("opts", [{"ranges": "calib", "range_steps": 7},
                                  {"average": 0.99, "mixup": 0.5}],
                         ids=["calib_ranges", "average_mixup"])
def test_training_options_keep_the_prediction_exact(digits, opts):
    """The non-default training options still give a graph whose fake-quantized forward
    pass predicts the compiled model (<= 1 LSB everywhere), and runs repeat byte for byte."""
    model, calib, _, x, _ = digits
    kw = {"calib": calib, "finetune": 2, "cluster": 2, "progress": None,
          "finetune_options": opts}
    m = tinyc.compile(model, **kw)
    g = m.finetuned_graph
    name = g.inputs[0].name
    cal = np.load(calib)["input"]
    fq = fake_quant_predict(g, [{name: cal[i:i + 1]} for i in range(len(cal))], {name: x})
    q = m.interpret(x, batch=True).reshape(len(x), -1)
    assert (np.abs(fq.reshape(q.shape) - q) / m.outputs[0].scale).max() <= 1 + 1e-4
    again = tinyc.compile(model, **kw)
    for v, u in zip(m.graph.constants(), again.graph.constants()):
        assert v.data.tobytes() == u.data.tobytes() and v.q == u.q


def test_mixup_with_labels_and_bad_ranges_are_refused(digits):
    model, calib, train, _, _ = digits
    with pytest.raises(TinycError, match="mixup"):
        tinyc.compile(model, calib=calib, finetune=1, train=train, progress=None,
                      finetune_options={"mixup": 0.5})
    with pytest.raises(TinycError, match="ranges"):
        tinyc.compile(model, calib=calib, finetune=1, progress=None,
                      finetune_options={"ranges": "minmax"})


@pytest.mark.parametrize("kw", [{"activations": "int16"},
                                {"activations": "int16", "cluster": 2}],
                         ids=["int16", "int16_cluster2"])
def test_int16_activations_are_fake_quantized_as_compiled(digits, kw):
    """Layers with int16 activations (activations=, 16x8): the training forward pass
    quantizes them symmetric int16 with one rounding (the 16x8 requantization) and requantizes
    to int8 where quantize inserts a requantize; the prediction meets the issue's bounds
    (top-1 >= 99.5 %, within 1 LSB >= 99 %); plain int16 within 1 LSB everywhere (with
    2-entry palettes a few values differ by up to 3 LSB: the 16x8 kernels' 16-bit reduced
    multiplier)."""
    model, calib, _, x, _ = digits
    m = tinyc.compile(model, calib=calib, finetune=2, progress=None, **kw)
    assert set(m.report["activations"].values()) == {"int16"}
    g = m.finetuned_graph
    name = g.inputs[0].name
    cal = np.load(calib)["input"]
    fq = fake_quant_predict(g, [{name: cal[i:i + 1]} for i in range(len(cal))], {name: x})
    q = m.interpret(x, batch=True).reshape(len(x), -1)
    lsb = np.abs(fq.reshape(q.shape) - q) / m.outputs[0].scale
    assert np.mean(fq.reshape(q.shape).argmax(1) == q.argmax(1)) >= 0.995
    assert np.mean(lsb <= 1 + 1e-4) >= 0.99
    assert lsb.max() <= (1 if "cluster" not in kw else 3) + 1e-4
