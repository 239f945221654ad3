"""The ONNX ops the frontend reads: one function per op, named exactly like the op, in
onnx_ops.py and qdq.py (dynamic_quant.py has its own table, read first-class in onnx.py)."""
from __future__ import annotations

import inspect

from . import onnx_ops, qdq


def _op_table() -> dict:
    return {name: fn for mod in (onnx_ops, qdq) for name, fn in vars(mod).items()
            if inspect.isfunction(fn) and name[:1].isupper() and fn.__module__ == mod.__name__}


OPS = _op_table()
