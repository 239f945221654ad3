"""Cortex-M4 cycle estimate of a QEMU run (QEMU counts instructions, not cycles).

How: a TCG plugin (`tinyc/qemu_plugin/tinyc_cycles.c`, built on first use with the host's
`gcc -O2 -shared -fPIC` into a cache folder) records how often execution went from each
translation block to each other one, and which halfword/word loads and stores were not
aligned. This module disassembles the ELF (`arm-none-eabi-objdump -d`), gives each executed
instruction its Cortex-M4 timing and applies the context rules along the recorded paths.
Exact for what it models; what it does not model is listed below.

Timings: Cortex-M4 TRM r0p1 (ARM DDI 0439B), table 3-1 "Cortex-M4 instruction set summary"
and section 3.3.2 "Load/store timings", zero wait states:

* data processing, MOVW/MOVT, shifts, saturate, bit-field, SIMD, CLZ, REV: 1. MUL, MLA, MLS,
  UMULL/SMULL/UMLAL/SMLAL/UMAAL, SMLA**/SMLAD/SMLALD/SMMLA/SMUAD...: 1 (the M4's single-cycle
  MAC; the M3's 2..7 do not apply).
* SDIV/UDIV: 2..12 depending on the operands, which the profile does not have: DIV_CYCLES (7,
  the middle of the range) each.
* LDR/LDRH/LDRB/LDRSH/LDRSB/LDREX/STREX (single loads): 2, but 1 when the previous instruction
  was such a load and its loaded register is not a base/offset register of this one ("LDR [any]
  are pipelined when possible"; "more multiple LDRs can be pipelined together").
* STR/STRH/STRB (single stores): 1 ("STR Rx,[Ry,#imm] is always one cycle ... the data store
  is performed at the same time as the next instruction"; with a preceding LDR the TRM's
  examples also count 1). Nothing is pipelined after a store (a load after a store costs 2).
* LDRD/STRD: 1 + 2 = 3; LDM/STM/PUSH/POP: 1 + N (N registers); not pipelined with neighbours.
* Unaligned halfword/word loads: + 1 cycle per extra bus access (halfword at an odd address +1,
  word at address 2 mod 4 +1, at 1 or 3 mod 4 +2). Unaligned stores: + 0 ("a STR or STRH
  cannot delay the processor because of the write buffer").
* Branches: not taken 1; taken 1 + P. The TRM gives P = 1..3 "depending on the alignment and
  width of the target instruction, and whether the processor manages to speculate the address
  early", without saying which case gets which. Implemented: P = 2 for branches to an
  immediate or register target (B, B<c>, BL, CBZ/CBNZ, BX, BLX, MOV/ADD PC: a taken B costs 3),
  + 1 when the target instruction is 32-bit and starts at an address 2 mod 4 (it needs two
  fetches); P = 3 ("three cycles for the pipeline reload") for targets loaded from memory
  (POP/LDM with PC: 1 + N + 3, LDR PC: 2 + 3). TBB/TBH: 2 (load) + 1 (add) + 3 = 6. P = 1 for
  immediate branches (the other reading) estimates the pqm4 cases about 1.3 points lower (all
  of them below the real counts); BENCHMARKS_NOTES.md shows both.
* IT: 0 when it folds into the preceding 16-bit instruction (executed just before it, not a
  taken branch), else 1.
* Floating point (FPv4-SP): VLDR/VSTR 2, VLDM/VSTM/VPUSH/VPOP 1 + N words, VDIV/VSQRT 14,
  VMLA/VMLS/VNMLA/VNMLS/VFMA/VFMS/VFNMA/VFNMS 3, VMOV of two core registers 2, others 1.
* ISB 1 + 3; DMB/DSB and the rest: 1.

Not modelled: instructions whose condition fails inside an IT block (counted as executed; the
plugin records blocks, not conditions), "LDR Rx,[PC,#imm] might add a cycle" (contention with
the fetch), bus stalls from peripherals, exception entry/exit, flash wait states beyond a
simple `wait_states` option (added to every pipeline refill: with an instruction cache or
prefetch that hides sequential fetches, a refill still waits for flash).

Validation (real-board cycle counts of hand-written M4 assembly from pqm4):
BENCHMARKS_NOTES.md, section "Cycle estimate". Cores other than the Cortex-M4 use this model
too, flagged (`CycleEstimate.model`).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Container, Sequence

from .errors import ToolchainError

DIV_CYCLES = 7
MODEL = "Cortex-M4 (ARM DDI 0439B, zero wait states)"
VALIDATED_CORES = ("cortex-m4",)
PLUGIN_DIR = Path(__file__).parent / "qemu_plugin"
PLUGIN_SOURCES = ("tinyc_cycles.c", "qemu_plugin_api.h")

CONDS = {"eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt",
         "gt", "le", "al"}
REG_ALIAS = {"sb": "r9", "sl": "r10", "fp": "r11", "ip": "r12", "sp": "r13", "lr": "r14",
             "pc": "r15"}
SINGLE_LOADS = {"ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrt", "ldrbt", "ldrht", "ldrsbt",
                "ldrsht", "ldrex", "ldrexb", "ldrexh", "strex", "strexb", "strexh"}
SINGLE_STORES = {"str", "strb", "strh", "strt", "strbt", "strht"}
MULTI = {"ldm", "ldmia", "ldmfd", "ldmdb", "ldmea", "stm", "stmia", "stmea", "stmdb", "stmfd",
         "push", "pop"}
IMM_BRANCHES = {"b", "bl", "cbz", "cbnz"}
REG_BRANCHES = {"bx", "blx"}
VFP_MULTI = {"vldm", "vldmia", "vldmdb", "vstm", "vstmia", "vstmdb", "vpush", "vpop"}
VFP_3 = {"vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms", "vfnma", "vfnms"}

# instruction kinds
ALU, LOAD, STORE, DOUBLE, MULTIPLE, BRANCH, IT = range(7)
# how a branch gets its target: immediate, register, from memory
P_IMM, P_REG, P_MEM = 2, 2, 3


@dataclass(frozen=True)
class Insn:
    addr: int
    size: int                       # 2 or 4 bytes
    mnemonic: str                   # without condition, .w/.n
    kind: int
    cycles: int                     # base cost, branch refill excluded
    refill: int = 0                 # P when it branches (0: not a branch)
    dest: frozenset = frozenset()   # registers a load writes
    addr_regs: frozenset = frozenset()
    func: str = "?"
    target: str = ""                # symbol a BL/B calls ("" if none)


def _regs(text: str) -> list[str]:
    out = []
    for tok in re.findall(r"\b(r\d+|sb|sl|fp|ip|sp|lr|pc)(?:\s*-\s*(r\d+))?", text):
        a = REG_ALIAS.get(tok[0], tok[0])
        if tok[1]:
            out += [f"r{i}" for i in range(int(a[1:]), int(tok[1][1:]) + 1)]
        else:
            out.append(a)
    return out


def _n_list(ops: str) -> int:
    inner = ops[ops.find("{") + 1:ops.find("}")] if "{" in ops else ""
    n = 0
    for part in filter(None, (p.strip() for p in inner.split(","))):
        m = re.fullmatch(r"([rsd])(\d+)\s*-\s*[rsd](\d+)", part)
        width = 2 if part.startswith("d") else 1
        n += width * (int(m[3]) - int(m[2]) + 1) if m else (width if part[0] in "sd" else 1)
    return n


def classify(addr: int, size: int, mnemonic: str, ops: str, func: str = "?") -> Insn:
    """One instruction's static timing (see the module docstring)."""
    m = mnemonic.lower().split(".")[0]
    sym_ops = ops
    ops = ops.split("@")[0].strip().lower()
    known = (SINGLE_LOADS | SINGLE_STORES | MULTI | IMM_BRANCHES | REG_BRANCHES | {"ldrd", "strd"})
    if m not in known and m[-2:] in CONDS and m[:-2] in known:
        m = m[:-2]
    regs = _regs(ops)
    mk = lambda kind, cyc, **kw: Insn(addr, size, m, kind, cyc, func=func, **kw)  # noqa: E731
    if re.fullmatch(r"it[te]{0,3}", m):
        return mk(IT, 1)
    if m in IMM_BRANCHES:
        sym = re.search(r"<([^>+]+)>", sym_ops)
        return mk(BRANCH, 1, refill=P_IMM, target=sym[1] if sym else "")
    if m in REG_BRANCHES:
        return mk(BRANCH, 1, refill=P_REG)
    if m in ("tbb", "tbh"):
        return mk(BRANCH, 3, refill=P_MEM)
    if m in SINGLE_LOADS or m in SINGLE_STORES:
        brk = ops[ops.find("["):] if "[" in ops else ""
        addr_regs = frozenset(_regs(brk))
        if m in SINGLE_STORES:
            return mk(STORE, 1, addr_regs=addr_regs)
        dest = frozenset(regs[:1])
        if "r15" in dest:
            return mk(BRANCH, 2, refill=P_MEM, addr_regs=addr_regs)
        return mk(LOAD, 2, dest=dest, addr_regs=addr_regs)
    if m in ("ldrd", "strd", "ldrexd", "strexd"):
        return mk(DOUBLE, 3)
    if m in MULTI:
        n = _n_list(ops)
        if m != "push" and not m.startswith("st") and "r15" in _regs(ops[ops.find("{"):]):
            return mk(BRANCH, 1 + n, refill=P_MEM)
        return mk(MULTIPLE, 1 + n)
    if m in ("sdiv", "udiv"):
        return mk(ALU, DIV_CYCLES)
    if m.startswith("v"):
        if m in VFP_MULTI:
            return mk(MULTIPLE, 1 + _n_list(ops))
        if m in ("vldr", "vstr"):
            return mk(MULTIPLE, 2)
        if m in ("vdiv", "vsqrt"):
            return mk(ALU, 14)
        if m in VFP_3:
            return mk(ALU, 3)
        if m == "vmov" and len([r for r in regs if r.startswith("r")]) == 2:
            return mk(ALU, 2)
        return mk(ALU, 1)
    if m == "isb":
        return mk(ALU, 4)
    if m in ("mov", "add") and regs and regs[0] == "r15":
        return mk(BRANCH, 1, refill=P_REG)
    return mk(ALU, 1)


