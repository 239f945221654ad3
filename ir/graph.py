"""Value, Node, Graph with use-def links (onnx-ir style).

Only Node.replace_input, Graph.replace_all_uses_with and Graph.remove edit the links,
so producer/uses can never drift apart.
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .types import DType, QParams, TensorType


class Value:
    """A tensor: an activation (produced by a node or a graph input) or a constant."""

    def __init__(self, name: str, type: TensorType, data: np.ndarray | None = None):
        self.name = name
        self.type = type
        self.data = data
        self.producer: Node | None = None
        self.uses: list[tuple[Node, int]] = []
        if data is not None and tuple(data.shape) != type.shape:
            raise ValueError(f"value '{name}': data shape {data.shape} != type shape {type.shape}")

    @property
    def shape(self) -> tuple[int, ...]:
        return self.type.shape

    @property
    def dtype(self) -> DType:
        return self.type.dtype

    @property
    def q(self) -> QParams | None:
        return self.type.q

    @property
    def is_const(self) -> bool:
        return self.data is not None

    def __repr__(self) -> str:
        return f"%{self.name}"


class Node:
    def __init__(self, op: str, name: str, inputs: Iterable[Value | None],
                 outputs: Iterable[Value], attrs: dict[str, Any] | None = None):
        self.op = op
        self.name = name
        self.inputs: tuple[Value | None, ...] = ()
        self.outputs: tuple[Value, ...] = tuple(outputs)
        self.attrs: dict[str, Any] = dict(attrs or {})
        for i, v in enumerate(inputs):
            self.inputs += (v,)
            if v is not None:
                v.uses.append((self, i))
        for v in self.outputs:
            v.producer = self

    def replace_input(self, index: int, value: Value | None) -> None:
        old = self.inputs[index]
        self.inputs = tuple(value if i == index else v for i, v in enumerate(self.inputs))
        if old is not None:
            old.uses.remove((self, index))
        if value is not None:
            value.uses.append((self, index))

    def input(self, i: int) -> Value | None:
        return self.inputs[i] if i < len(self.inputs) else None

    def __repr__(self) -> str:
        return f"Node({self.op} '{self.name}')"


class Graph:
    """Nodes in execution (topological) order; inputs/outputs are activation Values."""

    def __init__(self, name: str = "model"):
        self.name = name
        self.nodes: list[Node] = []
        self.inputs: list[Value] = []
        self.outputs: list[Value] = []
        self._names: set[str] = set()        # value names
        self._node_names: set[str] = set()
        # QDQ models: quantization / integer dtype of the model's own integer inputs/outputs
        self.io_quant: dict[str, QParams] = {}
        self.io_dtype: dict[str, DType] = {}

    # -- naming -------------------------------------------------------------
    def is_uint8_view(self, v: Value) -> bool:
        """A uint8 model input/output (io_dtype): int8 in the graph (the int8 view u - 128,
        zero point - 128), uint8 in the C API, converted at the boundary."""
        return self.io_dtype.get(v.name) is DType.UINT8 and v.dtype is DType.INT8

    def unique(self, base: str, _taken: set[str] | None = None) -> str:
        """A fresh value name (or node name, with _taken=self._node_names) based on `base`."""
        taken = self._names if _taken is None else _taken
        name, i = base, 1
        while name in taken:
            name, i = f"{base}_{i}", i + 1
        taken.add(name)
        return name

    # -- construction ---------------------------------------------------------
    def add_input(self, name: str, type: TensorType) -> Value:
        v = Value(self.unique(name), type)
        self.inputs.append(v)
        return v

    def const(self, name: str, data: np.ndarray, q: QParams | None = None) -> Value:
        data = np.ascontiguousarray(data)
        t = TensorType(DType.from_np(data.dtype), tuple(data.shape), q)
        return Value(self.unique(name), t, data)

    def add(self, op: str, inputs: list[Value | None], out_types: list[TensorType],
            attrs: dict | None = None, name: str | None = None,
            before: Node | None = None) -> Node:
        """Create a node producing fresh values of `out_types`; append (or insert before)."""
        name = self.unique(name or op, self._node_names)
        outs = [Value(self.unique(name if i == 0 else f"{name}:{i}"), t)
                for i, t in enumerate(out_types)]
        node = Node(op, name, inputs, outs, attrs)
        if before is None:
            self.nodes.append(node)
        else:
            self.nodes.insert(self.nodes.index(before), node)
        return node

    def emit(self, op: str, inputs: list[Value | None], attrs: dict | None = None,
             name: str | None = None, before: Node | None = None) -> Value:
        """Add a node typed by the op's shape rule; return its (first) output."""
        from .ops import OPS  # late import: ops depends on graph
        out_types = OPS[op].infer(inputs, dict(attrs or {}))
        return self.add(op, inputs, out_types, attrs, name, before).outputs[0]

    # -- editing --------------------------------------------------------------
    def replace_all_uses_with(self, old: Value, new: Value) -> None:
        for node, idx in list(old.uses):
            node.replace_input(idx, new)
        self.outputs = [new if v is old else v for v in self.outputs]

    def remove(self, node: Node) -> None:
        """Remove a node whose outputs are no longer used."""
        for v in node.outputs:
            if v.uses or v in self.outputs:
                raise ValueError(f"cannot remove {node}: output {v} still used")
        for i in range(len(node.inputs)):
            node.replace_input(i, None)
        self.nodes.remove(node)

    def remove_dead(self) -> int:
        """Drop nodes whose outputs reach no graph output. Returns the count removed."""
        removed = 0
        for node in reversed(list(self.nodes)):
            if all(not v.uses and v not in self.outputs for v in node.outputs):
                self.remove(node)
                removed += 1
        return removed

    # -- queries ----------------------------------------------------------------
    def values(self) -> list[Value]:
        """Every value: graph inputs, node outputs and constants, each once, in order."""
        seen: dict[int, Value] = {}
        for v in self.inputs:
            seen[id(v)] = v
        for n in self.nodes:
            for v in (*n.inputs, *n.outputs):
                if v is not None:
                    seen.setdefault(id(v), v)
        return list(seen.values())

    def constants(self) -> list[Value]:
        return [v for v in self.values() if v.is_const]

    def activations(self) -> list[Value]:
        return [v for v in self.values() if not v.is_const]

    def consumers(self, v: Value) -> list[Node]:
        return [n for n, _ in v.uses]

    def __str__(self) -> str:
        from .printer import format_graph
        return format_graph(self)
