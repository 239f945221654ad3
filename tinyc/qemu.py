"""Run tinyc firmware in QEMU (semihosting) and parse what the harness prints.

Harness output (one line each, `key=value` fields separated by spaces, numbers in decimal):

    tinyc begin samples=N inputs=I outputs=O counter=tim2|systick|none overhead=T
    sample s=<i> ticks=<counter delta around invoke> stack=<stack bytes used by invoke>
    out s=<i> o=<k> hex=<output k of sample i, 2 lowercase hex digits per int8 byte>
    ...                                          (a `sample` line then O `out` lines, per sample)
    tinyc end stack_peak=<B> stack_invoke=<B> stack_size=<B>

then the firmware exits 0. `FAULT` + exit 127 means a fault handler ran. Instructions of one
invoke = ticks - overhead (two back-to-back counter reads) when counter=tim2 (netduinoplus2
under -icount shift=0: TIM2 counts instructions). QEMU counts instructions, not cycles.

Where the counter is SysTick, the count is not exact: under -icount shift=0 (1 instruction =
1 ns) SysTick ticks once per board.qemu.insns_per_tick instructions (1 GHz over the machine's
SysTick clock), so QemuResult.estimated_instructions = ticks x that ratio, within one tick.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from tinyc.errors import BoardError, TinycError, ToolchainError
from tinyc.firmware import MemoryOverflow, sample_stride, build_firmware, find_tool, symbol_at

if TYPE_CHECKING:
    from tinyc.target import Board

ICOUNT = "shift=0,align=off,sleep=off"
CFSR_BITS = {0: "instruction access violation", 1: "data access violation",
             4: "stack overflow (MemManage on exception entry)", 8: "instruction bus error",
             9: "bus error (bad data address)", 10: "imprecise bus error",
             12: "stack overflow (bus error on exception entry)", 16: "undefined instruction",
             17: "invalid state", 18: "invalid PC on return", 19: "no coprocessor (FPU off)",
             24: "unaligned access", 25: "division by zero"}
EXIT_FAULT, EXIT_TIMEOUT, EXIT_KILLED, EXIT_LOCKUP = 127, 124, 137, 134
@dataclass
class QemuResult:
    """What one or more firmware runs printed, parsed."""
    outputs: list[list[np.ndarray]]         # [sample][output] flat int8 arrays
    instructions: list[int] | None          # per sample; None if the counter is not exact
    ticks: list[int]                        # raw counter delta per sample (tim2/systick/none)
    stack_peak_bytes: int                   # whole firmware's stack peak (from reset)
    stack_invoke_bytes: int                 # stack used by invoke alone (below the harness)
    exit_code: int
    stdout: str
    counter: str = "none"
    runs: int = 1                           # QEMU runs (more than 1 when samples were batched)
    elfs: list[Path] = field(default_factory=list)
    insns_per_tick: float | None = None     # SysTick: instructions per tick (QemuTarget)

    @property
    def estimated_instructions(self) -> list[int] | None:
        """Per sample: the exact count, else SysTick ticks x instructions per tick (within
        one tick), else None (no counter, or a machine whose ratio is not known)."""
        if self.instructions is not None:
            return self.instructions
        if self.insns_per_tick is None:
            return None
        return [round(t * self.insns_per_tick) for t in self.ticks]

    def describe_count(self, board_name: str) -> str:
        """One line: instructions per inference, and how they were counted."""
        counts = self.estimated_instructions
        if counts is None:
            return (f"instructions per inference on {board_name}: not counted — the board has "
                    f"no instruction counter in QEMU (counter {self.counter}); exact counts "
                    "on stm32")
        span = (f" (min {min(counts):,}, max {max(counts):,})" if len(counts) > 1 else "")
        if self.instructions is not None:
            return (f"instructions per inference on {board_name} (QEMU, not cycles): "
                    f"{counts[0]:,}{span}")
        return (f"instructions per inference on {board_name} (QEMU, not cycles): about "
                f"{counts[0]:,}{span} — no exact counter on this board: SysTick ticks x "
                f"{self.insns_per_tick:g} instructions per tick (-icount shift=0), within "
                f"{self.insns_per_tick:g}; exact counts on stm32")


def counter_note(board: Board) -> str:
    """'' when the board counts instructions exactly in QEMU; else one sentence on what its
    counts are (SysTick ticks x instructions per tick) or that there are none."""
    if board.exact_instructions:
        return ""
    ratio = (board.qemu.insns_per_tick if board.qemu else None)
    if board.counter == "systick" and ratio:
        return (f"{board.name} has no exact instruction counter in QEMU: instructions are "
                f"SysTick ticks x {ratio:g} instructions per tick (-icount shift=0), within "
                f"{ratio:g} per reading; exact counts on stm32")
    return (f"{board.name} has no instruction counter in QEMU (counter {board.counter}): "
            "instructions are not measured (-); exact counts on stm32")


def qemu_command(elf: Path, board: Board, extra: Sequence[str] = ()) -> list[str]:
    """The QEMU command line of tests/qemu_harness/run.sh (without the timeout wrapper)."""
    if not board.qemu_machine:
        raise BoardError(f"board {board.name}: no QEMU machine — expected a board with "
                         "qemu_machine set to run firmware.")
    return [find_tool("qemu-system-arm"), "-M", board.qemu_machine, "-display", "none",
            "-monitor", "none", "-serial", "null", "-icount", ICOUNT,
            "-chardev", "stdio,id=sh0",
            "-semihosting-config", "enable=on,target=native,chardev=sh0",
            "-kernel", str(elf), *extra]


def run_qemu(elf: Path, board: Board | str, timeout: float = 60.0,
             extra_args: Sequence[str] = ()) -> QemuResult:
    """Run a firmware built by build_firmware once, with a hard timeout (seconds)."""
    from tinyc.target import load_board
    board = load_board(board)
    cmd = qemu_command(Path(elf), board, extra_args)
    wrapper = shutil.which("timeout")
    if wrapper:                             # as run.sh: 124 on timeout, SIGKILL 5 s later
        cmd = [wrapper, "-k", "5", str(timeout), *cmd]
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              errors="replace", timeout=timeout + 10)
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired:
        rc, out, err = EXIT_TIMEOUT, "", ""
    if rc != 0:
        _raise_qemu_error(board, Path(elf), rc, out, err, timeout)
    res = parse_output(out)
    res.exit_code, res.elfs = rc, [Path(elf)]
    if res.counter == "systick":
        res.insns_per_tick = (board.qemu.insns_per_tick if board.qemu else None)
    return res


def _raise_qemu_error(board: Board, elf: Path, rc: int, out: str, err: str,
                      timeout: float) -> None:
    done = out.count("\nsample ") + out.startswith("sample ")
    where = f"QEMU {board.qemu_machine} running {elf.name} (after {done} samples)"
    tail = "\n".join((out + err).strip().splitlines()[-8:])
    fault = re.search(r"FAULT pc=0x([0-9a-f]+) cfsr=0x([0-9a-f]+)", out)
    if rc == EXIT_FAULT and fault:
        func = symbol_at(elf, int(fault[1], 16))
        cfsr = int(fault[2], 16)
        why = ", ".join(n for bit, n in CFSR_BITS.items() if cfsr >> bit & 1) or "unknown cause"
        what = (f"the firmware faulted (exit 127, FAULT) at pc 0x{fault[1]} in {func or '?'}: "
                f"{why}")
    elif rc in (EXIT_TIMEOUT, EXIT_KILLED):
        what = f"timed out after {timeout:g} s (exit {rc}): the firmware hangs or is too slow"
    elif rc == EXIT_LOCKUP:
        what = "CPU lockup (exit 134, a fault inside a fault handler)"
    else:
        what = f"exit {rc} — expected 0"
    raise ToolchainError(f"{where}: {what}.\n{tail}")


def _fields(line: str) -> dict[str, str]:
    return dict(tok.split("=", 1) for tok in line.split()[1:] if "=" in tok)


def parse_output(stdout: str) -> QemuResult:
    """Parse the harness output (format in the module docstring)."""
    begin = end = None
    ticks, stacks, outs = [], [], {}
    for line in stdout.splitlines():
        if line.startswith("tinyc begin"):
            begin = _fields(line)
        elif line.startswith("tinyc end"):
            end = _fields(line)
        elif line.startswith("sample "):
            f = _fields(line)
            ticks.append(int(f["ticks"]))
            stacks.append(int(f["stack"]))
        elif line.startswith("out "):
            f = _fields(line)
            outs[int(f["s"]), int(f["o"])] = np.frombuffer(bytes.fromhex(f["hex"]), np.int8)
    if begin is None or end is None:
        raise ToolchainError(f"QEMU: harness output incomplete — expected 'tinyc begin' and "
                             f"'tinyc end' lines, got:\n{stdout[-2000:]}")
    n, n_out, counter = int(begin["samples"]), int(begin["outputs"]), begin["counter"]
    if counter == "systick":
        ticks = [t & 0xFFFFFF for t in ticks]
    overhead = int(begin["overhead"])
    result = QemuResult(
        outputs=[[outs[s, o] for o in range(n_out)] for s in range(n)],
        instructions=[t - overhead for t in ticks] if counter == "tim2" else None,
        ticks=ticks, stack_peak_bytes=int(end["stack_peak"]),
        stack_invoke_bytes=int(end["stack_invoke"]), exit_code=0, stdout=stdout,
        counter=counter)
    if result.stack_peak_bytes >= int(end["stack_size"]):
        raise BoardError(f"firmware: stack overflow — expected at most {end['stack_size']} B "
                         f"of stack, the model used all of it. Raise stack_size in the board.")
    return result


def run_samples(c_dir: Path, board: Board | str, inputs: Sequence[Sequence[np.ndarray]],
                out_dir: Path, name: str = "tinyc_model",
                n_outputs_bytes: Sequence[int] | None = None, timeout: float = 60.0,
                max_per_run: int | None = None) -> QemuResult:
    """Build and run the model on every sample; batch across several firmware runs when the
    samples do not fit the board's flash together (or exceed max_per_run)."""
    from tinyc.target import load_board
    board, out_dir, samples = load_board(board), Path(out_dir), list(inputs)
    if not samples:
        raise TinycError("run_samples: no samples — expected at least one sample.")
    per_run = max_per_run or len(samples)
    results, start = [], 0
    while start < len(samples):
        chunk = samples[start:start + per_run]
        try:
            elf = build_firmware(c_dir, board, chunk, out_dir / f"run{len(results)}", name,
                                 n_outputs_bytes)
        except MemoryOverflow as e:
            per_run = _fewer(e, chunk)
            continue
        results.append(run_qemu(elf, board, timeout))
        start += len(chunk)
    return merge(results)


def _fewer(e: MemoryOverflow, chunk: list) -> int:
    """How many samples fit, given how far `chunk` overflowed flash."""
    per_sample = sum(sample_stride(np.asarray(x).size) for x in chunk[0])
    fit = len(chunk) - (e.overflow + 64 + per_sample - 1) // per_sample
    if e.region != "FLASH" or len(chunk) == 1:
        raise e
    if fit < 1:
        fit = 1                             # one more try with a single sample; it may raise
    return min(fit, len(chunk) - 1)


def merge(results: list[QemuResult]) -> QemuResult:
    """One result from several runs, samples in order."""
    exact = all(r.instructions is not None for r in results)
    return QemuResult(
        outputs=[o for r in results for o in r.outputs],
        instructions=[i for r in results for i in r.instructions] if exact else None,
        ticks=[t for r in results for t in r.ticks],
        stack_peak_bytes=max(r.stack_peak_bytes for r in results),
        stack_invoke_bytes=max(r.stack_invoke_bytes for r in results),
        exit_code=max(r.exit_code for r in results), stdout="".join(r.stdout for r in results),
        counter=results[0].counter, runs=len(results), elfs=[e for r in results for e in r.elfs],
        insns_per_tick=results[0].insns_per_tick)
