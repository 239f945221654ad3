"""The build report: memory, weights, MACs per layer. report.json is deterministic."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .ir.ops import OPS


def _kernel_fields(model, node) -> dict:
    """The kernel select_kernels chose for the node, its weight format, scratch and why."""
    c = getattr(model, "kernels", {}).get(node.name)
    if c is None:
        return {}
    out = {"kernel": c.kernel, "fast": c.fast, "scratch_bytes": c.scratch, "kernel_why": c.why}
    return {**out, "weight_format": c.weight_format} if c.weight_format else out


def layer_rows(model) -> list[dict]:
    rows = []
    for node in model.graph.nodes:
        consts = [v for v in node.inputs if v is not None and v.is_const]
        out = node.outputs[0]
        rows.append({
            "name": node.name, "op": node.op, "output_shape": list(out.shape),
            "macs": int(OPS[node.op].macs(node)),
            "params": int(sum(v.type.size for v in consts)),
            "weights_bytes": int(sum(v.type.nbytes for v in consts)),
            "arena_offset": model.plan.offsets.get(out.name),
            "output_bytes": out.type.nbytes,
            **_kernel_fields(model, node),
        })
    return rows


def constants_bytes(node) -> int:
    """Kernel constants beyond weights: per-channel multipliers/shifts, lookup tables."""
    n = 0
    for k in ("multiplier", "shift"):
        n += 4 * len(node.attrs.get(k, ()))
    return n + len(node.attrs.get("table", ()))


def live_sets(model) -> list[dict]:
    """Per step: the tensors alive in the arena and their bytes."""
    plan = model.plan
    out = []
    for step, node in enumerate(model.graph.nodes):
        alive = [b for b in plan.buffers if b.first <= step <= b.last]
        out.append({"step": step, "layer": node.name, "bytes": sum(b.size for b in alive),
                    "tensors": [b.root.name for b in alive]})
    return out


def build_report(model) -> dict:
    from .cycles import report_keys
    layers = layer_rows(model)
    g = model.graph
    return {
        **report_keys(None, model.board, "not estimated: the build was not measured in QEMU "
                      "(needs arm-none-eabi-gcc and qemu-system-arm; not with --host or "
                      "--no-measure)"),
        "constants_bytes": int(sum(constants_bytes(n) for n in g.nodes)),
        "live": live_sets(model),
        "inplace": [list(p) for p in model.plan.inplace],
        "model": model.name,
        "source": Path(model.source).name,
        "board": model.board.name,
        "arena_bytes": model.plan.arena_bytes,
        "arena_lower_bound": model.plan.lower_bound,
        "weights_bytes": int(sum(v.type.nbytes for v in g.constants())),
        "macs": int(sum(r["macs"] for r in layers)),
        "inputs": [spec.__dict__ for spec in model.inputs],
        "outputs": [spec.__dict__ for spec in model.outputs],
        "layers": layers,
    }


def _jsonable(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    if isinstance(x, tuple):
        return list(x)
    raise TypeError(f"not JSON serialisable: {type(x)}")


def write_report(model, out_dir: Path) -> Path:
    p = Path(out_dir) / "report.json"
    p.write_text(json.dumps(model.report, indent=1, sort_keys=True, default=_jsonable) + "\n")
    return p


def format_summary(model) -> str:
    r = model.report
    lines = [f"model {r['model']} ({r['source']}) for {r['board']}",
             f"  {len(r['layers'])} layers, {r['macs']:,} MACs, "
             f"{sum(x['params'] for x in r['layers']):,} params, weights {r['weights_bytes']:,} B "
             f"+ kernel constants {r['constants_bytes']:,} B",
             f"  arena {r['arena_bytes']:,} B (peak-live lower bound {r['arena_lower_bound']:,} B)"]
    lines += format_ram(r.get("ram"))
    mem, b = r.get("memory"), model.board
    if mem:
        stack = f"{mem['stack_bytes']:,} B" if mem["stack_bytes"] is not None else "not measured"
        flash = _share(mem['flash_bytes'], b.flash_size)
        lines.append(f"  flash {mem['flash_bytes']:,} B = {flash}"
                     f" (weights {mem['flash_weights_bytes']:,}, constants "
                     f"{mem['flash_constants_bytes']:,}, code {mem['flash_code_bytes']:,}); "
                     f"RAM {mem['ram_total_bytes']:,} B = "
                     f"{_share(mem['ram_total_bytes'], b.ram_size)}"
                     f" (static {mem['ram_static_bytes']:,} incl. arena, stack {stack})")
    lines.append("  " + format_time(r, b))
    lines += [f"  {line}" for line in format_regions(r.get("regions", []))]
    return "\n".join(lines)


def format_ram(ram: dict | None) -> list[str]:
    """The RAM limit's lines (report["ram"], passes/patch.py): how it was met, the patched
    stage, its grid and the MACs it recomputes."""
    if not ram or ram["how"] == "layer by layer":
        return []
    out = [f"  RAM {ram['ram_bytes']:,} B (arena + input/output buffers) for a limit of "
           f"{ram['limit']:,} B: {ram['how']}"
           + (", input read from the caller's buffer" if ram["direct_input"] else "")
           + (" (write the input into <name>_input_buffer(), model.h)"
              if ram.get("input_in_arena") else "")]
    p = ram.get("patched")
    if p:
        out.append(f"  patched stage: {len(p['nodes'])} layers ({p['nodes'][0]} .. "
                   f"{p['nodes'][-1]}), bands of {p['rows']} output row(s) x {p['cols']} "
                   f"column strip(s), {p['calls']} kernel calls, line buffers "
                   f"{p['line_buffer_bytes']:,} B, {p['extra_macs']:,} MACs recomputed")
    return out


def _share(n: int, of: int) -> str:
    return f"{100.0 * n / of:.1f}% of the board's {of:,} B"


def format_time(r: dict, board) -> str:
    """'latency 0.784 ms (131,655 estimated cycles at 168 MHz, <model>); energy ...'."""
    if r.get("estimated_cycles") is None:
        return f"latency and energy: {r.get('cycle_model', 'not estimated')}"
    energy = (f"energy {r['energy_uj']:,.1f} µJ per inference" if r.get("energy_uj") is not None
              else f"energy {r.get('energy_model', 'unavailable')}")
    return (f"latency {r['latency_ms']:.3f} ms per inference ({r['estimated_cycles']:,} "
            f"estimated cycles at {board.clock_hz / 1e6:g} MHz, {r['cycle_model']}); {energy}")


def format_regions(regions: list[dict]) -> list[str]:
    """The report's region table as text: region, base, size, what it holds, % used."""
    if not regions:
        return []
    out = [f"{'region':<10} {'base':<10} {'size':>11} {'used':>11} {'%':>6}  holds"]
    for g in regions:
        out.append(f"{g['name']:<10} {g['base']:<10} {g['size']:>11,} {g['used_bytes']:>11,} "
                   f"{g['used_percent']:>5.1f}%  {', '.join(g['holds']) or '-'}")
    return out


def format_layers(model) -> str:
    head = (f"{'#':>3} {'layer':<28} {'op':<17} {'output':<14} {'MACs':>11} {'params':>8} "
            f"{'bytes':>8} {'arena@':>7}")
    rows = [head]
    for i, r in enumerate(model.report["layers"]):
        shape = "x".join(map(str, r["output_shape"]))
        name = r["name"] if len(r["name"]) <= 28 else "…" + r["name"][-27:]
        off = "-" if r["arena_offset"] is None else f"{r['arena_offset']:,}"
        rows.append(f"{i:>3} {name:<28} {r['op']:<17} {shape:<14} {r['macs']:>11,} "
                    f"{r['params']:>8,} {r['weights_bytes']:>8,} {off:>7}")
    return "\n".join(rows)
