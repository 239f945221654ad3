"""ONNX Resize in every mode (issue 15): the general separable IR op resize (ir/ops/resize.py)
and the nearest modes that stay gather tables (resize_nearest).

References: onnx.reference (ONNX's own formula, float64) and onnxruntime for the float import
(within 1e-4); the int8 op against the float op of its own dequantized int8 input (the stated
bound: within 1 output step); a calibrated model against onnxruntime within the quantization
error; host C == interpret() bit for bit; QEMU == host C on a model with three resizes.
"""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper as h
from onnx.reference import ReferenceEvaluator

import tinyc
from tinyc.frontend import load_onnx
from tinyc.ir import OPS, interpret, verify

from .. import models
from .util import assert_close, make_model, random_feeds, session

X_SHAPE = (1, 3, 5, 6)

# (name, Resize attributes, scales or None, sizes or None, roi or None, axes or None,
#  onnxruntime agrees with onnx.reference)
CASES = [
    ("linear_frac", dict(mode="linear"), [1, 1, 0.6, 1.7], None, None, None, True),
    ("linear_sym", dict(mode="linear", coordinate_transformation_mode="half_pixel_symmetric"),
     [1, 1, 0.7, 1.3], None, None, None, True),
    ("linear_pytorch", dict(mode="linear", coordinate_transformation_mode="pytorch_half_pixel"),
     None, [1, 3, 1, 4], None, None, True),
    ("linear_aa", dict(mode="linear", antialias=1), [1, 1, 0.5, 0.4], None, None, None, True),
    ("cubic", dict(mode="cubic"), [1, 1, 1.6, 0.7], None, None, None, True),
    ("cubic_excl", dict(mode="cubic", cubic_coeff_a=-0.5, exclude_outside=1), None, [1, 3, 9, 4],
     None, None, True),
    ("cubic_asym", dict(mode="cubic", coordinate_transformation_mode="asymmetric"),
     [1, 1, 2, 2], None, None, None, True),
    ("cubic_aa", dict(mode="cubic", antialias=1), None, [1, 3, 3, 4], None, None, True),
    # ONNX's reference divides by the fractional output length (scale * in), onnxruntime by
    # the whole one: they differ here, ONNX's test data follows the reference
    ("cubic_align_frac", dict(mode="cubic", coordinate_transformation_mode="align_corners"),
     [1, 1, 0.7, 1.5], None, None, None, False),
    ("crop_linear", dict(mode="linear", coordinate_transformation_mode="tf_crop_and_resize",
                         extrapolation_value=2.5), None, [4, 5], [0.2, -0.1, 1.1, 0.8], [2, 3],
     True),
    # onnxruntime's nearest tf_crop_and_resize reads input column 0 where the source
    # coordinate is -1 (ONNX's reference and test data: the extrapolation value)
    ("crop_nearest", dict(mode="nearest", coordinate_transformation_mode="tf_crop_and_resize",
                          nearest_mode="round_prefer_ceil"), None, [6, 3],
     [-0.2, 0.1, 0.9, 1.3], [3, 2], False),
    ("nearest_sym", dict(mode="nearest", coordinate_transformation_mode="half_pixel_symmetric",
                         nearest_mode="floor"), [1, 1, 1.5, 0.7], None, None, None, True),
    ("nearest_not_larger", dict(mode="nearest", keep_aspect_ratio_policy="not_larger"), None,
     [7, 8], None, [2, 3], True),
]
IDS = [c[0] for c in CASES]


def resize_model(attrs, scales, sizes, roi, axes, opset=19):
    """x -> Conv 1x1 (NHWC in the IR) -> Resize -> y."""
    w = (np.random.default_rng(1).standard_normal((3, 3, 1, 1)) * 0.5).astype(np.float32)
    inits = {"W": w, "roi": np.asarray(roi if roi is not None else [], np.float32),
             "scales": np.asarray(scales if scales is not None else [], np.float32)}
    ins = ["c", "roi", "scales"]
    if sizes is not None:
        inits["sizes"] = np.asarray(sizes, np.int64)
        ins.append("sizes")
    kw = dict(attrs)
    if axes is not None:
        kw["axes"] = axes
    nodes = [h.make_node("Conv", ["x", "W"], ["c"]), h.make_node("Resize", ins, ["y"], **kw)]
    return make_model(nodes, {"x": list(X_SHAPE)}, ["y"], inits, opset)


def _model(name):
    c = CASES[IDS.index(name)]
    return resize_model(*c[1:6]), c[6]


@pytest.mark.parametrize("name", IDS)
def test_float_matches_onnx_reference_and_onnxruntime(name):
    model, ort_agrees = _model(name)
    g = load_onnx(model)
    verify(g)
    assert {"resize", "resize_nearest"} & {n.op for n in g.nodes}
    ref = ReferenceEvaluator(model)
    sess = session(model) if ort_agrees else None
    for seed in (0, 1):
        feeds = random_feeds(g, seed)
        got = interpret(g, feeds)[0]
        assert_close(got, ref.run(None, feeds)[0])
        if sess is not None:
            assert_close(got, sess.run(None, feeds)[0])