def cost_after(insn: Insn, prev: Insn | None) -> int:
    """Cycles of `insn` when `prev` was executed just before it, falling through (None: after
    a taken branch or at the start)."""
    if insn.kind == IT:
        return 0 if prev is not None and prev.size == 2 else 1
    if insn.kind in (LOAD, STORE) and prev is not None and prev.kind == LOAD \
            and not (prev.dest & insn.addr_regs):
        return 1
    return insn.cycles


def refill(insn: Insn, target: Insn | None, wait_states: int = 0) -> int:
    """P of a taken branch `insn` landing on `target`."""
    misaligned = target is not None and target.size == 4 and target.addr % 4 == 2
    return insn.refill + misaligned + wait_states


def unaligned_penalty(insn: Insn, size: int, offset: int) -> int:
    """Extra cycles of one unaligned access by `insn` (loads only, see module docstring)."""
    if insn.kind != LOAD:
        return 0
    return 1 if size == 2 or offset == 2 else 2


# ---------------------------------------------------------------- disassembly

_LINE = re.compile(r"^\s*([0-9a-f]+):\s+([0-9a-f]{4})(?: ([0-9a-f]{4}))?\s+(\S+)[ \t]*(.*)$")
_FUNC = re.compile(r"^([0-9a-f]+) <(.+)>:$")


