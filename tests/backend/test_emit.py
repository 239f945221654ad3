"""emit_c: whole graphs, plans with reuse and in-place slots, the header API, determinism,
refusals with clear errors, and the host build (batching, several models per process)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinyc.backend_c import KERNELS, build_host, emit_c
from tinyc.errors import IRError, TinycError, UnsupportedOpError
from tinyc.ir import DType, Graph, TensorType, interpret

from .graphs import mini_net
from .harness import (SeqPlan, check_graph, emit_build, int8_input, reuse_plan, sequential_plan,
                      set_q)

REPO = Path(__file__).resolve().parents[2]


def test_mini_net_sequential_plan(rng, tmp_path, host_cache):
    check_graph(mini_net(rng), tmp_path, host_cache, rng)


def test_mini_net_reuse_plan(rng, tmp_path, host_cache):
    g = mini_net(rng)
    plan = reuse_plan(g)
    assert plan.arena_bytes < sequential_plan(g).arena_bytes
    assert plan.offsets["add"] == plan.offsets["conv2d"]          # in place
    check_graph(g, tmp_path, host_cache, rng, plan=plan)


def test_header_api(rng, tmp_path):
    g = mini_net(rng)
    files = emit_c(g, sequential_plan(g), tmp_path, name="kws")
    names = sorted(p.relative_to(tmp_path).as_posix() for p in files)
    assert {"kernels/tinyc_add_s8.c", "kernels/tinyc_avg_pool2d_s8.c",
            "kernels/tinyc_concat_s8.c", "kernels/tinyc_conv2d_s8.c"} <= set(names)
    assert {"model.h", "model.c", "model_data.h", "model_data.c"} <= set(names)
    h = (tmp_path / "model.h").read_text()
    assert "void kws_invoke(const int8_t *in0, const int8_t *in1, int8_t *out0, int8_t *out1);" in h
    for line in ["#define KWS_NUM_INPUTS 2", "#define KWS_IN0_SIZE 192",
                 "#define KWS_IN0_SHAPE {1, 8, 8, 3}", "#define KWS_IN0_ZERO_POINT (-3)",
                 "#define KWS_IN0_SCALE 0.05f", "#define KWS_OUT0_SCALE 0.00390625f",
                 "#define KWS_OUT1_SHAPE {1, 2, 2, 16}", '#define KWS_IN1_NAME "side"',
                 f"#define KWS_ARENA_SIZE {sequential_plan(g).arena_bytes}"]:
        assert line in h, line
    c = (tmp_path / "model.c").read_text() + (tmp_path / "model_data.c").read_text()
    assert "float" not in c and "double" not in c and "malloc" not in c
    assert "static union" in c
    assert re.search(r"const int32_t kws_fully_connected_filter\[\d+\]", c)  # 4-aligned


def test_single_io_signature(tmp_path):
    g = Graph("one")
    x = int8_input(g, "x", (4,), 0)
    g.outputs = [set_q(g.emit("lut", [x], {"table": tuple(range(-128, 128))}), 0)]
    emit_c(g, sequential_plan(g), tmp_path)
    assert "void tinyc_model_invoke(const int8_t *in, int8_t *out);" in (
        tmp_path / "model.h").read_text()


def test_only_used_kernels_copied_and_stale_removed(rng, tmp_path):
    emit_c(mini_net(rng), sequential_plan(mini_net(rng)), tmp_path)
    g = Graph("one")
    x = int8_input(g, "x", (4,), 0)
    g.outputs = [set_q(g.emit("lut", [x], {"table": tuple(range(-128, 128))}), 0)]
    emit_c(g, sequential_plan(g), tmp_path)
    assert sorted(p.name for p in (tmp_path / "kernels").iterdir()) == [
        "tinyc_lut_s8.c", "tinyc_nn.h", "tinyc_requant.h"]


def _tree(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*"))
            if p.is_file()}


def test_deterministic(rng, tmp_path):
    seed = int(rng.integers(1 << 30))
    g1, g2 = mini_net(np.random.default_rng(seed)), mini_net(np.random.default_rng(seed))
    emit_c(g1, reuse_plan(g1), tmp_path / "a")
    emit_c(g2, reuse_plan(g2), tmp_path / "b")
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert a == b
    text = b"".join(a.values())
    assert str(tmp_path).encode() not in text and str(REPO).encode() not in text


def test_deterministic_across_processes(tmp_path):
    """Different hash seeds (set/dict-order of str hashes) give the same bytes."""
    script = ("import sys, numpy as np\n"
              "from tests.backend.graphs import mini_net\n"
              "from tests.backend.harness import reuse_plan\n"
              "from tinyc.backend_c import emit_c\n"
              "g = mini_net(np.random.default_rng(5))\n"
              "emit_c(g, reuse_plan(g), sys.argv[1])\n")
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", script, str(tmp_path / seed)], cwd=REPO, env=env,
                       check=True)
    assert _tree(tmp_path / "1") == _tree(tmp_path / "2")


# -- refusals ------------------------------------------------------------------------------------

def _lut_graph():
    g = Graph("one")
    x = int8_input(g, "x", (4,), 0)
    g.outputs = [set_q(g.emit("lut", [x], {"table": tuple(range(-128, 128))}), 0)]
    return g


def test_refuses_float_graph(tmp_path):
    g = Graph("f")
    x = g.add_input("x", TensorType(DType.FLOAT32, (1, 4)))
    g.outputs = [g.emit("relu", [x])]
    with pytest.raises(IRError, match="integer"):
        emit_c(g, SeqPlan(16, {"x": 0, "relu": 0}), tmp_path)


def test_refuses_missing_int_attrs(tmp_path):
    g = _lut_graph()
    del g.nodes[0].attrs["table"]
    with pytest.raises(IRError, match="table"):
        emit_c(g, sequential_plan(g), tmp_path)


def test_refuses_no_plan(tmp_path):
    with pytest.raises(IRError, match="no memory plan"):
        emit_c(_lut_graph(), None, tmp_path)


def test_refuses_incomplete_plan(tmp_path):
    g = _lut_graph()
    with pytest.raises(IRError, match="'lut' has no arena offset"):
        emit_c(g, SeqPlan(8, {"x": 0}), tmp_path)
    with pytest.raises(IRError, match="inside the arena"):
        emit_c(g, SeqPlan(6, {"x": 0, "lut": 4}), tmp_path)


def test_refuses_overlapping_plan(rng, tmp_path):
    g = mini_net(rng)
    plan = sequential_plan(g)
    plan.offsets["conv2d"] = plan.offsets["pad"] + 4     # conv output over its own input
    with pytest.raises(IRError, match="expected disjoint slots"):
        emit_c(g, plan, tmp_path)


def test_refuses_unknown_kernel_and_options(tmp_path):
    g = _lut_graph()
    table = {k: v for k, v in KERNELS.items() if k != "lut"}
    with pytest.raises(UnsupportedOpError, match=r"no C kernel for op\(s\) \['lut'\]"):
        emit_c(g, sequential_plan(g), tmp_path, options={"kernels": table})
    with pytest.raises(TinycError, match="unknown option"):
        emit_c(g, sequential_plan(g), tmp_path, options={"simd": True})
    with pytest.raises(TinycError, match="not a C identifier"):
        emit_c(g, sequential_plan(g), tmp_path, name="my-model")


def test_refuses_out_of_range_attrs(tmp_path):
    g = _lut_graph()
    g.nodes[0].attrs["table"] = tuple(range(0, 256))
    with pytest.raises(IRError, match="256 int8 values"):
        emit_c(g, sequential_plan(g), tmp_path)


# -- host ----------------------------------------------------------------------------------------

def test_host_batches_samples(rng, tmp_path, host_cache):
    g = mini_net(rng)
    model = emit_build(g, tmp_path, cache_dir=host_cache)
    xs = [rng.integers(-128, 128, (5, 8, 8, 3)).astype(np.int8),
          rng.integers(-128, 128, (5, 4, 4, 1)).astype(np.int8)]
    y0, y1 = model.invoke(xs)
    assert y0.shape == (5, 10) and y1.shape == (5, 2, 2, 16)
    for i in range(5):
        want = interpret(g, [xs[0][i:i + 1], xs[1][i:i + 1]])
        assert np.array_equal(y0[i:i + 1], want[0]) and np.array_equal(y1[i:i + 1], want[1])
    assert [s.name for s in model.inputs] == ["image", "side"]
    assert model.outputs[0].zero_point == -128 and model.inputs[0].shape == (1, 8, 8, 3)
    with pytest.raises(TinycError, match="expected int8"):
        model.invoke([xs[0].astype(np.int16), xs[1]])
    with pytest.raises(TinycError, match="different sample counts"):
        model.invoke([xs[0], xs[1][:2]])


def test_two_models_in_one_process(rng, tmp_path, host_cache):
    ga, gb = mini_net(rng), mini_net(rng)          # same structure, different weights
    ma = emit_build(ga, tmp_path / "a", name="net_a", cache_dir=host_cache)
    mb = emit_build(gb, tmp_path / "b", name="net_b", cache_dir=host_cache)
    mc = emit_build(gb, tmp_path / "c", cache_dir=host_cache)
    mc2 = emit_build(gb, tmp_path / "c", cache_dir=host_cache)     # cached: same module
    assert mc2.module is mc.module and ma.module is not mb.module
    x = [rng.integers(-128, 128, (1, 8, 8, 3)).astype(np.int8),
         rng.integers(-128, 128, (1, 4, 4, 1)).astype(np.int8)]
    for m, g in ((ma, ga), (mb, gb), (mc, gb)):
        for got, want in zip(m.invoke(x), interpret(g, x)):
            assert np.array_equal(got, want)


def test_build_host_reports_compiler_errors(tmp_path, host_cache):
    g = _lut_graph()
    emit_c(g, sequential_plan(g), tmp_path)
    (tmp_path / "model.c").write_text((tmp_path / "model.c").read_text() + "\nint broken(\n")
    with pytest.raises(TinycError, match="compiling"):
        build_host(tmp_path, cache_dir=host_cache)
