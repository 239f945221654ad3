"""The generated C of every host-tested model runs once under -fsanitize=address,undefined
(-fno-sanitize-recover=all: any report fails) on the host, and gives the same bits as
interpret(): tests/models.py, the digits example and its int4 / clustered / sparse builds, the
MLPerf Tiny models (QDQ ONNX and .tflite, on their reference inputs: also == TFLite Micro), the
QDQ models of tests/test_qdq_tools.py, models with several inputs and outputs, and a few random
graphs. One or two samples per model: the sanitized build is the cost. First: the harness
itself catches an out-of-bounds write and a signed overflow (a sanitizer run that cannot fail
proves nothing).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

import models
import tinyc
from ci import ci_subset

from .graphs import graphs
from .sanitize import SanitizerReport, run_sanitized

BAD_C = {   # deliberately broken C: the harness must catch both
    "oob": "for (int i = 0; i <= 4; ++i) { tmp[i] = in0[i % 4]; } out0[0] = tmp[4];",
    "overflow": "int v = 2147483600 + (int)in0[0]; v += 1000; out0[0] = (int8_t)(v & 0x7f);",
}


def _fake_model(path, body: str):
    path.mkdir(parents=True)
    (path / "model.h").write_text(
        "#include <stdint.h>\n"
        "#define BAD_NUM_INPUTS 1\n#define BAD_NUM_OUTPUTS 1\n"
        '#define BAD_IN0_NAME "x"\n#define BAD_IN0_SIZE 4\n#define BAD_IN0_SHAPE {1, 4}\n'
        "#define BAD_IN0_SCALE 1.0f\n#define BAD_IN0_ZERO_POINT 0\n"
        '#define BAD_OUT0_NAME "y"\n#define BAD_OUT0_SIZE 4\n#define BAD_OUT0_SHAPE {1, 4}\n'
        "#define BAD_OUT0_SCALE 1.0f\n#define BAD_OUT0_ZERO_POINT 0\n"
        "void bad_invoke(const int8_t *in0, int8_t *out0);\n")
    (path / "model.c").write_text(
        '#include <stdlib.h>\n#include "model.h"\n'
        "void bad_invoke(const int8_t *in0, int8_t *out0)\n{\n"
        "    int8_t *tmp = malloc(4);\n"
        f"    {body}\n"
        "    free(tmp);\n}\n")
    return path


@pytest.mark.parametrize("kind", sorted(BAD_C))
def test_the_harness_reports_undefined_behaviour(kind, tmp_path):
    c_dir = _fake_model(tmp_path / "c", BAD_C[kind])
    with pytest.raises(SanitizerReport, match="AddressSanitizer|runtime error"):
        run_sanitized(c_dir, [[np.full(4, 100, np.int8)]], tmp_path / "run")


def _check(m, x, work):
    samples, _ = m._samples(x, True)
    got = run_sanitized(m.c_dir(), samples, work)
    want = [[np.asarray(a) for a in (lambda r: r if isinstance(r, list) else [r])(
        m.interpret(s if len(s) > 1 else s[0]))] for s in samples]
    for g, w in zip(got, want):
        assert len(g) == len(w)
        for a, b in zip(g, w):
            assert np.array_equal(a.reshape(-1), np.asarray(b).reshape(-1).astype(np.int8))
    return got


# CI: a subset of each parametrization (kernels each covers: below); all by hand with -m slow
@pytest.mark.parametrize("name", ci_subset(sorted(models.BUILDERS), ("resnet",)))
def test_test_models_under_sanitizers(name, test_models, tmp_path):
    t = test_models[name]
    m = tinyc.compile(t.path, calib=t.calib, progress=None)
    x = np.random.default_rng(0).integers(-128, 128, (2, *m.inputs[0].shape)).astype(np.int8)
    _check(m, x, tmp_path)


def test_digits_example_under_sanitizers(example_dir, tmp_path):
    m = tinyc.compile(example_dir / "digits.onnx", calib=example_dir / "calib.npz",
                      progress=None)
    x = np.random.default_rng(1).integers(-128, 128, (2, *m.inputs[0].shape)).astype(np.int8)
    _check(m, x, tmp_path)


COMPRESSED = {   # name: (tinyc.compile options, a kernel file the build must use)
    "s4": ({"weights": "int4"}, "*_s4.c"),
    "cb": ({"cluster": 16}, "*_cb.c"),
    "sparse": ({"prune": 0.9, "storage": "sparse"}, "*_sparse.c"),
    "mask": ({"prune": 0.5, "prune_scope": "global", "storage": "mask"}, "*_sparse.c"),
    "wide": ({"storage": "wide"}, "*_wide.c"),
    "int16": ({"activations": "int16"}, "*_s16.c"),
    "wino": ({"storage": "wino"}, "*_wino_s8.c"),
    "pw": ({"storage": "pw"}, "*_pw_s8.c"),
}


@pytest.mark.parametrize("fmt", ci_subset(sorted(COMPRESSED), ("s4", "wino")))
def test_compressed_formats_under_sanitizers(fmt, example_dir, tmp_path):
    options, kernel_glob = COMPRESSED[fmt]
    m = tinyc.compile(example_dir / "digits.onnx", calib=example_dir / "calib.npz",
                      progress=None, **options)
    kernels = sorted(p.name for p in (m.c_dir() / "kernels").glob(kernel_glob))
    assert kernels, f"{fmt}: the build uses no {kernel_glob} kernel — the test would prove nothing"
    if fmt == "int16":
        assert m.report["activations"], "no layer got int16 activations"
    else:
        assert fmt in {row["format"] for row in m.report["weight_formats"]}, m.report["weight_formats"]
    x = np.random.default_rng(2).integers(-128, 128, (2, *m.inputs[0].shape)).astype(np.int8)
    _check(m, x, tmp_path)


MLPERF = [f"{m}_{kind}" for m in ("kws", "vww", "ic", "ad") for kind in ("qdq", "tflite")]


@pytest.mark.parametrize("model", ci_subset(MLPERF, ("ad_tflite",)))
def test_mlperf_models_under_sanitizers(model, models_dir, tmp_path):
    name, kind = model.split("_")
    folder = models_dir / "mlperf-tiny"
    m = tinyc.compile(folder / (f"{name}_int8_qdq.onnx" if kind == "qdq" else
                                f"{name}_int8.tflite"), progress=None)
    ref = np.load(folder / f"{name}_ref.npz")
    got = _check(m, ref["inputs"][:2], tmp_path)
    want = ref["outputs_tflm"][:2]
    assert np.array_equal(np.stack([g[0] for g in got]).reshape(want.shape), want)


QDQ_TOOL_MODELS = Path(__file__).resolve().parents[1] / "frontend" / "models"   # as in
ORT_QDQ = sorted(p.name for p in QDQ_TOOL_MODELS.glob("*_ort_qdq_*.onnx"))    # test_qdq_tools


@pytest.mark.parametrize("name", ci_subset(ORT_QDQ + ["pt2e"], ("pt2e",)))
def test_qdq_tool_models_under_sanitizers(name, tmp_path):
    """The QDQ models of tests/test_qdq_tools.py (ONNX Runtime quantize_static, pt2e-style)."""
    path = QDQ_TOOL_MODELS / name
    if name == "pt2e":
        try:
            from ..test_qdq_tools import _pt2e_model
        except ImportError as e:            # it imports onnxruntime (a test dependency)
            from needs import missing
            missing(f"tests/test_qdq_tools.py does not import: {e}")
        path = tmp_path / "pt2e.onnx"
        onnx.save(_pt2e_model(), path)
    m = tinyc.compile(path, progress=None)
    x = np.random.default_rng(3).integers(-128, 128, (2, *m.inputs[0].shape)).astype(np.int8)
    _check(m, x, tmp_path / "run")


def _two_in_two_out() -> onnx.ModelProto:
    """x1 -> Conv -> Relu -> r; r + x2 -> a (output); MaxPool(r) -> p (output)."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(7)
    nodes = [helper.make_node("Conv", ["x1", "W", "B"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Add", ["r", "x2"], ["a"]),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2])]
    inits = {"W": rng.standard_normal((4, 3, 3, 3)) * 0.3, "B": rng.standard_normal(4) * 0.1}
    g = helper.make_graph(
        nodes, "two", [helper.make_tensor_value_info("x1", TensorProto.FLOAT, [1, 3, 6, 6]),
                       helper.make_tensor_value_info("x2", TensorProto.FLOAT, [1, 4, 6, 6])],
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 4, 6, 6]),
         helper.make_tensor_value_info("p", TensorProto.FLOAT, [1, 4, 3, 3])],
        [numpy_helper.from_array(a.astype(np.float32), n) for n, a in inits.items()])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    return model


