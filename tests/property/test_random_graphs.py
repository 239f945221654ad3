"""Property: for random small float graphs (tests/property/graphs.py), the generated C compiled
for the host gives exactly the bits of tinyc's integer interpreter, interpret().

Each hypothesis example is a batch of BATCH graphs: tinyc compiles each, and the C of the whole
batch is built as one cffi extension (a compiler run per model would dominate the runtime).
EXAMPLES * BATCH graphs per run (default 9 * 40 = 360; hypothesis repeats some across examples,
so test_enough_distinct_graphs checks that at least 300 distinct ones ran);
TINYC_PROPERTY_EXAMPLES overrides EXAMPLES. The examples are derandomized (the same graphs every
run, so CI is reproducible and the content-addressed builds are cached); set TINYC_PROPERTY_RANDOM=1 to explore new ones.
"""
from __future__ import annotations

import hashlib
import os

import numpy as np
import onnx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinyc

from .graphs import build_many, graphs

BATCH = 40
EXAMPLES = int(os.environ.get("TINYC_PROPERTY_EXAMPLES", "9"))
MIN_DISTINCT = 300              # the floor for one CI run
CHECKED: set[str] = set()       # digests of the graphs whose C matched interpret() in this run
BOARD = "mps2-an386"            # 4 MiB RAM: no random graph is refused for its size


def digest(case) -> str:
    return hashlib.sha256(case.model.SerializeToString()).hexdigest()


def compile_case(case, tmp, i: int):
    path = tmp / f"g{i}.onnx"
    onnx.save(case.model, path)
    return tinyc.compile(path, board=BOARD, calib={"x": case.calib}, name=f"g{i}",
                         progress=None)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get(
    "TINYC_PROPERTY_RANDOM"), suppress_health_check=list(HealthCheck), print_blob=True)
@given(st.lists(graphs(), min_size=BATCH, max_size=BATCH, unique_by=lambda c: digest(c)))
def test_host_c_equals_interpret(tmp_path_factory, cases):
    tmp = tmp_path_factory.mktemp("random_graphs")
    models = [compile_case(c, tmp, i) for i, c in enumerate(cases)]
    dirs = [m.write(tmp / f"c{i:02d}") for i, m in enumerate(models)]  # stable order: the
    hosts = build_many(dirs, None, ("-O0",))        # build is cached by content; -O0: time
    for case, m, h in zip(cases, models, hosts):
        want = m.interpret(case.x, batch=True)
        got = m._results([h.invoke(s) for s in m._samples(case.x, True)[0]], False, True)
        assert np.array_equal(got, want), f"{case}: host C differs from interpret()"
        CHECKED.add(digest(case))


def test_enough_distinct_graphs():
    """Runs after test_host_c_equals_interpret (file order): that many distinct graphs matched."""
    if EXAMPLES * BATCH < MIN_DISTINCT:
        return                  # a developer's smaller TINYC_PROPERTY_EXAMPLES run
    assert len(CHECKED) >= MIN_DISTINCT, (
        f"{len(CHECKED)} distinct random graphs were checked, expected >= {MIN_DISTINCT} "
        "(run the whole file: test_host_c_equals_interpret fills the count)")


def test_one_random_graph_through_model_run_host(tmp_path):
    """build_many is only a shortcut: a graph from the same strategy through Model.run_host."""
    from .graphs import Case, Net, conv
    net = Net(np.random.default_rng(0), (1, 2, 5, 5))
    net.t = conv(net, "x", dict(k=3, s=2, pads=(1, 0, 1, 0), cout=3), 1.0, True, "relu6")
    h = onnx.helper
    g = h.make_graph(net.nodes, "one", [h.make_tensor_value_info(
        "x", onnx.TensorProto.FLOAT, [1, 2, 5, 5])], [h.make_tensor_value_info(
            net.t, onnx.TensorProto.FLOAT, None)], net.inits)
    model = h.make_model(g, opset_imports=[h.make_opsetid("", 13)], ir_version=8)
    case = Case(onnx.shape_inference.infer_shapes(model),
                net.rng.uniform(-1, 1, (3, 2, 5, 5)).astype(np.float32),
                net.rng.integers(-128, 128, (4, 1, 2, 5, 5)).astype(np.int8), [])
    m = compile_case(case, tmp_path, 0)
    assert np.array_equal(m.run_host(case.x, batch=True), m.interpret(case.x, batch=True))
