"""tinyc bench: build each MLPerf Tiny model (and the repo's example) for a board, run one
inference in QEMU (-icount shift=0, STM32 TIM2 around the invoke), and write BENCHMARKS.md:
instructions per inference, per layer (the generated code's TINYC_PROFILE hook), MACs per
instruction, flash and RAM.

Instructions are counted by QEMU: they are not cycles (no pipeline, wait states or caches).
Weights are stored dense (`--storage dense`, one byte per weight); `storage="speed"` (Winograd
3x3 convs with int16 transformed weights, 1x1 convs with pre-widened int16 weights: more flash,
fewer est. cycles) is measured in a second table, and tinyc's default `storage="auto"` may pick
a compact format (sparse, int4, codebook) that trades instructions for flash; the models where
it does are measured that way too, in a third table.
The block between COMPRESSION_BEGIN and COMPRESSION_END of an existing output file (written by
another tool) is kept as it is."""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

# TFLite Micro + CMSIS-NN on Cortex-M4 (same QEMU, same compiler): the figures to beat
TFLM = {"kws": {"macs": 2656768, "insns": 7697326, "ref_insns": 43021898, "arena": 22820,
                "image": 139020, "model": 53936},
        "vww": {"macs": 7489664, "insns": 24101941, "ref_insns": 100176826, "arena": 100708,
                "image": 418372, "model": 333288},
        "ic": {"macs": 12501632, "insns": 29858952, "ref_insns": 107273409, "arena": 54996,
               "image": 178440, "model": 98496},
        "ad": {"macs": 264192, "insns": 582935, "ref_insns": 1952162, "arena": 2580,
               "image": 309716, "model": 276976}}
MLPERF = ("kws", "vww", "ic", "ad")
COMPRESSION_BEGIN, COMPRESSION_END = "<!-- compression:begin -->", "<!-- compression:end -->"
RAM_BEGIN, RAM_END = "<!-- ram-limit:begin -->", "<!-- ram-limit:end -->"
RAM_LIMITS = (None, 70_000, 60_000, 50_000, 45_000, 40_000, 37_366)   # vww; None: board RAM


def models_dir() -> Path:
    """The folder holding mlperf-tiny/: $TINYC_MODELS, else the repository's models/."""
    env = os.environ.get("TINYC_MODELS")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "models"


def layer_instructions(m, c_dir: Path, work: Path) -> list[int]:
    """Instructions of each layer of one inference on all-zero input: the firmware built with
    -DTINYC_PROFILE reads the counter before every kernel call (hook cost included)."""
    from .firmware import build_firmware
    from .qemu import run_qemu
    zeros = [np.full(s.shape, s.zero_point, np.int8) for s in m.inputs]
    elf = build_firmware(c_dir, m.board, [zeros], work / "profile", name=m.name, profile=True,
                         profile_layers=len(m.graph.nodes) + 1)
    res = run_qemu(elf, m.board)
    ticks = {int(i): int(t) for i, t in re.findall(r"^layer s=0 i=(\d+) ticks=(\d+)",
                                                   res.stdout, re.M)}
    scale = 1.0                             # tim2: instructions; SysTick: ticks x ratio
    if res.counter == "systick":
        ticks = {i: t & 0xFFFFFF for i, t in ticks.items()}
        scale = res.insns_per_tick or 0.0   # unknown ratio, or no counter: 0 (not measured)
    elif res.instructions is None:
        scale = 0.0
    return [round(ticks.get(i, 0) * scale) for i in range(len(m.graph.nodes))]


def _stored_format(m, node) -> str:
    """The layer's weight format when not dense ("" else): the kernel selection's record."""
    c = m.kernels.get(node.name)
    return c.weight_format if c is not None and c.compressed else ""