def test_multi_input_multi_output_model_under_sanitizers(tmp_path):
    path = tmp_path / "two.onnx"
    onnx.save(_two_in_two_out(), path)
    rng = np.random.default_rng(4)
    calib = {"x1": rng.uniform(-1, 1, (16, 3, 6, 6)).astype(np.float32),
             "x2": rng.uniform(-1, 1, (16, 4, 6, 6)).astype(np.float32)}
    m = tinyc.compile(path, calib=calib, progress=None)
    assert (len(m.inputs), len(m.outputs)) == (2, 2)
    x = [rng.integers(-128, 128, (2, *spec.shape)).astype(np.int8) for spec in m.inputs]
    got = _check(m, x, tmp_path / "run")
    assert len(got[0]) == 2


def test_backend_mini_net_under_sanitizers(tmp_path):
    """The backend's graph of every kernel (two inputs, two outputs), emitted from the IR."""
    from tinyc.backend_c import emit_c
    from tinyc.ir import interpret
    from ..backend.graphs import mini_net
    from ..backend.harness import reuse_plan
    g = mini_net(np.random.default_rng(5))
    emit_c(g, reuse_plan(g), tmp_path / "c")
    rng = np.random.default_rng(6)
    samples = [[rng.integers(-128, 128, v.shape).astype(np.int8) for v in g.inputs]
               for _ in range(2)]
    samples.append([np.full(v.shape, -128, np.int8) for v in g.inputs])
    got = run_sanitized(tmp_path / "c", samples, tmp_path / "run")
    for sample, outs in zip(samples, got):
        for y, w in zip(outs, interpret(g, sample)):
            assert np.array_equal(y.reshape(-1), np.asarray(w).reshape(-1))


@pytest.mark.parametrize("index", ci_subset(range(3), ("0",)))
def test_random_graphs_under_sanitizers(index, tmp_path):
    data = _examples(graphs(), 6)[2 * index + 1]
    path = tmp_path / "g.onnx"
    onnx.save(data.model, path)
    m = tinyc.compile(path, board="mps2-an386", calib={"x": data.calib}, progress=None)
    _check(m, data.x[:2], tmp_path / "run")


_CACHE: dict = {}


def _examples(strategy, n: int) -> list:
    """The first n examples of a strategy, deterministic (derandomized), drawn once."""
    from hypothesis import HealthCheck, given, settings
    if n not in _CACHE:
        found = []

        @settings(max_examples=n, database=None, derandomize=True, deadline=None,
                  suppress_health_check=list(HealthCheck), phases=["generate"])
        @given(strategy)
        def pick(value):
            found.append(value)
        pick()
        _CACHE[n] = found
    return _CACHE[n]
