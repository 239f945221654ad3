"""emit_c: an integer-only, memory-planned ir.Graph -> a self-contained folder of C99.

    model.h        {name}_invoke(), sizes, shapes, quantization of inputs and outputs
    model.c        a static arena and one kernel call per node, straight-line
    model_data.h   extern declarations of the constant arrays
    model_data.c   const weights, biases, multipliers, shifts, tables (flash)
    kernels/       the runtime files the model uses, copied from tinyc/runtime

The output depends only on the graph, the plan, the name and the options: no timestamps,
no absolute paths, no set or dict-order dependence.
"""
from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from ..errors import IRError, TinycError, UnsupportedOpError
from ..ir import OPS, DType, Graph, Node, Value, verify
from ..runtime import runtime_file
from .cgen import (array_body, c_braces, c_comment, c_float, c_ident, c_string,
                   is_identifier)
from .kernels import KERNELS, Kernel

BASE_SOURCES = ("tinyc_nn.h", "tinyc_requant.h")
OPTIONS = {"kernels": "dict op -> Kernel (default backend_c.KERNELS)"}
_ENV = jinja2.Environment(loader=jinja2.PackageLoader("tinyc.backend_c", "templates"),
                          undefined=jinja2.StrictUndefined, trim_blocks=True,
                          lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
_ENV.filters.update(braces=c_braces, comment=c_comment, cstring=c_string)


def tinyc_version() -> str:
    try:
        return metadata.version("tinyc")
    except metadata.PackageNotFoundError:
        return "0.0.0"


class CallContext:
    """What the per-op `args` functions ask of the emitter: C expressions for tensors and
    named constant arrays. Symbols are prefixed with the model name and unique."""

    def __init__(self, name: str, plan):
        self.name = name
        self.offsets: dict[str, int] = {k: int(v) for k, v in plan.offsets.items()}
        self.arrays: list[dict] = []
        self._const_symbols: dict[int, str] = {}
        self._taken: set[str] = {f"{name}_invoke", f"{name}_arena"}    # model.c's own

    def symbol(self, base: str) -> str:
        stem = f"{self.name}_{c_ident(base)}"
        sym, i = stem, 2
        while sym in self._taken:
            sym, i = f"{stem}_{i}", i + 1
        self._taken.add(sym)
        return sym

    def array(self, base: str, ctype: str, values, comment: str | None = None) -> str:
        values = np.asarray(values)
        sym = self.symbol(base)
        per_line = 16 if ctype.endswith("8_t") else 8
        self.arrays.append({"symbol": sym, "ctype": ctype, "size": max(values.size, 1),
                            "body": array_body(values if values.size else [0], per_line),
                            "comment": comment or f"{base}: {list(values.shape)}"})
        return sym

    def ptr(self, v: Value, byte_offset: int = 0) -> str:
        """The C expression of the data of v (+ byte_offset): an arena slot or a constant."""
        if v.is_const:
            if id(v) not in self._const_symbols:
                comment = f"{v.name}: {v.type}"
                self._const_symbols[id(v)] = self.array(v.name, v.dtype.c_type, v.data, comment)
            sym = self._const_symbols[id(v)]
            return f"{sym} + {byte_offset}" if byte_offset else sym
        return f"TINYC_ARENA + {self.offsets[v.name] + byte_offset}"


# -- checks ---------------------------------------------------------------------------------

def _check_inputs(graph: Graph, plan, name: str, kernels: dict[str, Kernel]) -> None:
    if not is_identifier(name):
        raise TinycError(f"emit_c: model name {name!r} is not a C identifier")
    if plan is None or not hasattr(plan, "offsets") or not hasattr(plan, "arena_bytes"):
        raise IRError("emit_c: the graph has no memory plan — expected a plan with "
                      "arena_bytes and offsets (run passes.plan_memory first), got "
                      f"{type(plan).__name__}")
    verify(graph, integer_only=True)
    missing = sorted({n.op for n in graph.nodes if n.op not in kernels})
    if missing:
        raise UnsupportedOpError(f"emit_c: no C kernel for op(s) {missing} — supported: "
                                 f"{sorted(kernels)}")
    for v in (*graph.inputs, *graph.outputs):
        if v.dtype is not DType.INT8 or v.q is None or len(v.q.scale) != 1:
            raise IRError(f"emit_c: graph input/output '{v.name}' — expected int8 with "
                          f"per-tensor quantization, got {v.type}")
    _check_plan(graph, plan)


def _slot(graph_value: Value, plan) -> tuple[int, int]:
    off = plan.offsets.get(graph_value.name)
    if off is None:
        raise IRError(f"emit_c: activation '{graph_value.name}' has no arena offset in the plan")
    off, size = int(off), graph_value.type.nbytes
    if off < 0 or off + size > int(plan.arena_bytes):
        raise IRError(f"emit_c: activation '{graph_value.name}' at [{off}, {off + size}) — "
                      f"expected inside the arena of {plan.arena_bytes} bytes")
    return off, size


def _check_plan(graph: Graph, plan) -> None:
    """Every activation has a slot in the arena; a kernel's output overlaps none of its
    inputs unless the op may run in place (then exactly) or aliases (reshape)."""
    for v in graph.activations():
        _slot(v, plan)
    for node in graph.nodes:
        opdef = OPS[node.op]
        oo, os_ = _slot(node.outputs[0], plan)
        for i, v in enumerate(node.inputs):
            if v is None or v.is_const or opdef.alias:
                continue
            io, is_ = _slot(v, plan)
            overlap = io < oo + os_ and oo < io + is_
            exact = i in opdef.inplace and (io, is_) == (oo, os_)
            if overlap and not exact:
                raise IRError(f"node '{node.name}' ({node.op}): plan puts output "
                              f"'{node.outputs[0].name}' at [{oo}, {oo + os_}) over input "
                              f"'{v.name}' at [{io}, {io + is_}) — expected disjoint slots"
                              + (" or the same slot (in-place)" if opdef.inplace else ""))


# -- lowering ---------------------------------------------------------------------------------

def _node_comment(node: Node) -> str:
    ins = ", ".join(f"{v.name} {v.type.dtype.value}{list(v.shape)}" for v in node.inputs
                    if v is not None and not v.is_const)
    outs = ", ".join(f"{v.name} {v.type.dtype.value}{list(v.shape)}" for v in node.outputs)
    return f"{node.name}: {node.op}({ins}) -> {outs}"


def _io(graph: Graph, ctx: CallContext) -> tuple[list[dict], list[dict], str]:
    ios = {"input": [], "output": []}
    for kind, values in (("input", graph.inputs), ("output", graph.outputs)):
        single = len(values) == 1
        for i, v in enumerate(values):
            param = ("in" if kind == "input" else "out") + ("" if single else str(i))
            ios[kind].append({
                "kind": kind, "index": i, "name": v.name, "param": param,
                "tag": f"{'IN' if kind == 'input' else 'OUT'}{i}", "shape": tuple(v.shape),
                "size": v.type.nbytes, "scale": c_float(v.q.s), "zero_point": v.q.zp,
                "slot": ctx.ptr(v)})
    params = [f"const int8_t *{d['param']}" for d in ios["input"]]
    params += [f"int8_t *{d['param']}" for d in ios["output"]]
    return ios["input"], ios["output"], ", ".join(params) or "void"


def _lower(graph: Graph, ctx: CallContext, kernels: dict[str, Kernel]) -> tuple[list, list]:
    calls, sources = [], set(BASE_SOURCES)
    for node in graph.nodes:
        k = kernels[node.op]
        code = _ENV.get_template(k.template).render(**k.args(node, ctx)).rstrip("\n")
        calls.append({"comment": _node_comment(node), "code": code})
        sources.update(k.sources)
    return calls, sorted(sources)


# -- files ---------------------------------------------------------------------------------------

def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write(text)
    return path


def _copy_kernels(out_dir: Path, sources: list[str]) -> list[Path]:
    kdir = out_dir / "kernels"
    kdir.mkdir(parents=True, exist_ok=True)
    for stale in sorted(kdir.glob("tinyc_*.[ch]")):
        if stale.name not in sources:
            stale.unlink()
    return [_write(kdir / s, runtime_file(s).read_text(encoding="ascii")) for s in sources]


def emit_c(graph: Graph, plan, out_dir, name: str = "tinyc_model",
           options: dict[str, Any] | None = None) -> list[Path]:
    """Write the C of `graph` (integer-only, verified) with memory plan `plan` into out_dir.

    name prefixes every exported symbol and macro ({name}_invoke, {NAME}_ARENA_SIZE...).
    options: {"kernels": {op: Kernel}} to override the kernel table (boards).
    Returns the written files. Raises IRError for a float/unverified graph or a bad plan,
    UnsupportedOpError for an op without a kernel.
    """
    options = dict(options or {})
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise TinycError(f"emit_c: unknown option(s) {unknown} — known: {OPTIONS}")
    kernels = options.get("kernels", KERNELS)
    _check_inputs(graph, plan, name, kernels)
    ctx = CallContext(name, plan)
    inputs, outputs, signature = _io(graph, ctx)
    calls, sources = _lower(graph, ctx, kernels)
    env = {"name": name, "P": name.upper(), "version": tinyc_version(),
           "banner": f"Generated by tinyc {tinyc_version()} for model '{c_comment(graph.name)}'."
                     " Do not edit.",
           "arena_size": int(plan.arena_bytes), "arena_alloc": max(int(plan.arena_bytes), 1),
           "inputs": inputs, "outputs": outputs, "signature": signature, "calls": calls,
           "arrays": ctx.arrays}
    out_dir = Path(out_dir)
    files = [_write(out_dir / f, _ENV.get_template(f + ".j2").render(**env))
             for f in ("model.h", "model.c", "model_data.h", "model_data.c")]
    return files + _copy_kernels(out_dir, sources)


__all__ = ["emit_c", "CallContext", "KERNELS", "Kernel", "tinyc_version"]
