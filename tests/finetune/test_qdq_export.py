"""Acceptance 4: `tinyc finetune` writes a QDQ ONNX model that ONNX Runtime runs (top-1 agrees
with tinyc's interpreter on >= 99 % of the test set) and that tinyc compiles back to the same
int8 weights and the same test outputs — int8, int4 and palette (cluster=2) students, and a
structurally pruned one."""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

import tinyc
from tinyc.cli import main
from tinyc.qdq_export import export_qdq

LAYERS = ("conv2d", "depthwise_conv2d", "fully_connected")


@pytest.fixture(scope="module")
def digits(example_dir):
    t = np.load(example_dir / "test.npz")
    return example_dir, t["input"], t["label"]


def _weights(m):
    return [(n.inputs[1].data, n.inputs[1].q) for n in m.graph.nodes if n.op in LAYERS]


@pytest.mark.parametrize("kw", [{}, {"weights": "int4"}, {"cluster": 2},
                                {"prune_structured": 0.5}],
                         ids=["int8", "int4", "cluster2", "structured50"])
def test_qdq_round_trip(digits, tmp_path, kw):
    d, x, _ = digits
    m = tinyc.compile(d / "digits.onnx", calib=d / "calib.npz", finetune=2, progress=None, **kw)
    path = tmp_path / "ft.onnx"
    export_qdq(m, path)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    o = np.concatenate([sess.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))])
    q = m.interpret(x, batch=True).reshape(len(x), -1)
    assert np.mean(o.reshape(q.shape).argmax(1) == q.argmax(1)) >= 0.99
    back = tinyc.compile(path, progress=None)
    for (a, qa), (b, qb) in zip(_weights(m), _weights(back), strict=True):
        assert np.array_equal(a, b)
        np.testing.assert_allclose(qa.scale, qb.scale, rtol=1e-7)
    assert np.array_equal(back.interpret(x, batch=True), m.interpret(x, batch=True))
    if kw.get("cluster"):
        assert all(len(np.unique(w)) <= 2 for w, _ in _weights(back))


def test_cli_finetune_writes_qdq(digits, tmp_path, capsys):
    d, x, _ = digits
    out = tmp_path / "sub" / "ft.onnx"
    rc = main(["finetune", str(d / "digits.onnx"), "--calib", str(d / "calib.npz"),
               "--train", str(d / "train.npz"), "--finetune", "1", "--weights", "int4",
               "-o", str(out)])
    assert rc == 0 and out.is_file()
    assert "with labels" in capsys.readouterr().out
    back = tinyc.compile(out, progress=None)
    assert all(np.abs(w).max() <= 7 for w, _ in _weights(back))
    rc = main(["finetune", str(d / "digits.onnx"), "-o", str(out)])
    assert rc == 2 and "--calib" in capsys.readouterr().err


def test_cli_check_has_a_finetuned_column(digits, capsys):
    d, _, _ = digits
    rc = main(["check", str(d / "digits.onnx"), "--calib", str(d / "calib.npz"),
               "--data", str(d / "test.npz"), "--cluster", "2", "--finetune", "1"])
    out = capsys.readouterr().out
    assert rc == 0
    header = [ln for ln in out.splitlines() if "compressed" in ln and "fine-tuned" in ln]
    assert header and "fine-tuned: the compressed" in out


def test_finetune_flags_reach_compile_keywords():
    import inspect

    from tinyc.options import compile_options
    for cmd, extra in (("build", ["-o", "o"]), ("check", ["--data", "t.npz"]),
                       ("run", ["--data", "t.npz"]), ("sweep", ["--data", "t.npz", "-o", "o"])):
        args = __import__("tinyc.cli", fromlist=["parser"]).parser().parse_args(
            [cmd, "m.onnx", *extra, "--finetune", "3", "--train", "t.npz", "--teacher", "t.onnx"])
        opts = compile_options(args)
        assert opts == {"finetune": 3, "train": "t.npz", "teacher": "t.onnx"}
        assert set(opts) <= set(inspect.signature(tinyc.compile).parameters)
