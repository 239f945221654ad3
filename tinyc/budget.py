"""Latency and flash budgets for --max-accuracy-drop (--max-latency-ms, --max-flash).

The precision search (passes/search.py) walks a greedy path: int8 everywhere, then one layer
one ladder step further (int4, 8 or 4 shared values, sparse) at a time while the accuracy
estimate stays within the drop. Each step saves weight bytes, and most make the layer slower
(unpacking nibbles or palette indices: BENCHMARKS.md, compression block). A budget picks the
point on that path: with a flash budget, the fastest point that fits it (and meets the latency
budget, if any); with only a latency budget, the smallest flash that is fast enough. Each point
is compiled without searching again (passes.search.replay) and measured: flash by linking,
latency from the estimated cycles of one inference in QEMU (tinyc/cycles.py).
Every point is measured (up to MAX_POINTS evenly spaced on a long path): neither flash nor
latency is monotonic along the path, since a new weight format links its kernel's code
(BENCHMARKS.md); report.json's "budget" lists every point measured.
When no point meets the budgets, BudgetError says which budget failed and the best found.
"""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from .errors import ToolchainError, TinycError


class BudgetError(TinycError):
    """No point of the search's path meets the latency/flash budget."""


def budgets(args) -> dict:
    """{'flash': bytes, 'latency_ms': ms} the command line asked for (empty: none)."""
    from .target import parse_size
    out = {}
    if getattr(args, "max_flash", None) is not None:
        out["flash"] = parse_size(args.max_flash, "--max-flash")
        if out["flash"] <= 0:
            raise TinycError(f"--max-flash {args.max_flash}: expected a size > 0 such as 64K")
    if getattr(args, "max_latency_ms", None) is not None:
        out["latency_ms"] = float(args.max_latency_ms)
    return out


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _measure(m, want_latency: bool) -> dict:
    """Flash (linked, or the weights + constants estimate without a toolchain) and latency."""
    from .fit import estimate, measure
    if not all(shutil.which(t) for t in ("arm-none-eabi-gcc", "qemu-system-arm")):
        if want_latency:
            raise ToolchainError("--max-latency-ms: the latency is measured in QEMU — expected "
                                 "arm-none-eabi-gcc and qemu-system-arm on PATH. Install them "
                                 "(scripts/setup.sh) or drop --max-latency-ms.")
        return {"flash": estimate(m), "flash_how": "weights + constants, not linked",
                "latency_ms": None}
    r = measure(m, m.c_dir(), Path(m._tmpdir()) / "budget")
    return {"flash": r["flash_bytes"], "flash_how": "linked",
            "latency_ms": m.report.get("latency_ms")}


def _meets(point: dict, want: dict) -> list[str]:
    """The budgets a measured point misses (empty: it meets them all)."""
    miss = []
    if "flash" in want and point["flash"] > want["flash"]:
        miss.append("flash")
    if "latency_ms" in want and (point["latency_ms"] is None
                                 or point["latency_ms"] > want["latency_ms"]):
        miss.append("latency_ms")
    return miss


def _describe(p: dict) -> str:
    lat = "-" if p["latency_ms"] is None else f"{p['latency_ms']:.3f} ms"
    acc = f", estimated drop {p['drop']:.2%}" if p.get("drop") is not None else ""
    return (f"{p['steps']} of {p['kept']} compression steps: flash {p['flash']:,} B "
            f"({p['flash_how']}), latency {lat}{acc}")


def _want_text(want: dict) -> str:
    parts = []
    if "flash" in want:
        parts.append(f"flash <= {want['flash']:,} B")
    if "latency_ms" in want:
        parts.append(f"latency <= {want['latency_ms']:g} ms")
    return " and ".join(parts)


MAX_POINTS = 12


def sample_points(kept: int, most: int = MAX_POINTS) -> list[int]:
    """The points of the search's path to measure: all of 0..kept, or `most` of them evenly
    spaced (both ends included) on a long path."""
    if kept + 1 <= most:
        return list(range(kept + 1))
    return sorted({round(i * kept / (most - 1)) for i in range(most)})


def compile_within(compile_fn, want: dict):
    """compile_fn(precision=None | dict) -> Model. The search once, then the point on its path
    that meets `want`; the Model, with report["budget"] (the budgets, every point measured,
    the one chosen)."""
    from .passes.search import replay
    t0 = time.monotonic()
    _say(f"budget: searching per-layer precision, then fitting {_want_text(want)}…")
    full = compile_fn(None)
    search = (full.report.get("compression") or {}).get("search")
    if search is None:
        raise TinycError("--max-flash/--max-latency-ms: expected --max-accuracy-drop P with "
                         "them (the budgets pick a point of its search)")
    kept = replay(search, 0)["kept_steps"]
    drops = [t.get("drop") for t in search["steps"] if t.get("kept")
             and t["config"] != "int16 activations"]
    points: dict[int, dict] = {}
    models = {kept: full}

    def point(k: int) -> dict:
        if k not in points:
            _say(f"budget: measuring {k} of {kept} compression steps (compile, link, QEMU)…")
            m = models.get(k) or compile_fn(replay(search, k))
            models[k] = m
            points[k] = {"steps": k, "kept": kept, **_measure(m, "latency_ms" in want),
                         "drop": drops[k - 1] if k else search.get("start_drop")}
            miss = _meets(points[k], want)
            _say(f"budget: {_describe(points[k])} — "
                 + ("meets the budget" if not miss else
                    "misses the " + " and ".join(m.replace("_ms", "") for m in miss)))
        return points[k]

    for k in sample_points(kept):
        point(k)
    fits = [p for p in points.values() if not _meets(p, want)]
    chosen = None
    if fits:
        # a flash budget: the fastest point that fits (less compression is usually faster and
        # more accurate); a latency budget alone: the smallest flash that is fast enough
        key = ((lambda p: (p["latency_ms"] if p["latency_ms"] is not None else p["steps"],
                           p["steps"])) if "flash" in want
               else (lambda p: (p["flash"], p["steps"])))
        chosen = min(fits, key=key)["steps"]
    tried = [points[k] for k in sorted(points)]
    if chosen is None:
        failed = sorted({b for p in tried for b in _meets(p, want)})
        best = min(tried, key=lambda p: (len(_meets(p, want)),
                                         p["flash"] / want.get("flash", 1) if "flash" in failed
                                         else (p["latency_ms"] or 0)))
        names = {"flash": f"--max-flash ({want.get('flash', 0):,} B)",
                 "latency_ms": f"--max-latency-ms ({want.get('latency_ms', 0):g} ms)"}
        raise BudgetError(
            f"{' and '.join(names[b] for b in failed)} could not be met within the accuracy "
            f"drop: the best found is {_describe(best)}."
            + (" Measured: " + "; ".join(_describe(p) for p in tried) + "." if len(tried) > 1
               else "")
            + " Raise the budget, allow a larger --max-accuracy-drop (more compression: less "
              "flash), or choose a board with more flash or a faster clock.")
    m = models[chosen]
    m.report["budget"] = {"asked": want, "chosen_steps": chosen, "kept_steps": kept,
                          "points": tried,
                          "seconds": round(time.monotonic() - t0, 1)}
    _say(f"budget: chose {_describe(points[chosen])} ({time.monotonic() - t0:.0f} s)")
    return m
