"""Board fit: measured (or estimated) flash and RAM against the board's limits."""
from __future__ import annotations

from pathlib import Path

from .errors import BoardError, TinycError


def _biggest_weights(model, n: int = 3) -> str:
    rows = sorted(model.report["layers"], key=lambda r: -r["weights_bytes"])[:n]
    return ", ".join(f"{r['name']} ({r['op']}) {r['weights_bytes']:,} B" for r in rows)


def _biggest_tensors(model, n: int = 3) -> str:
    bufs = sorted(model.plan.buffers, key=lambda b: -b.size)[:n]
    return ", ".join(f"{b.root.name} {b.size:,} B" for b in bufs)


def check_fit(model, flash: int, how: str, data: int = 0) -> None:
    """Plan the RAM regions (arena, stack, `data` bytes of other statics) and check the flash
    need; BoardError naming the regions when something does not fit. Puts the region table
    (what each region holds, bytes and % used) into model.report["regions"]."""
    from .target import place_memory, region_table
    b = model.board
    try:
        plan = place_memory(b, model.plan.arena_bytes, data=data,
                            where=f"{model.source} ({how})")
    except BoardError as e:
        raise BoardError(f"{e} Biggest tensors: {_biggest_tensors(model)}. Choose a board "
                         "with a larger RAM region (see `tinyc boards`) or a smaller "
                         "model/input.") from None
    if flash > b.flash_size:
        raise BoardError(
            f"{model.source}: the model needs {flash:,} B of flash ({how}) but board "
            f"'{b.name}' has {b.flash_size:,} B ({b.flash.describe()}). Biggest layers: "
            f"{_biggest_weights(model)}. Choose a board with more flash or compress the model.")
    model.memory_plan = plan
    model.report["regions"] = region_table(b, plan, flash)


def check_tensors(graph, board, source: str) -> None:
    """Before calibrating: every activation, as int8, fits the largest RAM region that may
    hold the arena. Refuses impossible models before the float calibration allocates."""
    v = max(graph.activations(), key=lambda a: a.type.size, default=None)
    room = board.largest_arena_bytes
    if v is not None and v.type.size > room:
        where = f"node '{v.producer.name}' ({v.producer.op})" if v.producer else "input"
        raise BoardError(
            f"{source}: {where}: tensor '{v.name}' {list(v.shape)} needs {v.type.size:,} B of "
            f"RAM as int8 but the largest RAM region of board '{board.name}' for the arena "
            f"has {room:,} B ({', '.join(r.describe() for r in board.holding('arena'))}). "
            "Choose a board with more RAM (see `tinyc boards`) or a smaller input "
            "(--input-shape).")


def estimate(model) -> int:
    """The flash need (weights + kernel constants), a lower estimate before any C is
    compiled; the RAM is planned region by region by check_fit."""
    r = model.report
    return r["weights_bytes"] + r["constants_bytes"]


def measure(model, c_dir: Path, work: Path, layers: bool = False) -> dict:
    """Flash/RAM of the model alone (linked firmware minus empty firmware) and the stack
    high-water mark of one inference in QEMU; its estimated cycles, latency and energy into
    model.report, and (layers) each layer's from a profiling firmware. Needs
    arm-none-eabi-gcc and qemu-system-arm."""
    import numpy as np

    from .cycles import add_layer_cycles, model_report as model_cycles, profile_layers
    from .firmware import model_size
    from .qemu import run_samples
    size = model_size(c_dir, model.board, work / "size", name=model.name)
    zeros = [[np.full(s.shape, s.zero_point, np.int8) for s in model.inputs]]
    try:
        res = run_samples(c_dir, model.board, zeros, work / "stack", name=model.name)
        stack = res.stack_invoke_bytes
        model.report.update(model_cycles(res, model))   # estimated_cycles, latency_ms, energy
        if layers and model.report["estimated_cycles"] is not None:
            add_layer_cycles(model, profile_layers(model, c_dir, work))
    except TinycError:
        stack = None
    r = model.report
    code = size["flash"] - r["weights_bytes"] - r["constants_bytes"]
    return {"flash_bytes": size["flash"], "flash_weights_bytes": r["weights_bytes"],
            "flash_constants_bytes": r["constants_bytes"], "flash_code_bytes": max(code, 0),
            "ram_static_bytes": size["ram"], "stack_bytes": stack,
            "ram_total_bytes": size["ram"] + (stack or 0)}
