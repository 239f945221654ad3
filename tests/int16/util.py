"""Helpers of the int16 (16x8) tests: one-op integer graphs wrapped in int8 <-> int16
conversions (graph inputs and outputs stay int8), with kernel constants from tinyc's own
quantization rules, and a host run that reads every activation (int8 and int16) back from the
arena, so each op's int16 output is compared bit for bit, not only after the conversion."""
from __future__ import annotations

import numpy as np

from tinyc.backend_c import emit_c
from tinyc.backend_c.host import build_module
from tinyc.ir import DType, Graph, Node, QParams, TensorType, Value, interpret, verify
from tinyc.passes.quant_rules import quant_rule

from ..backend.harness import sequential_plan

I8, I16 = DType.INT8, DType.INT16


def q(scale: float, zp: int = 0) -> QParams:
    return QParams((float(np.float32(scale)),), (int(zp),))


def lower(node: Node) -> Node:
    """The node's kernel constants from its quantization rule (what quantize does)."""
    node.attrs.update(quant_rule(node.op)(node))
    return node


def convert(g: Graph, x: Value, dtype: DType, qp: QParams) -> Value:
    y = g.emit("requantize", [x], {"to": dtype.value})
    y.type = y.type.with_(q=qp)
    lower(y.producer)
    return y


def int8_in(g: Graph, name: str, shape, rng, s16: float | None = None) -> tuple[Value, Value]:
    """An int8 graph input and its int16 conversion (int16 scale ~ s8 / 256 unless given)."""
    s8, zp = float(rng.uniform(0.01, 0.1)), int(rng.integers(-40, 40))
    x = g.add_input(name, TensorType(I8, tuple(shape), q(s8, zp)))
    return x, convert(g, x, I16, q(s16 or s8 * 128 / 32767 * rng.uniform(1.0, 1.3)))


def emit16(g: Graph, op: str, inputs: list, attrs: dict, scale: float) -> Value:
    """An int16 op with output scale `scale` (zero point 0), constants from its rule."""
    y = g.emit(op, inputs, attrs)
    y.type = y.type.with_(dtype=I16, q=q(scale))
    lower(y.producer)
    return y


def finish(g: Graph, y: Value, rng) -> Graph:
    """Convert the int16 result back to an int8 graph output; verify."""
    amax = 32767 * y.q.s
    g.outputs = [convert(g, y, I8, q(2 * amax / 255 * rng.uniform(0.6, 1.0),
                                     int(rng.integers(-10, 10))))]
    return verify(g, integer_only=True)


def weights(g: Graph, rng, shape, axis: int) -> Value:
    n = shape[axis]
    w = rng.integers(-127, 128, shape).astype(np.int8)
    return g.const("w", w, QParams(tuple(float(np.float32(s)) for s in
                                         rng.uniform(0.002, 0.02, n)), (0,) * n, axis))


def bias64(g: Graph, rng, n: int, magnitude: float) -> Value:
    return g.const("b", rng.integers(-magnitude, magnitude + 1, n).astype(np.int64),
                   QParams((1.0,) * n, (0,) * n, 0))


class ArenaRun:
    """The emitted C of g on the host through {name}_invoke_with_arena: returns every
    activation of the run, read from its arena slot (a plan without slot reuse)."""

    def __init__(self, g: Graph, out_dir, cache_dir=None, name: str = "m16"):
        self.g, self.plan = g, sequential_plan(g)
        emit_c(g, self.plan, out_dir, name=name)
        ins = ", ".join(f"const int8_t *in{i}" for i in range(len(g.inputs)))
        outs = ", ".join(f"int8_t *out{i}" for i in range(len(g.outputs)))
        cdef = f"void {name}_invoke_with_arena(int8_t *arena, {ins}, {outs});"
        srcs = sorted(p for p in out_dir.rglob("*.c"))
        hdrs = sorted(p for p in out_dir.rglob("*.h"))
        self.mod = build_module(name, cdef, '#include "model.h"\n', srcs, [out_dir],
                                cache_dir=cache_dir, depends=hdrs)
        self.fn = getattr(self.mod.lib, f"{name}_invoke_with_arena")

    def __call__(self, feed: list[np.ndarray]) -> dict[str, np.ndarray]:
        ffi = self.mod.ffi
        arena = np.zeros(max(self.plan.arena_bytes, 1), np.int8)
        outs = [np.zeros(v.type.size, np.int8) for v in self.g.outputs]
        args = [ffi.from_buffer("int8_t[]", np.ascontiguousarray(x, np.int8)) for x in feed]
        args += [ffi.from_buffer("int8_t[]", y, require_writable=True) for y in outs]
        self.fn(ffi.from_buffer("int8_t[]", arena, require_writable=True), *args)
        got = {}
        for v in self.g.activations():
            off = self.plan.offsets[v.name]
            raw = arena[off:off + v.type.nbytes].view(v.dtype.np)
            got[v.name] = raw.reshape(v.shape)
        for v, y in zip(self.g.outputs, outs):
            got[v.name] = y.reshape(v.shape)
        return got


def assert_bit_exact(run: ArenaRun, feed: list[np.ndarray]) -> dict:
    """Every activation of the C run equals interpret(); returns interpret's values."""
    want = {v.name: a for v, a in interpret(run.g, feed, keep=True).items()}
    got = run(feed)
    for name, w in want.items():
        y = got[name]
        assert y.dtype == w.dtype, (name, y.dtype, w.dtype)
        if not np.array_equal(y, w):
            bad = np.argwhere(y != w)
            raise AssertionError(f"'{name}': {len(bad)} of {w.size} values differ, first at "
                                 f"{tuple(bad[0])}: C {y[tuple(bad[0])]} vs IR {w[tuple(bad[0])]}")
    return want
