"""Per-layer flags take the names a user knows (issue 18): the IR tensor name, the ONNX node
name, the ONNX output tensor name, and the exporter's module path — TorchScript node names
("/features/features.0/Conv") and the dynamo exporter's metadata ("pkg.torch.onnx.name_scopes",
"namespace"). examples/digits is re-labelled the way each exporter names things; whichever name
is given, the compiled model is the one the IR name gives (same C, same outputs)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

import tinyc
from tinyc.errors import TinycError

REPO = Path(__file__).resolve().parents[1]
EX = REPO / "examples" / "digits"
CONV3 = "/3/Conv_output_0"          # the IR name of the second conv (its ONNX output)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """digits.onnx as the TorchScript exporter names a Sequential called 'features' (node
    /features/features.N/Op), and as the dynamo exporter does (fx node names, outputs named
    like conv2d_1, module paths in metadata)."""
    d = tmp_path_factory.mktemp("names")
    ts = onnx.load(EX / "digits.onnx")
    for n in ts.graph.node:
        idx, op = n.name.strip("/").split("/")
        n.name = f"/features/features.{idx}/{op}"
    onnx.save(ts, d / "ts.onnx")

    dy = onnx.load(EX / "digits.onnx")
    rename = {}
    for i, n in enumerate(dy.graph.node):
        idx, op = n.name.strip("/").split("/")
        fx = f"{op.lower()}_{i}"
        n.name = f"node_{fx}"
        if n.output[0] != "logits":
            rename[n.output[0]] = fx
        n.metadata_props.add(key="pkg.torch.onnx.name_scopes",
                             value=repr(["", "net", f"net.{idx}", fx]))
        n.metadata_props.add(key="namespace",
                             value=f"net: Net/net.{idx}: torch.nn.modules.{op}/{fx}: aten.x")
    for n in dy.graph.node:
        n.input[:] = [rename.get(x, x) for x in n.input]
        n.output[:] = [rename.get(x, x) for x in n.output]
    onnx.checker.check_model(dy)
    onnx.save(dy, d / "dy.onnx")
    return {"ts": d / "ts.onnx", "dy": d / "dy.onnx", "dy_conv3": rename[CONV3]}


def _compile(path, **kw):
    return tinyc.compile(path, calib=EX / "calib.npz", progress=None, **kw)


@pytest.fixture(scope="module")
def reference():
    m = _compile(EX / "digits.onnx", activations={CONV3: "int16"}, cluster={"logits": 8})
    x = np.load(EX / "test.npz")["input"][:8]
    return m, x, m.interpret(x, batch=True)


@pytest.mark.parametrize("conv3,logits", [
    ("/features/features.3/Conv", "/features/features.14/Gemm"),    # ONNX node names
    ("features.3", "features.14"),                                    # module paths
    ("/3/Conv_output_0", "logits"),                                  # output tensor names
])
def test_torchscript_names(exported, reference, conv3, logits):
    ref, x, out = reference
    m = _compile(exported["ts"], activations={conv3: "int16"}, cluster={logits: 8})
    assert m.report["activations"] == ref.report["activations"]
    assert [f["format"] for f in m.report["weight_formats"]] == \
        [f["format"] for f in ref.report["weight_formats"]]
    np.testing.assert_array_equal(m.interpret(x, batch=True), out)


def test_dynamo_names(exported, reference):
    ref, x, out = reference
    for conv3 in ("net.3", "node_conv_3", exported["dy_conv3"]):
        m = _compile(exported["dy"], activations={conv3: "int16"}, cluster={"net.14": 8})
        assert exported["dy_conv3"] in str(m.report["activations"])
        assert len(m.report["activations"]) == len(ref.report["activations"])
        np.testing.assert_array_equal(m.interpret(x, batch=True), out)


def test_ambiguous_and_unknown_names(exported):
    with pytest.raises(TinycError, match=r"--activations features=\.\.\.: names 6 layers"):
        _compile(exported["ts"], activations={"features": "int16"})
    with pytest.raises(TinycError, match="did you mean features.3"):
        _compile(exported["ts"], activations={"features.3x": "int16"})
    with pytest.raises(TinycError, match="did you mean net.14"):
        _compile(exported["dy"], cluster={"net.41": 8})


def test_cli_module_path(exported, tmp_path):
    r = subprocess.run([sys.executable, "-m", "tinyc.cli", "build", exported["ts"], "--calib",
                        EX / "calib.npz", "-o", tmp_path / "o", "--no-measure",
                        "--activations", "features.3=int16"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "tinyc.cli", "build", exported["ts"], "--calib",
                        EX / "calib.npz", "-o", tmp_path / "p", "--no-measure",
                        "--cluster", "feature.14=8"], capture_output=True, text=True)
    assert r.returncode == 2 and "did you mean features.14" in r.stderr
