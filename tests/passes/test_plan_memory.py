"""plan_memory is safe: no two buffers alive at the same step overlap; aliases share."""
import numpy as np
from hypothesis import given, settings, strategies as st

from tinyc.ir import DType, Graph, TensorType
from tinyc.passes.plan_memory import plan_memory


def _random_graph(ops: list[tuple[str, int, int]]) -> Graph:
    """ops: (kind, which earlier value, channels) — kind in relu/add/reshape/widen."""
    g = Graph("r")
    vals = [g.add_input("x", TensorType(DType.INT8, (1, 4, 4, 3)))]
    for kind, pick, c in ops:
        src = vals[pick % len(vals)]
        if kind == "relu":
            v = g.emit("relu", [src])
        elif kind == "add":
            other = [u for u in vals if u.shape == src.shape][-1]
            v = g.emit("add", [src, other])
        elif kind == "reshape":
            v = g.emit("reshape", [src], {"shape": (1, int(np.prod(src.shape)))})
        else:
            if len(src.shape) != 4:
                continue
            w = g.const("w", np.zeros((c, 1, 1, src.shape[3]), np.float32))
            v = g.emit("conv2d", [src, w, None],
                       {"stride": (1, 1), "pads": (0, 0, 0, 0), "dilation": (1, 1)})
        vals.append(v)
    g.outputs = [vals[-1]]
    return g


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["relu", "add", "reshape", "widen"]),
                          st.integers(0, 20), st.integers(1, 16)), min_size=1, max_size=12))
def test_no_live_overlap(ops):
    g = _random_graph(ops)
    plan = plan_memory(g)
    placed = [(plan.offsets[b.root.name], b) for b in plan.buffers]
    for i, (oa, a) in enumerate(placed):
        assert oa % 4 == 0 and oa + a.size <= plan.arena_bytes
        for ob, b in placed[i + 1:]:
            if a.overlaps_in_time(b) and a.size and b.size:
                assert oa + a.size <= ob or ob + b.size <= oa, (a.root, b.root)
    # in-place reuse may go below the no-reuse bound, never below what is live at once
    steps = range(max(len(g.nodes), 1))
    assert plan.arena_bytes >= max(sum(b.size for b in plan.buffers if b.first <= s <= b.last)
                                   for s in steps)
    for out_name, in_name in plan.inplace:
        assert plan.offsets[out_name] == plan.offsets[in_name]
    for node in g.nodes:
        if node.op == "reshape":
            assert plan.offsets[node.outputs[0].name] == plan.offsets[node.inputs[0].name]
