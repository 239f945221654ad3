"""Small C-text helpers of the backend: identifiers, literals, comments, array bodies, dims.

Everything here is pure and deterministic: the same input gives the same text.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np

from ..errors import IRError

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def is_identifier(s: str) -> bool:
    return bool(_IDENT.match(s))


def c_ident(text: str) -> str:
    """A C identifier fragment from an IR name: anything outside [A-Za-z0-9_] becomes '_'."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return s or "_"


def c_comment(text: str) -> str:
    """Text safe inside /* */: printable ASCII, no comment terminator."""
    s = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in str(text))
    return s.replace("*/", "* /").replace("/*", "/ *")


def c_string(text: str) -> str:
    """A C string literal (octal escapes for quotes, backslashes and non-printables)."""
    out = []
    for ch in str(text).encode("utf-8"):
        if 32 <= ch < 127 and ch not in (ord('"'), ord("\\")):
            out.append(chr(ch))
        else:
            out.append(f"\\{ch:03o}")
    return '"' + "".join(out) + '"'


def c_int(v: int) -> str:
    """An int32 literal; INT32_MIN is written as an expression (its literal is not an int)."""
    v = int(v)
    if not INT32_MIN <= v <= INT32_MAX:
        raise IRError(f"backend_c: constant {v} does not fit in int32_t")
    return "(-2147483647 - 1)" if v == INT32_MIN else str(v)


def c_float(x: float) -> str:
    """A float literal for a header macro (shortest round-trip repr of the double)."""
    r = repr(float(x))
    if r in ("inf", "-inf", "nan"):
        raise IRError(f"backend_c: scale {x} has no C literal")
    return r + "f"


def array_body(values: np.ndarray, per_line: int = 16, indent: str = "    ") -> str:
    """The inside of a C array initializer: comma-separated integers, per_line per line."""
    flat = [c_int(v) for v in np.asarray(values).reshape(-1).tolist()]
    lines = [", ".join(flat[i:i + per_line]) for i in range(0, len(flat), per_line)]
    return ",\n".join(indent + line for line in lines)


def dims4(shape: Sequence[int]) -> tuple[int, int, int, int]:
    """A shape of rank <= 4 as (n, h, w, c), padded with leading 1s."""
    shape = tuple(int(d) for d in shape)
    if len(shape) > 4:
        raise IRError(f"backend_c: shape {shape} has rank {len(shape)} > 4")
    return (1,) * (4 - len(shape)) + shape


def c_braces(values: Iterable[int]) -> str:
    """'{1, 2, 3}' — dims, tiles and activation ranges in initializers."""
    return "{" + ", ".join(c_int(v) for v in values) + "}"


def contiguous_strides(shape: Sequence[int]) -> list[int]:
    strides, acc = [], 1
    for d in reversed(shape):
        strides.append(acc)
        acc *= int(d)
    return strides[::-1]


def collapse(out_shape: Sequence[int],
             strides: list[list[int]]) -> tuple[list[int], list[list[int]]]:
    """Merge adjacent axes that every stride list walks contiguously, drop size-1 axes.

    out_shape: the iteration space; strides[k][i]: operand k's element stride along axis i.
    Returns the smallest equivalent (shape, strides) — at least one axis.
    """
    axes = [i for i, d in enumerate(out_shape) if d != 1]
    shape = [int(out_shape[i]) for i in axes]
    strd = [[s[i] for i in axes] for s in strides]
    i = len(shape) - 2
    while i >= 0:
        if all(s[i] == s[i + 1] * shape[i + 1] for s in strd):
            shape[i] *= shape[i + 1]
            del shape[i + 1]
            for s in strd:
                s[i] = s[i + 1]
                del s[i + 1]
        i -= 1
    if not shape:
        return [1], [[0] for _ in strides]
    return shape, strd


def pad4(shape: list[int], strides: list[list[int]]) -> tuple[tuple, list[tuple]]:
    """(shape, strides) of rank <= 4 padded to 4 axes in front (size 1, stride 0)."""
    if len(shape) > 4:
        raise IRError(f"backend_c: iteration space {shape} needs {len(shape)} > 4 axes")
    k = 4 - len(shape)
    return tuple([1] * k + shape), [tuple([0] * k + s) for s in strides]
