"""Patched stages of ONNX models (issue 20): an NCHW input's leading transpose runs as the
stage's first step (each band's input rows are transposed into the band buffer), so ONNX models
are patched by ram_limit alone. Checked: patched golden == unpatched golden bit for bit, host C
== golden, the chosen stage starts at the transpose, RAM within the limit."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import tinyc


def mobilenet_onnx(hw: int = 96, seed: int = 0, expand: int = 0) -> onnx.ModelProto:
    """A float MobileNet-style net on 1x3xhwxhw: conv 3x3/2, then depthwise-separable blocks
    (expand > 0: MobileNetV2-style, a 1x1 conv to `expand` times the channels before each
    depthwise), a global average pool and a Gemm classifier."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []

    def conv(x, name, cin, cout, k, s, group=1):
        w = rng.normal(0, 1.0 / np.sqrt(k * k * cin // group),
                       (cout, cin // group, k, k)).astype(np.float32)
        b = rng.normal(0, 0.1, cout).astype(np.float32)
        inits.extend([numpy_helper.from_array(w, name + "_w"),
                      numpy_helper.from_array(b, name + "_b")])
        p = k // 2
        nodes.append(helper.make_node("Conv", [x, name + "_w", name + "_b"], [name + "_c"],
                                      kernel_shape=[k, k], strides=[s, s], pads=[p] * 4,
                                      group=group))
        nodes.append(helper.make_node("Relu", [name + "_c"], [name]))
        return name

    x = conv("x", "conv0", 3, 16, 3, 2)
    c = 16
    for i, (cout, s) in enumerate([(24, 1), (32, 2), (48, 2)]):
        if expand:
            x = conv(x, f"ex{i}", c, c * expand, 1, 1)
            c *= expand
        x = conv(x, f"dw{i}", c, c, 3, s, group=c)
        x = conv(x, f"pw{i}", c, cout, 1, 1)
        c = cout
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"]))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"]))
    w = rng.normal(0, 0.3, (c, 5)).astype(np.float32)
    inits.append(numpy_helper.from_array(w, "fc_w"))
    nodes.append(helper.make_node("Gemm", ["flat", "fc_w"], ["y"]))
    g = helper.make_graph(nodes, "mbnet",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                         [1, 3, hw, hw])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
                          inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def test_onnx_mobilenet_patched_through_the_input_transpose(tmp_path):
    p = tmp_path / "mb.onnx"
    onnx.save(mobilenet_onnx(), p)
    calib = {"x": np.random.default_rng(1).uniform(-1, 1, (8, 3, 96, 96)).astype(np.float32)}
    plain = tinyc.compile(p, board="mps2-an386", calib=calib, name="plain", progress=None)
    first = plain.graph.nodes[0]
    assert first.op == "transpose" and first.inputs[0] is plain.graph.inputs[0]
    need = plain.report["ram"]["ram_bytes"]
    limit = need * 6 // 10
    m = tinyc.compile(p, board="mps2-an386", calib=calib, name="mb", progress=None,
                      ram_limit=limit)
    r = m.report["ram"]
    assert r["met"] and r["ram_bytes"] <= limit < need, r
    stages = m.graph.patch_stages
    assert stages and stages[0].nodes[0] == m.graph.nodes[0].name, stages
    assert m.graph.nodes[0].op == "transpose"
    xs = np.random.default_rng(2).integers(-128, 128, (3, 1, 3, 96, 96)).astype(np.int8)
    m.graph.patch_stages = []
    want = m.interpret(xs, batch=True)
    m.graph.patch_stages = stages
    got = m.interpret(xs, batch=True)
    assert np.array_equal(got, want)
    assert np.array_equal(m.run_host(xs, batch=True), want)
    assert np.array_equal(plain.interpret(xs, batch=True), want)


def test_leading_transpose_with_strips_and_input_in_arena(tmp_path):
    """Stages led by the input transpose, any prefix length, band height and column strips:
    patched golden == unpatched; host C == golden with strips, the input read in place or
    counted in the arena."""
    from tinyc.backend_c.select import scratch_sizes
    from tinyc.ir.patch import Stage
    from tinyc.passes.plan_memory import plan_memory
    p = tmp_path / "mb.onnx"
    onnx.save(mobilenet_onnx(hw=40, seed=3), p)
    calib = {"x": np.random.default_rng(4).uniform(-1, 1, (8, 3, 40, 40)).astype(np.float32)}
    m = tinyc.compile(p, board="mps2-an386", calib=calib, name="mb40", progress=None)
    g = m.graph
    lead = g.nodes[0].name
    windows = [n.name for n in g.nodes if n.op in ("conv2d", "depthwise_conv2d")][:5]
    xs = np.random.default_rng(5).integers(-128, 128, (2, 1, 3, 40, 40)).astype(np.int8)
    want = m.interpret(xs, batch=True)
    for k in range(1, len(windows) + 1):
        for rows, cols in ((1, 1), (2, 2), (4, 3)):
            g.patch_stages = [Stage((lead,) + tuple(windows[:k]), rows, cols)]
            assert np.array_equal(m.interpret(xs, batch=True), want), g.patch_stages
    for st, direct in ((Stage((lead,) + tuple(windows[:3]), 2, 2), True),
                       (Stage((lead,) + tuple(windows[:4]), 1, 1), False)):
        g.patch_stages = [st]
        m.plan = plan_memory(g, scratch=scratch_sizes(m.kernels), direct_inputs=direct)
        m.plan.input_in_arena = not direct
        m._c_dir, m._host = None, None
        assert np.array_equal(m.interpret(xs, batch=True), want), st
        assert np.array_equal(m.run_host(xs, batch=True), want), (st, direct)