def disassemble(elf: Path) -> dict[int, Insn]:
    """Every Thumb instruction of the ELF's code, by address."""
    from .firmware import find_tool
    out = subprocess.run([find_tool("arm-none-eabi-objdump"), "-d", str(elf)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise ToolchainError(f"arm-none-eabi-objdump -d {elf}: failed — {out.stderr.strip()}")
    return parse_objdump(out.stdout)


def parse_objdump(text: str) -> dict[int, Insn]:
    insns, func = {}, "?"
    for line in text.splitlines():
        f = _FUNC.match(line)
        if f:
            func = f[2]
            continue
        m = _LINE.match(line)
        if not m or m[4].startswith("."):
            continue
        addr = int(m[1], 16)
        insns[addr] = classify(addr, 4 if m[3] else 2, m[4], m[5], func)
    return insns


# ---------------------------------------------------------------- the plugin


def cache_dir() -> Path:
    base = os.environ.get("TINYC_CACHE") or os.environ.get("XDG_CACHE_HOME") \
        or str(Path.home() / ".cache")
    return Path(base) / ("tinyc" if "TINYC_CACHE" not in os.environ else "") / "qemu-plugin"


def plugin_path() -> Path:
    """The plugin .so, built with the host C compiler on first use (never downloaded)."""
    src = b"".join((PLUGIN_DIR / f).read_bytes() for f in PLUGIN_SOURCES)
    so = cache_dir() / hashlib.sha256(src).hexdigest()[:16] / "libtinyc_cycles.so"
    if so.is_file():
        return so
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    if not cc:
        raise ToolchainError("cycle estimate: no host C compiler to build the QEMU plugin "
                             "(tinyc/qemu_plugin/tinyc_cycles.c) — expected gcc on PATH. "
                             "Install it (Debian/Ubuntu): apt-get install gcc")
    so.parent.mkdir(parents=True, exist_ok=True)
    tmp = so.with_name(f".{os.getpid()}.so")
    proc = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(tmp),
                           str(PLUGIN_DIR / "tinyc_cycles.c")], capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolchainError(f"cycle estimate: building the QEMU plugin with {cc} failed — "
                             f"expected a host C compiler for shared objects.\n{proc.stderr}")
    os.replace(tmp, so)
    return so


def plugin_args(profile: Path, marks: Sequence[int] = ()) -> list[str]:
    """QEMU arguments that load the plugin, writing `profile` at exit."""
    arg = f"{plugin_path()},out={profile}"
    if marks:
        arg += ",mark=" + ":".join(f"0x{a:x}" for a in marks)
    return ["-plugin", arg]


# ---------------------------------------------------------------- the estimate


@dataclass
class CycleEstimate:
    cycles: int                                 # of the windows asked for
    instructions: int
    per_function: dict[str, int]
    per_window: list[int] = field(default_factory=list)         # cycles, every window
    per_window_insns: list[int] = field(default_factory=list)
    core: str = "cortex-m4"
    unaligned: int = 0                          # unaligned load cycles included

    @property
    def model(self) -> str:
        return model_name(self.core)

    @property
    def cpi(self) -> float:
        return self.cycles / self.instructions if self.instructions else 0.0


def model_name(core: str) -> str:
    """The cycle model an estimate for `core` uses, flagged when it is not validated for it."""
    flag = "" if core in VALIDATED_CORES else f"; {core} has no validated model: M4 model used"
    return MODEL + flag


def read_profile(path: Path):
    tbs, edges, unal = {}, [], []
    for line in Path(path).read_text().splitlines():
        p = line.split()
        if p[0] == "tb":
            tbs[int(p[1])] = (int(p[2], 16), int(p[3], 16), int(p[4]))
        elif p[0] == "e":
            edges.append((int(p[1]), int(p[2]), int(p[3]), int(p[4])))
        elif p[0] == "ua":
            unal.append((int(p[1]), int(p[2], 16), int(p[3]), int(p[4]), int(p[5])))
    return tbs, edges, unal


def estimate(elf: Path, profile: Path, windows: Container[int] | None = None,
             core: str = "cortex-m4", wait_states: int = 0,
             insns: dict[int, Insn] | None = None) -> CycleEstimate:
    """Cycles of the run recorded in `profile` (of `elf`): of the windows listed (all: None)."""
    insns = disassemble(elf) if insns is None else insns
    tbs, edges, unal = read_profile(profile)
    seqs = {i: _block(insns, s, e) for i, (s, e, _) in tbs.items()}
    cost_cache: dict = {}
    want = windows                          # a container (a range works: `in` is O(1))
    n_win = 1 + max((w for w, *_ in edges), default=0)
    per_win, per_win_insns = [0] * n_win, [0] * n_win
    funcs: dict[str, int] = defaultdict(int)
    total = n = 0
    for w, a, b, count in edges:
        seq = seqs[b]
        if b not in cost_cache:
            cost_cache[b] = _block_cost(seq)
        cyc, by_func = cost_cache[b]
        extra = 0
        if a >= 0 and seqs[a] and seq:
            last, first = seqs[a][-1], seq[0]
            taken = tbs[b][0] != tbs[a][1]
            if taken and last.refill:
                extra += refill(last, first, wait_states)
            elif not taken:
                extra += cost_after(first, last) - cost_after(first, None)
        c = count * (cyc + extra)
        per_win[w] += c
        per_win_insns[w] += count * len(seq)
        if want is None or w in want:
            total += c
            n += count * len(seq)
            for f, fc in by_func:
                funcs[f] += count * fc
            if extra:
                funcs[seqs[a][-1].func] += count * extra
    ua_cycles = 0
    for w, pc, size, off, count in unal:
        i = insns.get(pc)
        c = count * unaligned_penalty(i, size, off) if i else 0
        if w < n_win:
            per_win[w] += c
        if c and (want is None or w in want):
            ua_cycles += c
            funcs[i.func] += c
    return CycleEstimate(total + ua_cycles, n, dict(sorted(funcs.items(), key=lambda x: -x[1])),
                         per_win, per_win_insns, core, ua_cycles)


def _block(insns: dict[int, Insn], start: int, end: int) -> list[Insn]:
    seq, a = [], start
    while a < end:
        i = insns.get(a)
        if i is None:                       # not in the disassembly (data, or a veneer): ALU
            i = Insn(a, 2, "?", ALU, 1)
        seq.append(i)
        a += i.size
    return seq


def _block_cost(seq: list[Insn]) -> tuple[int, list[tuple[str, int]]]:
    by_func: dict[str, int] = defaultdict(int)
    prev = None
    for i in seq:
        by_func[i.func] += cost_after(i, prev)
        prev = i
    return sum(by_func.values()), list(by_func.items())


def entry(insns: dict[int, Insn], func: str) -> int:
    """Address of a function's first instruction."""
    addrs = [a for a, i in insns.items() if i.func == func]
    if not addrs:
        raise ToolchainError(f"cycle estimate: function {func} not in the disassembly")
    return min(addrs)


def returns_from(insns: dict[int, Insn], func: str) -> list[int]:
    """Addresses right after each `bl func`: where execution returns to."""
    return sorted(a + i.size for a, i in insns.items() if i.mnemonic == "bl" and i.target == func)


def run(elf: Path, board, marks: Sequence[int] = (), timeout: float = 120.0,
        insns: dict[int, Insn] | None = None, wait_states: int = 0,
        windows: Container[int] | None = None):
    """Run `elf` in QEMU with the plugin: (QemuResult or None for a bare ELF, CycleEstimate,
    stdout). The ELF need not be a tinyc firmware (tests, validation): then QemuResult is None."""
    from .qemu import qemu_command
    from .target import load_board
    board = load_board(board)
    insns = disassemble(elf) if insns is None else insns
    with tempfile.TemporaryDirectory(prefix="tinyc-cycles-") as tmp:
        prof = Path(tmp) / "profile.txt"
        cmd = qemu_command(Path(elf), board, plugin_args(prof, marks))
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  errors="replace", timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ToolchainError(f"QEMU {board.qemu_machine} with the cycle plugin running "
                                 f"{Path(elf).name}: timed out after {timeout:g} s — expected "
                                 "the firmware to exit by itself") from None
        if proc.returncode != 0 or not prof.is_file():
            raise ToolchainError(f"QEMU {board.qemu_machine} with the cycle plugin running "
                                 f"{Path(elf).name}: exit {proc.returncode} — expected 0.\n"
                                 f"{(proc.stdout + proc.stderr)[-2000:]}")
        est = estimate(elf, prof, windows, board.core, wait_states, insns)
    return est, proc.stdout


# ---------------------------------------------------------------- tinyc firmware


def invoke_marks(insns: dict[int, Insn], name: str, layers: bool = False) -> list[int]:
    """Window marks of a tinyc harness: `<name>_invoke`'s entry and its return points; with
    `layers`, also the entry of the profiling hook (called before each layer and at the end)."""
    fn = f"{name}_invoke"
    hook = [entry(insns, "tinyc_profile_hook")] if layers else []
    return [entry(insns, fn), *hook, *returns_from(insns, fn)]


@dataclass
class SampleCycles:
    cycles: list[int]                   # per sample, of the invoke call
    instructions: list[int]             # per sample, the plugin's count (invoke call)
    first: CycleEstimate                # sample 0, with its per-function split
    layers: list[int] = field(default_factory=list)     # per layer (profiling firmware)


def firmware_cycles(elfs: Sequence[Path], board, name: str, timeout: float = 120.0,
                    layers: int = 0) -> SampleCycles:
    """Re-run the firmware(s) of a QemuResult (`result.elfs`, samples in order) with the plugin.
    Without `layers`, window 2s+1 is sample s's invoke. With `layers` = L (an ELF built with
    profile=True, one sample): window 1 is the invoke up to the first hook, window i+2 is layer
    i (the hook's own cost included, as with the instruction counts), window L+2 the rest."""
    from .target import load_board
    board = load_board(board)
    cyc, ins, first = [], [], None
    for elf in elfs:
        insns = disassemble(elf)
        marks = invoke_marks(insns, name, bool(layers))
        est, out = run(elf, board, marks, timeout, insns, windows=range(1, layers + 3) if
                       layers else [1])
        first = first or est
        if layers:
            return SampleCycles([est.cycles], [est.instructions], est,
                                est.per_window[2:layers + 2])
        n = sum(1 for line in out.splitlines() if line.startswith("sample "))
        cyc += [est.per_window[2 * s + 1] for s in range(n)]
        ins += [est.per_window_insns[2 * s + 1] for s in range(n)]
    return SampleCycles(cyc, ins, first)


def energy_keys(cycles: int | None, board) -> dict:
    """energy_uj (null when unavailable) and energy_model: the formula and its source, or why
    there is no figure (never guessed)."""
    power = board.power
    if cycles is None:
        return {"energy_uj": None, "energy_model": "unavailable: no cycle estimate"}
    if not power.available:
        return {"energy_uj": None, "energy_model": f"unavailable: board {board.name}: {power.note}"}
    return {"energy_uj": round(power.energy_uj(cycles), 3),
            "energy_model": f"run current {power.run_current_ua_per_mhz:g} µA/MHz x "
                            f"{power.supply_v:g} V x cycles ({power.source}); core only, typical"}


def report_keys(cycles: int | None, board, reason: str = "not estimated") -> dict:
    """report.json's keys for a QEMU run: estimated cycles, latency at the board's clock, energy
    per inference; null with the reason in cycle_model / energy_model when not estimated."""
    if cycles is None:
        return {"estimated_cycles": None, "latency_ms": None, "cycle_model": reason,
                **energy_keys(None, board)}
    return {"estimated_cycles": int(cycles),
            "latency_ms": round(cycles * 1e3 / board.clock_hz, 4),
            "cycle_model": model_name(board.core), **energy_keys(cycles, board)}


def layer_keys(cycles: int, board) -> dict:
    """The per-layer columns of report.json's layer table."""
    keys = report_keys(cycles, board)
    return {k: keys[k] for k in ("estimated_cycles", "latency_ms", "energy_uj")}


def model_report(result, model) -> dict:
    """report_keys of sample 0 of a QemuResult of `model` (null values when it cannot be
    estimated: the reason is in 'cycle_model')."""
    try:
        return report_keys(firmware_cycles(result.elfs[:1], model.board, model.name).cycles[0],
                           model.board)
    except ToolchainError as e:
        return report_keys(None, model.board, f"not estimated: {str(e).splitlines()[0]}")


def profile_layers(model, c_dir: Path, work: Path) -> list[int]:
    """Estimated cycles of each layer of one inference on all-zero input (the firmware built
    with -DTINYC_PROFILE: the hook's own cost is in each layer's count)."""
    import numpy as np

    from .firmware import build_firmware
    zeros = [np.full(s.shape, s.zero_point, np.int8) for s in model.inputs]
    n = len(model.graph.nodes)
    elf = build_firmware(c_dir, model.board, [zeros], Path(work) / "profile", name=model.name,
                         profile=True, profile_layers=n + 1)
    return firmware_cycles([elf], model.board, model.name, layers=n).layers


def add_layer_cycles(model, per_layer: Sequence[int]) -> None:
    """Fill report.json's layer table with each layer's cycles, latency, energy and share."""
    total = sum(per_layer) or 1
    for row, c in zip(model.report["layers"], per_layer):
        row.update(layer_keys(c, model.board), cycles_percent=round(100.0 * c / total, 2))


def describe(cycles: int, instructions: int | None, board) -> str:
    """One line for `tinyc run`: estimated cycles and latency at the board's clock."""
    keys = report_keys(cycles, board)
    cpi = f", {cycles / instructions:.2f} cycles/instruction" if instructions else ""
    energy = f", {keys['energy_uj']:,.1f} µJ" if keys["energy_uj"] is not None else ""
    return (f"estimated cycles per inference: {cycles:,}{cpi} = {keys['latency_ms']:.3f} ms at "
            f"{board.clock_hz / 1e6:g} MHz ({keys['cycle_model']}){energy}")


def print_run_estimate(model) -> None:
    """`tinyc run`: the estimated cycles and latency of the first sample's inference."""
    res = model.last_qemu
    try:
        est = firmware_cycles(res.elfs[:1], model.board, model.name)
    except ToolchainError as e:             # the run itself worked: say why, do not fail it
        print(f"estimated cycles: not available — {e}")
        return
    counts = res.instructions or est.instructions
    print(describe(est.cycles[0], counts[0] if counts else None, model.board))


def bench_cycles(m, work: Path, layers: bool) -> tuple[int, list[int]]:
    """For tinyc bench, after m.write(measure=True), m.run_qemu on the all-zero input and
    (layers) bench.layer_instructions: the estimated cycles of the inference (the measure
    run's, same input, when it has them), and per layer (the profiling firmware in
    work/profile)."""
    total = m.report.get("estimated_cycles") or \
        firmware_cycles(m.last_qemu.elfs[:1], m.board, m.name).cycles[0]
    per = firmware_cycles([Path(work) / "profile" / f"{m.name}.elf"], m.board, m.name,
                          layers=len(m.graph.nodes)).layers if layers else []
    return total, per


def main(argv: Sequence[str] | None = None) -> int:
    """python -m tinyc.cycles ELF [--board B] [--function F] [--wait-states W]: the estimate
    of any firmware that exits by itself in QEMU (total, or the calls of F), per function."""
    import argparse
    ap = argparse.ArgumentParser(prog="python -m tinyc.cycles", description=main.__doc__)
    ap.add_argument("elf", type=Path)
    ap.add_argument("--board", default="stm32f405")
    ap.add_argument("--function", help="count only the calls of this function (entry to return)")
    ap.add_argument("--wait-states", type=int, default=0)
    ap.add_argument("--top", type=int, default=15, help="functions shown")
    args = ap.parse_args(argv)
    insns = disassemble(args.elf)
    marks = [entry(insns, args.function), *returns_from(insns, args.function)] \
        if args.function else []
    calls = range(1, 1 << 20, 2) if args.function else None   # windows 1, 3, 5...: the calls
    est, _ = run(args.elf, args.board, marks, insns=insns, wait_states=args.wait_states,
                 windows=calls)
    print(f"{args.elf.name}: {est.cycles:,} estimated cycles, {est.instructions:,} instructions "
          f"(CPI {est.cpi:.3f}), unaligned-load cycles {est.unaligned:,}; model: {est.model}")
    for f, c in list(est.per_function.items())[:args.top]:
        print(f"  {c:>14,}  {100 * c / max(est.cycles, 1):5.1f}%  {f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