@pytest.mark.parametrize("name", [n for n in IDS if not n.startswith("nearest")])
def test_int8_within_one_step_of_float_op_on_its_input(name, tmp_path):
    """The stated bound (ir/ops/resize.py): the integer op is within 1 output step of the
    float op run on its own dequantized int8 input, rounded to the output grid; nearest with
    the input's quantization is exact."""
    model, _ = _model(name)
    path = models.save(model, tmp_path / f"{name}.onnx")
    m = tinyc.compile(path, calib=models.calib_data(model, 32), progress=None)
    node = next(n for n in m.graph.nodes if n.op in ("resize", "resize_nearest"))
    qi, qo = node.inputs[0].q, node.outputs[0].q
    rng = np.random.default_rng(7)
    xq = rng.integers(-128, 128, (4,) + tuple(node.inputs[0].shape[1:])).astype(np.int8)
    got = OPS[node.op].run_int(node, xq).astype(np.int64)
    real = ((xq.astype(np.float64) - qi.zp) * qi.s).astype(np.float32)
    ref = OPS[node.op].run_float(node, real).astype(np.float64)
    want = np.clip(np.round(ref / qo.s) + qo.zp, -128, 127)
    assert np.abs(got - want).max() <= 1, (name, np.abs(got - want).max())
    if node.op == "resize" and qi == qo and node.attrs["kh"] == node.attrs["kw"] == 1:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", IDS)
def test_int8_close_to_onnxruntime_and_host_c_exact(name, tmp_path):
    model, ort_agrees = _model(name)
    path = models.save(model, tmp_path / f"{name}.onnx")
    m = tinyc.compile(path, calib=models.calib_data(model, 64), progress=None)
    x = next(iter(models.test_data(model, 6, seed=3).values()))
    xq = np.stack([m.inputs[0].quantize(s.reshape(m.inputs[0].shape)) for s in x])
    got = m.interpret(xq, batch=True)
    np.testing.assert_array_equal(m.run_host(xq, batch=True), got)
    ref = session(model) if ort_agrees else ReferenceEvaluator(model)
    spec = m.outputs[0]
    for k, s in enumerate(x):
        want = ref.run(None, {"x": s.reshape(m.inputs[0].shape)})[0]
        err = np.abs(spec.dequantize(np.asarray(got)[k]).reshape(want.shape) - want).max()
        assert err <= 3 * spec.scale + 0.05 * np.abs(want).max(), (name, err, spec.scale)


def test_qemu_equals_host_c(tmp_path):
    """Linear (fractional scales), cubic with antialias and tf_crop_and_resize with its
    extrapolation value in one model, run in QEMU: == host C == interpret()."""
    w = (np.random.default_rng(1).standard_normal((3, 3, 1, 1)) * 0.5).astype(np.float32)
    inits = {"W": w, "e": np.zeros(0, np.float32),
             "s1": np.asarray([1, 1, 1.7, 0.6], np.float32),
             "s2": np.asarray([1, 1, 0.5, 1.5], np.float32),
             "roi": np.asarray([0.1, -0.2, 0.9, 1.2], np.float32),
             "sz": np.asarray([4, 7], np.int64)}
    nodes = [h.make_node("Conv", ["x", "W"], ["c"]),
             h.make_node("Resize", ["c", "e", "s1"], ["r1"], mode="linear"),
             h.make_node("Resize", ["r1", "e", "s2"], ["r2"], mode="cubic", antialias=1),
             h.make_node("Resize", ["r2", "roi", "e", "sz"], ["y"], mode="linear", axes=[2, 3],
                         coordinate_transformation_mode="tf_crop_and_resize",
                         extrapolation_value=-1.0)]
    model = make_model(nodes, {"x": list(X_SHAPE)}, ["y"], inits, 19)
    path = models.save(model, tmp_path / "three.onnx")
    m = tinyc.compile(path, calib=models.calib_data(model, 32), progress=None)
    assert [n.op for n in m.graph.nodes].count("resize") == 3
    x = next(iter(models.test_data(model, 3, seed=5).values()))
    xq = np.stack([m.inputs[0].quantize(s.reshape(m.inputs[0].shape)) for s in x])
    host = m.run_host(xq, batch=True)
    np.testing.assert_array_equal(host, m.interpret(xq, batch=True))
    np.testing.assert_array_equal(m.run_qemu(xq, batch=True), host)


