"""Patched stages of ONNX models (issue 20): an NCHW input's leading transpose runs as the
stage's first step (each band's input rows are transposed into the band buffer), so ONNX models
are patched by ram_limit alone. Checked: patched golden == unpatched golden bit for bit, host C
== golden, the chosen stage starts at the transpose, RAM within the limit."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import tinyc


def mobilenet_onnx(hw: int = 96, seed: int = 0) -> onnx.ModelProto:
    """A float MobileNet-style net on 1x3xhwxhw: conv 3x3/2, then depthwise-separable blocks,
    a global average pool and a Gemm classifier."""
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
