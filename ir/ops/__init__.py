"""The op registry: one OpDef per IR op — shape rule, float and integer semantics, MACs.

Adding an op: write its OpDef in one of the modules below (register with `@op`), its frontend
function, its quantization rule (passes/quantize.py), its kernel and call template.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ...errors import IRError
from ..graph import Node, Value
from ..types import TensorType


@dataclass(frozen=True)
class OpDef:
    name: str
    infer: Callable[[list, dict], list[TensorType]]        # (inputs, attrs) -> output types
    run_float: Callable[..., np.ndarray] | None = None     # (node, *arrays) -> array
    run_int: Callable[..., np.ndarray] | None = None       # exact integer semantics (TFLM)
    macs: Callable[[Node], int] = lambda node: 0
    int_attrs: tuple[str, ...] = ()      # attributes the integer form must carry
    alias: bool = False                  # output is the input's memory (reshape)
    inplace: tuple[int, ...] = ()        # inputs whose memory the output may reuse
    int16: bool = False                  # has a 16x8 form (int16 activations, int8 weights)
    doc: str = ""


OPS: dict[str, OpDef] = {}


def op(name: str, **kw) -> Callable:
    """Register an OpDef; the decorated function is the shape rule."""
    def wrap(infer):
        OPS[name] = OpDef(name=name, infer=infer, doc=(infer.__doc__ or "").strip(), **kw)
        return infer
    return wrap


def require(ok: bool, op: str, what: str, expected, got) -> None:
    """A shape rule's check on its operands: IRError "op: what — expected x, got y"."""
    if not ok:
        raise IRError(f"{op}: {what} — expected {expected}, got {got}")


def same_as_input(inputs: list[Value], attrs: dict) -> list[TensorType]:
    return [inputs[0].type.with_(q=None)]


def act_range(attrs: dict) -> tuple[float, float]:
    lo, hi = attrs.get("act") or (-np.inf, np.inf)
    return lo, hi


def clamp_float(x: np.ndarray, attrs: dict) -> np.ndarray:
    lo, hi = act_range(attrs)
    return np.clip(x, lo, hi).astype(np.float32)


def clamp_int(acc: np.ndarray, node: Node) -> np.ndarray:
    """Final clamp of every int8 kernel, then narrow to the output dtype."""
    a = node.attrs
    out_dtype = node.outputs[0].dtype.np
    return np.clip(acc, a["act_min"], a["act_max"]).astype(out_dtype)


from . import conv, convert, eltwise, pool, shape, softmax  # noqa: E402,F401  (registration)

__all__ = ["OPS", "OpDef", "op", "act_range", "clamp_float", "clamp_int", "require"]