def _layers(m, ticks: list[int], cycles: list[int] = ()) -> list[dict]:
    from .ir import OPS
    rows = []
    cycles = list(cycles) or [None] * len(ticks)
    for node, t, cyc in zip(m.graph.nodes, ticks, cycles):
        macs = OPS[node.op].macs(node) if OPS[node.op].macs else 0
        w = node.inputs[1] if len(node.inputs) > 1 and node.inputs[1] is not None else None
        rows.append({"name": node.name, "op": node.op, "in": list(node.inputs[0].shape),
                     "w": list(w.shape) if w is not None and w.is_const else None,
                     "out": list(node.outputs[0].shape), "macs": macs, "insns": t,
                     "cycles": cyc,
                     "format": _stored_format(m, node)})
    return rows


def bench_one(label: str, path: Path, board, calib=None, work: Path | None = None,
              storage: str = "dense", layers: bool = True) -> dict:
    import tinyc
    m = tinyc.compile(path, board=board, calib=calib, progress=None, storage=storage)
    work = Path(work or tempfile.mkdtemp(prefix="tinyc-bench-")) / f"{label}-{storage}"
    c_dir = m.write(work / "c", measure=True)
    zeros = [np.full(s.shape, s.zero_point, np.int8) for s in m.inputs]
    m.run_qemu(zeros if len(zeros) > 1 else zeros[0])
    counts = m.last_qemu.estimated_instructions      # exact, or SysTick ticks x ratio
    insns = counts[0] if counts else None
    ticks = layer_instructions(m, c_dir, work) if layers else []
    from .cycles import bench_cycles
    cycles, layer_cycles = bench_cycles(m, work, layers)
    r, mem = m.report, m.report["memory"]
    return {"label": label, "macs": r["macs"], "insns": insns, "arena": r["arena_bytes"],
            "lower_bound": r["arena_lower_bound"], "flash": mem["flash_bytes"],
            "weights": r["weights_bytes"], "stack": mem["stack_bytes"],
            "ram": mem["ram_total_bytes"], "layers": len(r["layers"]), "ops": _op_counts(m),
            "per_layer": _layers(m, ticks, layer_cycles) if layers else [], "cycles": cycles,
            "compressed": any(_stored_format(m, n) for n in m.graph.nodes),
            "storage": storage}