def test_in_place_depthwise_under_a_ram_limit(tmp_path):
    """Under a RAM limit that layer-by-layer plans miss (also with the input read in place or
    counted in the arena) but in-place depthwise meets, the depthwise layers whose input dies
    there write over it channel by channel: host C == golden == the unlimited build's golden,
    bit for bit; an unlimited build uses no in-place kernel."""
    from tinyc.backend_c.select import in_place_kernels, scratch_sizes
    from tinyc.passes.patch import fit_ram
    p = tmp_path / "mb.onnx"
    onnx.save(mobilenet_onnx(hw=64, seed=7, expand=4), p)
    calib = {"x": np.random.default_rng(8).uniform(-1, 1, (8, 3, 64, 64)).astype(np.float32)}
    plain = tinyc.compile(p, board="mps2-an386", calib=calib, name="plain", progress=None)
    assert "in_place" not in plain.report["ram"]
    assert not any(c.kernel.endswith(".inplace") for c in plain.kernels.values())
    g = plain.graph
    cand = in_place_kernels(g, plain.kernels)
    assert len(cand) == 3, cand            # dw0 (stride 1), dw1 and dw2 (stride 2)
    least = fit_ram(g, scratch_sizes(plain.kernels), 0, set(), in_place=cand)
    assert least.how.startswith("in-place") and least.in_place, (least.how, least.ram)
    g.patch_stages = []
    m = tinyc.compile(p, board="mps2-an386", calib=calib, name="ip", progress=None,
                      ram_limit=least.ram)
    r = m.report["ram"]
    assert r["met"] and r["how"].startswith("in-place") and r["in_place"], r
    assert r["ram_bytes"] < plain.report["ram"]["ram_bytes"], r
    assert not m.graph.patch_stages
    kinds = {n.name: m.kernels[n.name].kernel for n in m.graph.nodes}
    assert [kinds[n] for n in r["in_place"]] == ["depthwise_conv2d.inplace"] * len(r["in_place"])
    pairs = dict(m.plan.inplace)
    for name in r["in_place"]:
        node = next(n for n in m.graph.nodes if n.name == name)
        assert pairs[node.outputs[0].name] == node.inputs[0].name
        assert m.plan.offset(node.outputs[0]) == m.plan.offset(node.inputs[0])
    xs = np.random.default_rng(9).integers(-128, 128, (3, 1, 3, 64, 64)).astype(np.int8)
    want = plain.interpret(xs, batch=True)
    assert np.array_equal(m.interpret(xs, batch=True), want)
    assert np.array_equal(m.run_host(xs, batch=True), want)


def _strict_c(c_dir, files, tmp_path) -> None:
    import shutil
    import subprocess
    for cc in ("gcc", "clang"):
        assert shutil.which(cc), f"{cc} is not installed (scripts/setup.sh installs it)"
        for f in files:
            cmd = [cc, "-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion",
                   "-Wsign-conversion", "-Werror", "-O2", "-c", f"-I{c_dir}",
                   f"-I{c_dir / 'kernels'}", str(f), "-o", str(tmp_path / "x.o")]
            r = subprocess.run(cmd, capture_output=True, text=True)
            assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stderr}"


def test_patched_and_in_place_c_is_strict(tmp_path):
    """The transposing band copy and the in-place depthwise kernel compile cleanly with gcc and
    clang under -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Werror."""
    p = tmp_path / "mb.onnx"
    onnx.save(mobilenet_onnx(hw=64, seed=7, expand=4), p)
    calib = {"x": np.random.default_rng(8).uniform(-1, 1, (8, 3, 64, 64)).astype(np.float32)}
    for limit, name in ((70_000, "pt"), (123_749, "ip")):
        m = tinyc.compile(p, board="mps2-an386", calib=calib, name=name, progress=None,
                          ram_limit=limit)
        r = m.report["ram"]
        assert r["met"] and ("patched" in r if name == "pt" else r.get("in_place")), r
        m.write(tmp_path / name)
        files = [tmp_path / name / f"{name}.c"] + sorted((tmp_path / name / "kernels").glob(
            "*depthwise_conv2d_inplace*.c"))
        assert len(files) == (2 if name == "ip" else 1)
        text = files[0].read_text()
        assert ("tinyc_depthwise_conv2d_inplace_s8(" in text) == (name == "ip")
        _strict_c(tmp_path / name, files, tmp_path)


def test_patched_and_in_place_in_qemu(tmp_path):
    """The same C in QEMU (stm32: Cortex-M4 with DSP) == the golden model: a stage led by the
    input transpose (ram_limit 70,000) and in-place depthwise (123,749)."""
    p = tmp_path / "mb.onnx"
    onnx.save(mobilenet_onnx(hw=64, seed=7, expand=4), p)
    calib = {"x": np.random.default_rng(8).uniform(-1, 1, (8, 3, 64, 64)).astype(np.float32)}
    xs = np.random.default_rng(10).integers(-128, 128, (2, 1, 3, 64, 64)).astype(np.int8)
    for limit, key in ((70_000, "patched"), (123_749, "in_place")):
        m = tinyc.compile(p, board="stm32", calib=calib, name="q", progress=None,
                          ram_limit=limit)
        assert m.report["ram"]["met"] and key in m.report["ram"], m.report["ram"]
        if key == "patched":
            assert m.graph.patch_stages[0].nodes[0] == m.graph.nodes[0].name
        want = m.interpret(xs, batch=True)
        got = m.run_qemu(xs, batch=True)
        assert np.array_equal(np.asarray(got).reshape(np.shape(want)), want), key
