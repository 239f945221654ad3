"""Loop rolling of straight-line C: a run of code units (each one statement or block) that
repeats with the same text except for integer literals that move by a constant step per
repetition becomes one `for` loop whose literals are `base + i * step`.

The rolled loop executes exactly the statements of the unrolled units in the same order (each
iteration's literals equal the unrolled ones), so the arithmetic is unchanged; only flash
shrinks. Only pointer offsets (`TINYC_ARENA + 1234`) vary; literals elsewhere — sizes, strides,
`static` initialisers (which must stay constant expressions) — must be equal for a unit to
repeat. Comments are dropped inside a loop.
"""
from __future__ import annotations

import re

_NUM = re.compile(r"(?<![A-Za-z0-9_.])\d+(?![A-Za-z0-9_.])")
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_STATIC = re.compile(r"\bstatic\b[^;]*;", re.S)
# a literal that may vary: a byte offset added to a pointer (`TINYC_ARENA + 1234`, `in + 96`),
# so the loop counter (size_t) only ever meets pointer arithmetic (no sign conversions)
_OFFSET = re.compile(r"(?:TINYC_ARENA|\b(?!r\b)[A-Za-z_]\w*)\s*\+\s*$")


def _split(unit: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """(skeleton pieces, varying literals) of a unit without its comments."""
    text = _COMMENT.sub("", unit)
    fixed = [(m.start(), m.end()) for m in _STATIC.finditer(text)]
    pieces, nums, pos = [], [], 0
    for m in _NUM.finditer(text):
        if any(a <= m.start() < b for a, b in fixed) or not _OFFSET.search(text, 0, m.start()):
            continue
        pieces.append(text[pos:m.start()])
        nums.append(int(m.group()))
        pos = m.end()
    pieces.append(text[pos:])
    return tuple(pieces), tuple(nums)


def _render(pieces, base, step, var: str) -> str:
    out = [pieces[0]]
    for k, (b, d) in enumerate(zip(base, step)):
        if d == 0:
            out.append(str(b))
        elif d > 0:
            out.append(f"({b} + {var} * {d})")
        else:
            out.append(f"({b} - {var} * {-d})")
        out.append(pieces[k + 1])
    return "".join(out)


def roll(units: list[str], max_period: int = 64, var: str = "tinyc_it") -> list[str]:
    """The units with every repeating run (period p units, k >= 2 repetitions, literals in
    arithmetic progression) written as one loop; other units unchanged."""
    parts = [_split(u) for u in units]
    n, out, i = len(units), [], 0
    while i < n:
        best = (0, 0, None)           # (units covered, period, step)
        for p in range(1, min(max_period, (n - i) // 2) + 1):
            sk = [parts[i + j][0] for j in range(p)]
            v0 = [x for j in range(p) for x in parts[i + j][1]]
            if [parts[i + p + j][0] for j in range(p)] != sk:
                continue
            v1 = [x for j in range(p) for x in parts[i + p + j][1]]
            step = [b - a for a, b in zip(v0, v1)]
            k, prev = 2, v1
            while i + (k + 1) * p <= n:
                blk = range(i + k * p, i + (k + 1) * p)
                if [parts[j][0] for j in blk] != sk:
                    break
                cur = [x for j in blk for x in parts[j][1]]
                if any(c - q != d for c, q, d in zip(cur, prev, step)):
                    break
                prev, k = cur, k + 1
            if k * p > best[0] and k >= 2:
                best = (k * p, p, (v0, step, k))
        covered, p, info = best
        if p == 0:
            out.append(units[i])
            i += 1
            continue
        v0, step, k = info
        body, pos = [], 0
        for j in range(p):
            pieces, nums = parts[i + j]
            c = len(nums)
            body.append(_render(pieces, v0[pos:pos + c], step[pos:pos + c], var).strip("\n"))
            pos += c
        out.append(f"{{ size_t {var}; /* {k} x {p} call(s) */\n"
                   f"for ({var} = 0; {var} < {k}; {var}++) {{\n" + "\n".join(body) + "\n} }")
        i += covered
    return out
