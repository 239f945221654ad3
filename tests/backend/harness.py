"""Helpers of the backend tests: hand-built integer graphs, a trivial memory plan, and the
emit -> cffi -> compare-with-interpret loop."""
from __future__ import annotations

import math
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyc.backend_c import build_host, emit_c
from tinyc.backend_c.select import select_kernels
from tinyc.ir import OPS, DType, Graph, QParams, TensorType, interpret, verify
from tinyc.ir.qmath import quantize_multiplier

I8 = DType.INT8


@dataclass
class SeqPlan:
    """A trivial memory plan: every activation in its own 4-byte aligned slot, in order;
    reshape outputs share their input's slot (an alias, as plan_memory does)."""
    arena_bytes: int = 0
    offsets: dict[str, int] = field(default_factory=dict)
    scratch: dict[str, int] = field(default_factory=dict)          # node -> offset
    scratch_bytes: dict[str, int] = field(default_factory=dict)    # node -> size
    selection: dict | None = None                                  # select_kernels' choice


def sequential_plan(g: Graph, scratch: bool = True, storage: str = "dense") -> SeqPlan:
    """With select_kernels(g, storage)'s choice as plan.selection (the scratch it needs at
    the end of the arena; scratch=False: none, the kernels that need none)."""
    plan = SeqPlan()
    for v in g.activations():
        p = v.producer
        if p is not None and p.op == "reshape" and not p.inputs[0].is_const:
            plan.offsets[v.name] = plan.offsets[p.inputs[0].name]
            continue
        plan.offsets[v.name] = plan.arena_bytes
        plan.arena_bytes += (v.type.nbytes + 3) // 4 * 4
    plan.selection = select_kernels(g, storage, planned=None if scratch else {})
    _add_scratch(plan)
    return plan


def _add_scratch(plan: SeqPlan) -> None:
    """The kernels' scratch buffers (im2col, widened inputs) at the end of the arena, as
    plan_memory gives them for select_kernels' choice (here never shared)."""
    for name, c in plan.selection.items():
        if c.scratch:
            plan.scratch[name], plan.scratch_bytes[name] = plan.arena_bytes, c.scratch
            plan.arena_bytes += (c.scratch + 3) // 4 * 4


def _liveness(g: Graph):
    """(root, last): root(v) is the value owning v's bytes (through reshape aliases);
    last[id(root)] the index of the last node reading any alias of it (outputs: the end)."""
    root: dict[int, object] = {}
    for n in g.nodes:
        if OPS[n.op].alias:
            root[id(n.outputs[0])] = root.get(id(n.inputs[0]), n.inputs[0])
    r = lambda v: root.get(id(v), v)                              # noqa: E731
    last: dict[int, int] = {}
    for i, n in enumerate(g.nodes):
        for v in n.inputs:
            if v is not None and not v.is_const:
                last[id(r(v))] = i
    for v in g.outputs:
        last[id(r(v))] = len(g.nodes)
    return r, last


def reuse_plan(g: Graph) -> SeqPlan:
    """A liveness plan with first-fit reuse; add/mul/lut write in place over a dying input of
    their size; reshape aliases its input — how a real planner packs the arena."""
    r, last = _liveness(g)
    plan, live = SeqPlan(), {}                                    # root id -> (offset, size)

    def place(v, off=None) -> None:
        size = (v.type.nbytes + 3) // 4 * 4
        if off is None:
            off = 0
            for o, sz in sorted(live.values()):
                if off + size <= o:
                    break
                off = max(off, o + sz)
        live[id(v)] = (off, size)
        plan.offsets[v.name] = off
        plan.arena_bytes = max(plan.arena_bytes, off + size)
    for v in g.inputs:
        place(v)
    for i, n in enumerate(g.nodes):
        y, opdef = n.outputs[0], OPS[n.op]
        if opdef.alias:
            plan.offsets[y.name] = plan.offsets[r(y).name]
        else:
            donors = [r(n.inputs[k]) for k in opdef.inplace if k < len(n.inputs)]
            donor = next((d for d in donors if d is not None and not d.is_const
                          and last.get(id(d)) == i and d.type.nbytes == y.type.nbytes), None)
            place(y, live.pop(id(donor))[0] if donor is not None else None)
        for v in n.inputs:
            if v is not None and not v.is_const and last.get(id(r(v))) == i:
                live.pop(id(r(v)), None)
    plan.selection = select_kernels(g, getattr(g, "storage", "dense"))
    _add_scratch(plan)
    return plan


def q8(scale: float, zp: int) -> QParams:
    return QParams((float(scale),), (int(zp),))


def int8_input(g: Graph, name: str, shape, zp: int = 0, scale: float = 0.05):
    return g.add_input(name, TensorType(I8, tuple(shape), q8(scale, zp)))


def set_q(v, zp: int, scale: float = 0.05):
    """Give an emitted output value its int8 quantization (what quantize would do)."""
    v.type = v.type.with_(dtype=I8, q=q8(scale, zp))
    return v


def multiplier_for(real: float) -> tuple[int, int]:
    return quantize_multiplier(real)