def _op_counts(m) -> str:
    counts: dict[str, int] = {}
    for n in m.graph.nodes:
        counts[n.op] = counts.get(n.op, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _fmt(x) -> str:
    return "-" if x is None else (f"{x:,}" if isinstance(x, int) else f"{x:.2f}")


def ptq_rows(folder: Path) -> list[str]:
    """Float ONNX models quantized by tinyc's own PTQ, calibrated on the reference inputs."""
    import tinyc
    rows = []
    for name in MLPERF:
        ref = np.load(folder / f"{name}_ref.npz")
        x = (ref["inputs"].astype(np.float32) - ref["input_zero_point"]) * ref["input_scale"]
        m = tinyc.compile(folder / f"{name}_float.onnx", calib=x, progress=None)
        y = np.asarray(m.interpret(x, batch=True)).reshape(ref["outputs_float_tflite"].shape)
        want = ref["outputs_float_tflite"]
        tflm = ((ref["outputs_tflm"].astype(np.float32) - ref["output_zero_point"])
                * ref["output_scale"])
        top1 = "-" if name == "ad" else f"{(y.argmax(-1) == want.argmax(-1)).mean() * 100:.0f}%"
        rows.append(f"| {name} | {np.abs(y - want).max():.4f} | {np.abs(tflm - want).max():.4f} "
                    f"| {top1} | {m.report['arena_bytes']:,} |")
    return rows


def _summary(rows: list[dict]) -> list[str]:
    out = ["| model | MACs | tinyc instructions | instr/MAC | MACs/instr | est. M4 cycles "
           "| MACs/cycle | cycles/instr | TFLM+CMSIS-NN "
           "instructions | tinyc / TFLM+CMSIS-NN | TFLM ref kernels | arena B | lower bound B "
           "| TFLM arena B | flash B | weights B | stack B | RAM total B |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        t = TFLM.get(r["label"], {})
        ipm = r["insns"] / r["macs"] if r["insns"] and r["macs"] else None
        mpi = r["macs"] / r["insns"] if r["insns"] and r["macs"] else None
        ratio = r["insns"] / t["insns"] if r["insns"] and t else None
        cyc = r.get("cycles")
        mpc = r["macs"] / cyc if cyc and r["macs"] else None
        cpi = cyc / r["insns"] if cyc and r["insns"] else None
        out.append(f"| {r['label']} | {_fmt(r['macs'])} | {_fmt(r['insns'])} | {_fmt(ipm)} | "
                   f"{_fmt(mpi)} | {_fmt(cyc)} | {_fmt(mpc)} | {_fmt(cpi)} | "
                   f"{_fmt(t.get('insns'))} | {_fmt(ratio)} | "
                   f"{_fmt(t.get('ref_insns'))} | {_fmt(r['arena'])} | "
                   f"{_fmt(r['lower_bound'])} | {_fmt(t.get('arena'))} | {_fmt(r['flash'])} | "
                   f"{_fmt(r['weights'])} | {_fmt(r['stack'])} | {_fmt(r['ram'])} |")
    return out


def _per_layer(r: dict) -> list[str]:
    total = sum(x["insns"] for x in r["per_layer"]) or 1
    out = [f"<details><summary>{r['label']}: {len(r['per_layer'])} layers, "
           f"{_fmt(total)} instructions in the layers</summary>", "",
           "| # | layer | op | input | weights | output | MACs | instructions | instr/MAC "
           "| share | est. M4 cycles |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for i, x in enumerate(r["per_layer"]):
        ipm = x["insns"] / x["macs"] if x["macs"] else None
        w = "x".join(map(str, x["w"])) if x["w"] else "-"
        name = x["name"].split(";")[-1]
        name = name if len(name) <= 48 else "…" + name[-47:]
        out.append(f"| {i} | `{name}` | {x['op']} | {'x'.join(map(str, x['in']))} | {w} "
                   f"| {'x'.join(map(str, x['out']))} | {_fmt(x['macs'])} | "
                   f"{_fmt(x['insns'])} | {_fmt(ipm)} | {100 * x['insns'] / total:.1f}% | "
                   f"{_fmt(x.get('cycles'))} |")
    return out + ["", "</details>", ""]


def _speed(rows: list[dict], dense: list[dict]) -> list[str]:
    by_label = {r["label"]: r for r in dense}
    out = _summary(rows)
    out[0] += " flash B over dense | instructions / dense |"
    out[1] += "---|---|"
    for i, r in enumerate(rows, start=2):
        d = by_label.get(r["label"])
        out[i] += (f" {_fmt(r['flash'] - d['flash'])} | {r['insns'] / d['insns']:.3f} |"
                   if d and r["insns"] and d["insns"] else " - | - |")
    return out


# core, DSP, its FPU (built with the board's float ABI where it has one), its mps2 board
OTHER_CORES = (("cortex-m7", True, "fpv5-d16", "mps2-an500"),
               ("cortex-m33", True, "fpv5-sp-d16", "mps2-an505"),
               ("cortex-m3", False, "none", None))


def cores_row(label: str, path: Path, board, m4: int | None, calib=None) -> dict:
    """Instructions of one inference with the code compiled for other cores. Exact counts come
    from the STM32 board's memory map and TIM2 with only -mcpu changed (QEMU executes the same
    Thumb-2 instruction stream; it counts instructions, whatever the core model); the mps2 board
    of that core runs the same model as a cross-check: same output bits, and SysTick ticks
    (one per ~40-50 instructions under -icount) that agree with the exact count."""
    import dataclasses

    import tinyc
    from .target import load_board
    m = tinyc.compile(path, board=board, calib=calib, progress=None, storage="dense")
    zeros = [np.full(s.shape, s.zero_point, np.int8) for s in m.inputs]
    x = zeros if len(zeros) > 1 else zeros[0]
    base = load_board(board)
    want = np.asarray(m.interpret(x), np.int8).tobytes()
    row = {"label": label, "m4": m4}            # the main table's count, same build
    for core, dsp, fpu, mps2 in OTHER_CORES:
        b = dataclasses.replace(base, name=f"{base.name}-{core}", core=core, dsp=dsp, fpu=fpu,
                                float_abi=base.float_abi if fpu != "none" else "auto")
        same = np.asarray(m.run_qemu(x, board=b), np.int8).tobytes() == want
        row[core] = m.last_qemu.instructions[0] if same else None
        if mps2:
            same = np.asarray(m.run_qemu(x, board=mps2), np.int8).tobytes() == want
            row[mps2] = m.last_qemu.ticks[0] if same else None
    return row


def _cores(rows: list[dict]) -> list[str]:
    def per_tick(r, core, mps2):
        return "-" if not (r[core] and r[mps2]) else f"{r[core] / r[mps2]:.2f}"
    out = ["| model | M4 (DSP) | M7 (DSP) | M7 / TFLM+CMSIS-NN (M4) | an500 SysTick ticks "
           "| instructions per tick | M33 (DSP) | M33 / TFLM+CMSIS-NN (M4) | an505 SysTick ticks "
           "| instructions per tick | M3 (portable) |", "|---|" + "---|" * 10]
    for r in rows:
        tflm = TFLM.get(r["label"], {}).get("insns")
        ratio = {c: "-" if not (tflm and r[c]) else f"{r[c] / tflm:.3f}"
                 for c in ("cortex-m7", "cortex-m33")}
        out.append(f"| {r['label']} | {_fmt(r['m4'])} | {_fmt(r['cortex-m7'])} | "
                   f"{ratio['cortex-m7']} | {_fmt(r['mps2-an500'])} | "
                   f"{per_tick(r, 'cortex-m7', 'mps2-an500')} | {_fmt(r['cortex-m33'])} | "
                   f"{ratio['cortex-m33']} | {_fmt(r['mps2-an505'])} | "
                   f"{per_tick(r, 'cortex-m33', 'mps2-an505')} | {_fmt(r['cortex-m3'])} |")
    return out


def compression_block(old: str | None) -> list[str]:
    """The block another tool keeps in BENCHMARKS.md (markers included; empty if none)."""
    if old and COMPRESSION_BEGIN in old and COMPRESSION_END in old.split(COMPRESSION_BEGIN, 1)[1]:
        inner = old.split(COMPRESSION_BEGIN, 1)[1].split(COMPRESSION_END, 1)[0]
        return [COMPRESSION_BEGIN + inner + COMPRESSION_END]
    return [COMPRESSION_BEGIN, COMPRESSION_END]


def render(rows: list[dict], board: str, ptq: list[str], auto: list[dict] = (),
           speed: list[dict] = (), old: str | None = None, cores: list[dict] = (),
           note: str = "") -> str:
    out = ["# Benchmarks", "", *([f"**{note}.**", ""] if note else []),
           f"Generated by `python -m tinyc.bench --board {board}` (do not edit by hand). One "
           "inference on an all-zero input in QEMU with `-icount shift=0`; instructions read from "
           "STM32 TIM2 around the invoke call. **Instructions, not cycles**; \"est. M4 "
           "cycles\": Cortex-M4 timings (TRM) applied to QEMU's execution profile "
           "(`tinyc/cycles.py`; validation against real boards in BENCHMARKS_NOTES.md). "
           "Weights stored dense. Flash and RAM of the model alone: linked firmware minus an "
           "empty firmware (`arm-none-eabi-size`); the arena includes the kernels' scratch "
           "buffers (im2col block, widened fully-connected input); stack: high-water mark of the "
           "invoke (stack painting). How the kernels get there: `BENCHMARKS_NOTES.md`.", "",
           *_summary(rows)]
    if speed:
        out += ["", "### With `storage=\"speed\"` (Winograd 3x3 convs, pre-widened 1x1 "
                "convs)", "",
                "3x3 stride-1 convs with 8+ input channels (a multiple of 4) run as exact "
                "integer Winograd F(2x2, 3x3) with int16 transformed weights (format `wino`: "
                "3.6x their bytes); unpadded 1x1 convs with 8+ input channels (a multiple of 4) "
                "take their weights doubled and stored int16 in the order the kernel reads them "
                "(format `pw`: 2x their bytes); every other layer as above (dense). The int32 "
                "sums, hence the bits of every output, are the same:", "", *_speed(speed, rows)]
    if cores:
        out += ["", "### Other cores: Cortex-M7, M33 (DSP path) and M3 (portable path)", "",
                "The same models (dense) compiled with `-mcpu=cortex-m7`, `cortex-m33` and "
                "`cortex-m3`. Exact counts: the STM32F405's memory map and TIM2 with only the "
                "core changed (QEMU counts the instructions of the code compiled for that core). "
                "Each build's output bits equal the golden model's (else the cell would read -); "
                "cross-check on the core's own QEMU machine (`mps2-an500`, `mps2-an505`): the "
                "same bits and its SysTick, which "
                "ticks once per 40 (an500) or 50 (an505) instructions under `-icount shift=0`, "
                "agrees. The TFLM+CMSIS-NN figures are the issue's Cortex-M4 ones.", "",
                *_cores(cores)]
    out += ["", *compression_block(old)]
    if old and RAM_BEGIN in old and RAM_END in old:     # kept: written by --ram-table
        out += ["", old[old.index(RAM_BEGIN):old.index(RAM_END) + len(RAM_END)]]
    if auto:
        out += ["", "### With tinyc's default weight storage (`storage=\"auto\"`)", "",
                "`auto` picks a compact weight format where it saves at least 1/8 of a layer's "
                "bytes; its kernels decode as they go, so these models trade instructions for "
                "flash:", "", *_summary(auto)]
    out += ["", "## Per layer", "",
            "Instructions between two reads of the counter around each kernel call "
            "(`-DTINYC_PROFILE`; each read adds a few instructions).", ""]
    for r in [*rows, *(dict(r, label=f"{r['label']} (storage=\"speed\")") for r in speed
                       if r["per_layer"])]:
        out += _per_layer(r)
    out += ["## Ops (`tinyc inspect`)", "", "| model | layers | ops |", "|---|---|---|"]
    out += [f"| {r['label']} | {r['layers']} | {r['ops']} |" for r in rows]
    if ptq:
        out += ["", "## tinyc's own PTQ on the float models", "",
                "`*_float.onnx` quantized by tinyc (per-channel int8 weights, min/max "
                "calibration on the 7–9 reference inputs), compared with the float TFLite "
                "outputs; TFLite's own int8 model (TFLM outputs) for scale.", "",
                "| model | max abs error, tinyc PTQ | max abs error, TFLite int8 | top-1 agreement "
                "| arena B |", "|---|---|---|---|---|", *ptq]
    return "\n".join(out) + "\n"


def run(board, folder: Path, work: Path | None = None) -> tuple[list[dict], ...]:
    rows, auto, speed = [], [], []
    for name in MLPERF:
        print(f"bench: {name}", file=sys.stderr)
        path = folder / f"{name}_int8_qdq.onnx"
        rows.append(bench_one(name, path, board, work=work))
        speed.append(bench_one(name, path, board, work=work, storage="speed",
                               layers=name in ("kws", "vww", "ic")))   # pw / wino layers
        a = bench_one(name, path, board, work=work, storage="auto", layers=False)
        if a["compressed"]:
            auto.append(a)
    ex = Path(__file__).resolve().parents[1] / "examples" / "digits"
    if ex.is_dir():
        rows.append(bench_one("digits (example)", ex / "digits.onnx", board,
                              calib=ex / "calib.npz", work=work))
    return rows, auto, speed


def run_cores(board, folder: Path, dense: list[dict]) -> list[dict]:
    m4 = {r["label"]: r["insns"] for r in dense}
    rows = []
    for name in MLPERF:
        print(f"bench: {name} on other cores", file=sys.stderr)
        rows.append(cores_row(name, folder / f"{name}_int8_qdq.onnx", board, m4.get(name)))
    return rows


_FW_MAIN = """\
/* generated by tinyc bench: the application's input and output buffers and one invoke */
#include <stdint.h>
void {name}_invoke({params});
{buffers}
int main(void)
{{
{call}
    return 0;
}}
"""


def static_ram(m, c_dir: Path, work: Path) -> int:
    """Static RAM (data + bss, arm-none-eabi-size) of a firmware that holds the model's input
    and output buffers and calls its invoke, minus the same firmware with neither model nor
    buffers: input + output + arena + the model's other statics."""
    from .firmware import link, measure_size, model_sources, read_header
    work.mkdir(parents=True, exist_ok=True)
    in_arena = bool(getattr(m.plan, "input_in_arena", False))
    ins = [f"in{i}" for i in range(len(m.inputs))]
    outs = [f"out{i}" for i in range(len(m.outputs))]
    bufs = "".join(f"static int8_t {n}[{int(np.prod(s.shape))}];\n"
                   for n, s in zip(ins + outs, [*m.inputs, *m.outputs])
                   if not (in_arena and n in ins))
    if in_arena:        # the application writes the input into the arena
        bufs += f"int8_t *{m.name}_input_buffer(void);\n"
        ins = [f"{m.name}_input_buffer()"]
    sizes = {}
    for kind in ("model", "empty"):
        main_c = work / f"ram_{kind}_main.c"
        if kind == "model":
            params = ", ".join(["const int8_t *"] * len(ins) + ["int8_t *"] * len(outs))
            main_c.write_text(_FW_MAIN.format(name=m.name, buffers=bufs, params=params,
                                              call=f"    {m.name}_invoke("
                                              f"{', '.join(ins + outs)});"))
            srcs, incs = [main_c, *model_sources(c_dir)], [c_dir, c_dir / "kernels"]
            arena = read_header(c_dir, m.name).get("ARENA_SIZE", 0)
        else:
            main_c.write_text("int main(void)\n{\n    return 0;\n}\n")
            srcs, incs, arena = [main_c], [], 0
        elf = link(m.board, srcs, work / f"ram_{kind}.elf", incs, arena=arena, qemu=False)
        sizes[kind] = measure_size(elf)["ram"]
    return sizes["model"] - sizes["empty"]


def ram_limit_rows(board, folder: Path, limits=RAM_LIMITS, work: Path | None = None
                   ) -> list[dict]:
    """vww under each RAM limit: how, arena, static RAM of a firmware with its buffers,
    instructions and estimated cycles of one inference (all-zero input), and the patched
    stage's grid and recomputed MACs."""
    import tinyc
    from .cycles import bench_cycles
    work = Path(work or tempfile.mkdtemp(prefix="tinyc-ram-"))
    rows = []
    for limit in limits:
        print(f"bench: vww ram_limit={limit}", file=sys.stderr)
        m = tinyc.compile(folder / "vww_int8.tflite", board=board, progress=None,
                          ram_limit=limit)
        d = work / f"vww-{limit}"
        c_dir = m.write(d / "c", measure=True)
        zeros = [np.full(s.shape, s.zero_point, np.int8) for s in m.inputs]
        m.run_qemu(zeros[0])
        counts = m.last_qemu.estimated_instructions
        cycles, _ = bench_cycles(m, d, False)
        r = m.report["ram"]
        rows.append({"limit": limit, "how": r["how"], "arena": r["arena_bytes"],
                     "ram": r["ram_bytes"], "static": static_ram(m, c_dir, d / "ram"),
                     "flash": m.report.get("memory", {}).get("flash_bytes"),
                     "insns": counts[0] if counts else None, "cycles": cycles,
                     "patched": r.get("patched")})
    return rows


def ram_limit_block(rows: list[dict]) -> list[str]:
    base = rows[0]
    out = [RAM_BEGIN, "## RAM limit (`ram_limit=` / `--ram-limit`)", "",
           "vww (`vww_int8.tflite`) compiled under each limit (the last: the smallest RAM "
           "tinyc reaches); RAM = arena + the input and output buffers outside it. Static "
           "RAM: a firmware holding the input buffer, the output buffer and the model "
           "(`arm-none-eabi-size`, data + bss, minus an empty firmware); \"input in the "
           "arena\": the application writes the input into `<name>_input_buffer()` (its slot "
           "in the arena, free again once the first layers consumed it) and holds no input "
           "buffer of its own. Below the layer-by-layer plan the kernels read the input in "
           "place and a prefix runs in row bands x column strips "
           "(`passes/patch.py`): line buffers, nothing recomputed vertically, the halo "
           "columns of each strip recomputed; the repeating band calls are C loops "
           "(`backend_c/loop_roll.py`), so model flash (`report[\"memory\"]`) grows by a "
           "small constant. Every output bit equals the unpatched model's "
           "(`tests/test_patch.py`). Generated by `python -m tinyc.bench --ram-table`.", "",
           "| limit B | how | arena B | RAM B | static RAM B | instructions | est. M4 cycles "
           "| patched layers | grid (rows x strips) | MACs recomputed | model flash B |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        p = r["patched"] or {}
        rel = (f" ({r['insns'] / base['insns']:.3f}x)" if r["insns"] and base["insns"]
               and r is not base else "")
        relc = (f" ({r['cycles'] / base['cycles']:.3f}x)" if r["cycles"] and base["cycles"]
                and r is not base else "")
        out.append(f"| {'board RAM' if r['limit'] is None else format(r['limit'], ',')} "
                   f"| {r['how']} | {r['arena']:,} | {r['ram']:,} | {r['static']:,} "
                   f"| {_fmt(r['insns'])}{rel} | {_fmt(r['cycles'])}{relc} "
                   f"| {len(p.get('nodes', [])) or '-'} "
                   f"| {str(p['rows']) + ' x ' + str(p['cols']) if p else '-'} "
                   f"| {format(p['extra_macs'], ',') if p else '-'} "
                   f"| {_fmt(r.get('flash'))} |")
    return out + [RAM_END]


def write_ram_table(path: Path, rows: list[dict]) -> None:
    """Put the RAM-limit block into path (replacing an earlier one; the rest is kept)."""
    old = path.read_text() if path.exists() else ""
    block = "\n".join(ram_limit_block(rows))
    if RAM_BEGIN in old and RAM_END in old:
        new = old[:old.index(RAM_BEGIN)] + block + old[old.index(RAM_END) + len(RAM_END):]
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(new)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tinyc bench", description=__doc__)
    ap.add_argument("--board", default="stm32")
    ap.add_argument("--models", type=Path, default=None, help="folder holding mlperf-tiny/")
    ap.add_argument("-o", "--output", type=Path, default=Path("BENCHMARKS.md"))
    ap.add_argument("--no-ptq", action="store_true", help="skip the PTQ accuracy table")
    ap.add_argument("--no-cores", action="store_true",
                    help="skip the Cortex-M7/M33/M3 table (built only on a board with an exact "
                         "instruction counter, e.g. stm32)")
    ap.add_argument("--float-abi", choices=("soft", "softfp", "hard"), default=None,
                    help="float ABI of the firmware (default: the board's)")
    ap.add_argument("--ram-table", action="store_true",
                    help="only (re)write the RAM-limit table of the output file (vww under "
                         "several ram_limit values); the rest of the file is kept")
    args = ap.parse_args(argv)
    folder = (args.models or models_dir()) / "mlperf-tiny"
    if args.ram_table:
        write_ram_table(args.output, ram_limit_rows(args.board, folder))
        print(f"wrote the RAM-limit table of {args.output}", file=sys.stderr)
        return 0
    import dataclasses

    from .firmware import float_abi
    from .qemu import counter_note
    from .target import load_board
    board = load_board(args.board)
    if args.float_abi:
        board = dataclasses.replace(board, float_abi=args.float_abi)
        float_abi(board)                    # hard/softfp without an FPU: BoardError
    note = counter_note(board)              # the board counts no instructions exactly
    if note:
        print(f"bench: {note}", file=sys.stderr)
    rows, auto, speed = run(board, folder)
    cores = run_cores(board, folder, rows) if board.exact_instructions and not \
        args.no_cores else []
    ptq = [] if args.no_ptq else ptq_rows(folder)
    old = args.output.read_text() if args.output.exists() else None
    args.output.write_text(render(rows, args.board, ptq, auto, speed, old, cores, note))
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
