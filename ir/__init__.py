"""tinyc's IR: Graph/Node/Value, types, the op registry, verify, printer, interpret."""
from .graph import Graph, Node, Value
from .interpret import interpret
from .ops import OPS, OpDef
from .printer import format_graph, format_node
from .types import DType, QParams, TensorType
from .verify import verify

__all__ = ["Graph", "Node", "Value", "DType", "QParams", "TensorType", "OPS", "OpDef",
           "interpret", "verify", "format_graph", "format_node"]
