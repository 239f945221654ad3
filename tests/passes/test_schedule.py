"""schedule: runs independent branches one after the other when that lowers the peak."""
import copy

import numpy as np

from tinyc.ir import interpret, verify
from tinyc.passes.plan_memory import plan_memory
from tinyc.passes.schedule import schedule

from .graphs import new_graph, rand

ONE = {"stride": (1, 1), "pads": (0, 0, 0, 0), "dilation": (1, 1)}


def _two_branches_interleaved():
    """x → wide_a → narrow_a ; x → wide_b → narrow_b ; add — written interleaved."""
    rng = np.random.default_rng(0)
    g, x = new_graph((1, 8, 8, 4))
    wa = g.emit("conv2d", [x, g.const("w1", rand(rng, 64, 1, 1, 4)), None], ONE)
    wb = g.emit("conv2d", [x, g.const("w2", rand(rng, 64, 1, 1, 4)), None], ONE)
    na = g.emit("conv2d", [wa, g.const("w3", rand(rng, 4, 1, 1, 64)), None], ONE)
    nb = g.emit("conv2d", [wb, g.const("w4", rand(rng, 4, 1, 1, 64)), None], ONE)
    g.outputs = [g.emit("add", [na, nb])]
    return verify(g)


def test_schedule_lowers_the_peak_and_keeps_results():
    g = _two_branches_interleaved()
    before = copy.deepcopy(g)
    arena_before = plan_memory(before).arena_bytes
    after = verify(schedule(g))
    assert plan_memory(after).arena_bytes < arena_before
    x = np.random.default_rng(1).standard_normal((1, 8, 8, 4)).astype(np.float32)
    np.testing.assert_array_equal(interpret(after, [x])[0], interpret(before, [x])[0])


def test_schedule_keeps_a_chain_unchanged():
    rng = np.random.default_rng(0)
    g, x = new_graph((1, 8, 8, 4))
    y = g.emit("conv2d", [x, g.const("w", rand(rng, 8, 1, 1, 4)), None], ONE)
    g.outputs = [g.emit("relu", [y])]
    order = list(g.nodes)
    assert schedule(g).nodes == order