def dense_requant(rng, k: int, channels: int, spread: float = 50.0):
    """Per-channel (multiplier, shift) tuples that map a K-term int8 dot product to ~spread."""
    ms = [quantize_multiplier(spread / (math.sqrt(k) * 74.0 * 73.0) * rng.uniform(0.4, 2.5))
          for _ in range(channels)]
    return tuple(m for m, _ in ms), tuple(s for _, s in ms)


def random_int8(rng, shape) -> np.ndarray:
    return rng.integers(-128, 128, size=shape, dtype=np.int8)


def extreme_inputs(g: Graph) -> list[list[np.ndarray]]:
    """All -128 and all 127: the saturating corners."""
    return [[np.full(v.shape, val, np.int8) for v in g.inputs] for val in (-128, 127)]


def emit_build(g: Graph, out_dir: Path, name: str = "tinyc_model", cache_dir=None,
               plan=None, **kw):
    verify(g, integer_only=True)
    plan = plan or sequential_plan(g, storage=getattr(g, "storage", "dense"))  # test graphs
    selection = getattr(plan, "selection", None)       # select_kernels' choice, if not dense
    emit_c(g, plan, out_dir, name=name,
           options={"selection": selection} if selection is not None else None)
    return build_host(out_dir, cache_dir=cache_dir, **kw)


def check_graph(g: Graph, out_dir: Path, cache_dir, rng, samples: int = 3,
                extremes: bool = True, **kw) -> None:
    """C output == interpret output, bit for bit, on random (and extreme) inputs."""
    model = emit_build(g, out_dir, cache_dir=cache_dir, **kw)
    feeds = [[random_int8(rng, v.shape) for v in g.inputs] for _ in range(samples)]
    feeds += extreme_inputs(g) if extremes else []
    for feed in feeds:
        want = interpret(g, feed)
        got = model.invoke(feed)
        for w, y, v in zip(want, got, g.outputs):
            assert y.shape == w.shape, (v.name, y.shape, w.shape)
            if not np.array_equal(y, w):
                bad = np.argwhere(y != w)
                raise AssertionError(f"output '{v.name}': {len(bad)} of {w.size} differ, first "
                                     f"at {tuple(bad[0])}: C {y[tuple(bad[0])]} vs IR "
                                     f"{w[tuple(bad[0])]}")
    if os.environ.get("TINYC_TEST_SANITIZE"):      # slow: every case again under ASan + UBSan
        work = Path(f"{out_dir}_standalone")
        work.mkdir(exist_ok=True)
        run_standalone(g, out_dir, work, feeds)


MAIN_C = """#include <stdio.h>
#include "model.h"
{decls}
int main(void)
{{
{reads}    tinyc_model_invoke({args});
{writes}    return 0;
}}
"""
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g", "-O1"]


def main_c(g: Graph) -> str:
    """A host main for an emitted model: inputs from stdin, outputs to stdout, raw int8."""
    ins = [f"in{i}" for i in range(len(g.inputs))] if len(g.inputs) > 1 else ["in"]
    outs = [f"out{i}" for i in range(len(g.outputs))] if len(g.outputs) > 1 else ["out"]
    decls = "".join(f"static int8_t {n}[{v.type.nbytes}];\n"
                    for n, v in zip(ins + outs, g.inputs + g.outputs))
    reads = "".join(f"    if (fread({n}, 1, sizeof {n}, stdin) != sizeof {n}) return 1;\n"
                    for n in ins)
    writes = "".join(f"    fwrite({n}, 1, sizeof {n}, stdout);\n" for n in outs)
    return MAIN_C.format(decls=decls, reads=reads, writes=writes, args=", ".join(ins + outs))


def run_standalone(g: Graph, c_dir: Path, work: Path, feeds, flags=SANITIZE) -> None:
    """Build c_dir + main.c with gcc (ASan + UBSan by default), run on each feed, compare."""
    work = Path(work)
    (work / "main.c").write_text(main_c(g))
    exe = work / "standalone"
    srcs = [str(p) for p in sorted(Path(c_dir).rglob("*.c"))]
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror", *flags,
                    f"-I{c_dir}", str(work / "main.c"), *srcs, "-o", str(exe)], check=True)
    for feed in feeds:
        res = subprocess.run([str(exe)], input=b"".join(np.asarray(x).tobytes() for x in feed),
                             capture_output=True, check=False)
        assert res.returncode == 0, res.stderr.decode()[-3000:]
        want = b"".join(w.tobytes() for w in interpret(g, feed))
        assert res.stdout == want, "standalone build differs from interpret"


def mlperf_speed(models_dir: Path, name: str):
    """(the MLPerf Tiny model `name` compiled for stm32 with storage="speed", its reference
    npz: inputs, outputs_tflm)."""
    import tinyc
    folder = models_dir / "mlperf-tiny"
    return (tinyc.compile(folder / f"{name}_int8_qdq.onnx", board="stm32", storage="speed"),
            np.load(folder / f"{name}_ref.npz"))


def equals_tflm(m, ref, where: str) -> bool:
    """The model's outputs on the reference inputs, on the host or in QEMU on board `where`,
    equal TFLite Micro's."""
    got = (m.run_host(ref["inputs"], batch=True) if where == "host"
           else m.run_qemu(ref["inputs"], batch=True, board=where))
    want = ref["outputs_tflm"]
    return bool(np.array_equal(np.asarray(got).reshape(want.shape), want))