def assert_strict_clean(d, tmp_path) -> None:
    """Every .c of the written model folder d compiles without a message under -std=c99 -Wall
    -Wextra -Wpedantic -Wconversion -Wsign-conversion -Werror (gcc, clang,
    arm-none-eabi-gcc)."""
    import subprocess

    from needs import need_tools
    warn = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion",
            "-Wsign-conversion", "-Werror"]
    compilers = [["gcc", *warn], ["clang", *warn],
                 ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft", *warn]]
    for cc in compilers:
        need_tools(cc[0])
        for i, src in enumerate(sorted(d.rglob("*.c"))):
            r = subprocess.run([*cc, "-I", str(d), "-I", str(d / "kernels"), "-c", str(src),
                                "-o", str(tmp_path / f"{i}.o")], capture_output=True, text=True,
                               check=False)
            assert r.returncode == 0 and not r.stderr.strip(), f"{cc[0]} {src}:\n{r.stderr}"


def test_c_is_strict_clean(tmp_path):
    """runtime/tinyc_resize_s8.c and its call: strict C99 with gcc, clang, arm-none-eabi-gcc."""
    model, _ = _model("crop_linear")
    path = models.save(model, tmp_path / "crop.onnx")
    d = tinyc.compile(path, calib=models.calib_data(model, 16), progress=None).write(
        tmp_path / "c")
    assert (d / "kernels" / "tinyc_resize_s8.c").exists()
    assert_strict_clean(d, tmp_path)


@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_qdq_int8_within_one_step_of_onnxruntime(mode, tmp_path):
    """int8 x -> DQ -> Resize (fractional scales, antialias) -> Q (another scale): no
    calibration; onnxruntime's run of the QDQ model within 1 step, host C == interpret()."""
    from onnx import TensorProto
    nodes = [h.make_node("DequantizeLinear", ["x", "xs", "xz"], ["x_dq"]),
             h.make_node("Resize", ["x_dq", "", "sc"], ["r"], mode=mode, antialias=1),
             h.make_node("QuantizeLinear", ["r", "ys", "yz"], ["y"])]
    inits = {"xs": np.float32(0.03), "xz": np.int8(3), "ys": np.float32(0.025),
             "yz": np.int8(-7), "sc": np.asarray([1, 1, 0.6, 1.7], np.float32)}
    model = make_model(nodes, {"x": [1, 2, 6, 5]}, {"y": None}, inits, opset=19,
                       itype=TensorProto.INT8)
    m = tinyc.compile(models.save(model, tmp_path / f"{mode}.onnx"), progress=None)
    assert [n.op for n in m.graph.nodes if n.op.startswith("resize")] == ["resize"]
    x = np.random.default_rng(5).integers(-128, 128, (6, 1, 2, 6, 5)).astype(np.int8)
    got = np.asarray(m.interpret(x, batch=True))
    np.testing.assert_array_equal(np.asarray(m.run_host(x, batch=True)), got)
    sess = session(model)
    want = np.stack([sess.run(None, {"x": s})[0] for s in x])
    diff = np.abs(got.reshape(want.shape).astype(int) - want.astype(int))
    assert diff.max() <= 1, (mode, int(diff.max()))


@pytest.mark.parametrize("mode,scale", [("nearest", 2.0), ("linear", 1.5), ("cubic", 0.7)])
def test_resize_1d(mode, scale, tmp_path):
    """[N, C, L] (torch's Upsample on 1-D signals): lifted to [N, C, 1, L] as Conv1d is;
    float == onnxruntime (which has no cubic of rank 3: onnx.reference there) and
    onnx.reference, int8 close to it, host C == interpret."""
    w = (np.random.default_rng(1).standard_normal((3, 3, 1)) * 0.5).astype(np.float32)
    nodes = [h.make_node("Conv", ["x", "W"], ["c"]),
             h.make_node("Resize", ["c", "", "sc"], ["y"], mode=mode)]
    model = make_model(nodes, {"x": [1, 3, 9]}, ["y"],
                       {"W": w, "sc": np.asarray([1, 1, scale], np.float32)}, 19)
    g = load_onnx(model)
    verify(g)
    ref = ReferenceEvaluator(model)
    sess = ref if mode == "cubic" else session(model)
    feeds = random_feeds(g, 0)
    got = interpret(g, feeds)[0]
    assert_close(got, ref.run(None, feeds)[0])
    assert_close(got, sess.run(None, feeds)[0])
    m = tinyc.compile(models.save(model, tmp_path / "r1d.onnx"),
                      calib=models.calib_data(model, 32), progress=None)
    x = next(iter(models.test_data(model, 4, seed=3).values()))
    xq = np.stack([m.inputs[0].quantize(s.reshape(m.inputs[0].shape)) for s in x])
    out = m.interpret(xq, batch=True)
    np.testing.assert_array_equal(m.run_host(xq, batch=True), out)
    spec = m.outputs[0]
    for k, s in enumerate(x):
        want = sess.run(None, {"x": s.reshape(m.inputs[0].shape)})[0]
        err = np.abs(spec.dequantize(np.asarray(out)[k]).reshape(want.shape) - want).max()
        assert err <= 3 * spec.scale + 0.05 * np.abs(want).max(), (mode, err, spec.scale)
