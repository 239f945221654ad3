"""The bundled example (examples/digits): the files are as documented and the float model is good."""
from __future__ import annotations

import numpy as np
import onnx

import models


def test_example_files_and_float_accuracy(example_dir):
    """The shipped example: shapes as documented, and its float accuracy in onnxruntime."""
    m = onnx.load(str(example_dir / "digits.onnx"))
    onnx.checker.check_model(m, full_check=True)
    assert "BatchNormalization" in {n.op_type for n in m.graph.node}
    (name, shape), = models.graph_inputs(m)
    assert (name, shape) == ("input", [1, 1, 8, 8])
    with np.load(example_dir / "calib.npz") as c, np.load(example_dir / "test.npz") as t:
        calib, x, y = c["input"], t["input"], t["label"]
    assert calib.shape == (200, 1, 8, 8) and calib.dtype == np.float32
    assert x.shape[1:] == (1, 8, 8) and x.dtype == np.float32 and y.shape == (len(x),) and y.dtype == np.int64
    assert 0.0 <= x.min() and x.max() <= 1.0
    logits = next(iter(models.run_onnxruntime(m, {"input": x}).values()))
    assert (logits.argmax(1) == y).mean() >= 0.95


def test_example_references_agree(example_dir):
    """onnxruntime and onnx.reference (BatchNormalization fixed) agree on the example."""
    m = onnx.load(str(example_dir / "digits.onnx"))
    with np.load(example_dir / "test.npz") as t:
        x = t["input"][:20]
    a = models.run_onnxruntime(m, {"input": x})["logits"]
    r = models.run_reference(m, {"input": x})["logits"]
    np.testing.assert_allclose(a, r, rtol=1e-4, atol=1e-4)
