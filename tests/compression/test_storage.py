"""int4, codebook and sparse weights end to end on the digits example: the values lie where
the format needs them, the generated C matches interpret bit for bit (host, and QEMU), and the
stored model is measured smaller."""
from __future__ import annotations

import shutil
import tempfile

import numpy as np
import pytest
from needs import skip_unless

from .util import accuracy, compile_digits, digits_data, host_matches_interpret, output_mse

LAYERS = ("conv2d", "depthwise_conv2d", "fully_connected")
HAVE_ARM = all(shutil.which(t) for t in ("arm-none-eabi-gcc", "qemu-system-arm"))
needs_arm = skip_unless(HAVE_ARM, "arm-none-eabi-gcc/qemu-system-arm missing")


def _weights(m):
    return [n.inputs[1].data for n in m.graph.nodes if n.op in LAYERS]


def _formats(m):
    return [f["format"] for f in m.report["weight_formats"]]


def test_int4(repo_root):
    m = compile_digits(repo_root, weights="int4")
    assert all(np.abs(w).max() <= 7 for w in _weights(m))
    assert _formats(m) == ["s4"] * 5
    base = compile_digits(repo_root)
    assert m.report["weights_bytes"] <= base.report["weights_bytes"] - 2200 // 2
    assert accuracy(m, repo_root) >= 0.975
    rounded = compile_digits(repo_root, weights="int4", compensate=False, bias_correction=False)
    assert output_mse(m, repo_root) < 0.5 * output_mse(rounded, repo_root)
    assert host_matches_interpret(m, digits_data(str(repo_root))[0][:30])


def test_mixed_bits_per_layer(repo_root):
    m = compile_digits(repo_root, weights={"logits": "int4"})
    assert _formats(m) == ["dense"] * 4 + ["s4"]


@pytest.mark.parametrize("k, floor", [(16, 0.975), (4, 0.94)])
def test_cluster(repo_root, k, floor):
    m = compile_digits(repo_root, cluster=k)
    assert all(np.unique(w).size <= k for w in _weights(m))
    assert _formats(m) == ["cb"] * 5
    assert accuracy(m, repo_root) >= floor
    assert host_matches_interpret(m, digits_data(str(repo_root))[0][:30])


def test_cluster_needs_compensation(repo_root):
    m = compile_digits(repo_root, cluster=4)
    raw = compile_digits(repo_root, cluster=4, compensate=False, bias_correction=False)
    assert accuracy(m, repo_root) > accuracy(raw, repo_root) + 0.2


def test_sparse(repo_root):
    """storage="sparse": the zero-skipping (skip, value) format wherever it fits; "small":
    the smallest format (at 90% zeros the bitmask, N/8 + nnz bytes, beats 2 nnz + 2 O);
    "auto" keeps the digits layers off the zero-skipping kernel, which would be slower than
    the dense DSP kernels on layers this small, and stores the pruned ones as a bitmask."""
    m = compile_digits(repo_root, prune=0.9, storage="sparse")
    assert _formats(m) == ["sparse", "sparse", "dense", "sparse", "sparse"]
    small = compile_digits(repo_root, prune=0.9, storage="small")
    for row, s in zip(small.report["weight_formats"], m.report["weight_formats"]):
        assert row["weights_bytes"] <= s["weights_bytes"], (row, s)
    assert host_matches_interpret(small, digits_data(str(repo_root))[0][:30])
    auto = compile_digits(repo_root, prune=0.9)
    assert "sparse" not in _formats(auto) and "mask" in _formats(auto)
    assert "estimated slower" in auto.report["weight_formats"][1]["why"]
    assert m.report["macs"] < 0.25 * m.report["dense_macs"]
    why = m.report["weight_formats"][0]["why"]
    assert "dense" in why and "sparse" in why
    assert host_matches_interpret(m, digits_data(str(repo_root))[0][:30])
    dense = compile_digits(repo_root, prune=0.9, storage="dense")
    assert _formats(dense) == ["dense"] * 5
    assert m.report["weights_bytes"] < 0.5 * dense.report["weights_bytes"]


@needs_arm
def test_flash_and_qemu(repo_root):
    """Measured flash (linked firmware) shrinks with every format, and QEMU gives the
    interpreter's bits (instruction counts: docs/compression.md)."""
    x = digits_data(str(repo_root))[0][:2]
    results = {}
    cases = {"int8": {}, "int4": {"weights": "int4"}, "k4": {"cluster": 4},
             "sparse": {"prune": 0.9, "storage": "sparse"},
             "sparse_dense": {"prune": 0.9, "storage": "dense"}}
    for key, kw in cases.items():
        m = compile_digits(repo_root, calib_n=50, **kw)
        with tempfile.TemporaryDirectory() as t:
            m.write(t, measure=True)
        q = np.stack([m.inputs[0].quantize(a.reshape(m.inputs[0].shape)) for a in x])
        assert np.array_equal(m.run_qemu(q, batch=True), m.interpret(q, batch=True))
        results[key] = (m.report["memory"]["flash_bytes"], np.mean(m.last_qemu.instructions))
    for key in ("int4", "k4", "sparse"):
        assert results[key][0] < results["int8"][0] - 600, results
    assert results["sparse"][0] < results["sparse_dense"][0] - 600, results


@pytest.mark.parametrize("name, kw, fmt", [
    ("cnn", {"weights": "int4"}, "s4"),            # conv, depthwise, fc
    ("resnet", {"cluster": 8}, "cb"),
    ("mlp", {"prune": 0.9, "storage": "sparse"}, "sparse"),
    ("mlp", {"prune": 0.5, "storage": "small"}, "mask"),
])
def test_test_models_exact_in_c(test_models, name, kw, fmt):
    import tinyc
    t = test_models[name]
    m = tinyc.compile(t.path, calib=t.calib, progress=None, **kw)
    assert fmt in _formats(m)
    with np.load(t.test) as z:
        assert host_matches_interpret(m, z["input"][:6])


@pytest.mark.parametrize("acts", ["int16", {"/9/Conv_output_0": "int16"}], ids=["all", "pw"])
def test_int16_layers_stay_dense(repo_root, tmp_path, acts):
    """A layer with int16 activations runs the dense 16x8 kernel: choose_formats leaves it
    dense even where its (int4) values would fit s4, and the report counts its dense bytes."""
    m = compile_digits(repo_root, activations=acts, weights="int4")
    wide = set(m.report["activations"])
    assert all(np.abs(w).max() <= 7 for w in _weights(m))
    rows = m.report["weight_formats"]
    for row, node in zip(rows, [n for n in m.graph.nodes if n.op in LAYERS]):
        assert (row["layer"] in wide) == ("int16 activations" in row["why"]), row
        if row["layer"] in wide:
            assert row["format"] == "dense" and "weight_format" not in node.attrs, row
            assert row["weights_bytes"] == row["dense_bytes"], row
        else:
            assert row["format"] == "s4", row
    assert "/9/Conv_output_0" in wide and any(r["format"] == "dense" for r in rows)
    int8_weights = compile_digits(repo_root, activations=acts)
    assert int8_weights.report["activations"] == m.report["activations"]
    saved = sum(r["dense_bytes"] - r["weights_bytes"] for r in rows)
    assert m.report["weights_bytes"] == int8_weights.report["weights_bytes"] - saved
    m.write(tmp_path)
    text = (tmp_path / "model_data.c").read_text()
    assert text.count("stored s4") == sum(r["format"] == "s4" for r in rows)
    assert host_matches_interpret(m, digits_data(str(repo_root))[0][:30])
