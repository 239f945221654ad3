"""Target boards: a chip's data (`boards/<name>.toml`, or your own file). Building firmware
is `tinyc.firmware`, running it `tinyc.qemu`; both read boards from here.

    board = load_board("stm32")                 # alias of stm32f405 (QEMU netduinoplus2)
    board = load_board("my_board.toml")         # your own chip (schema: docs/boards.md)
    plan = place_memory(board, arena=150_000)   # which RAM region holds the arena, the stack...

A board has two memory maps: the chip's (`board.memory`: the linker script written next to
the generated C and every fit check) and where QEMU's machine has those regions
(`board.qemu.memory`: same names and sizes, bases moved and sizes capped to what the machine
models; regions the machine lacks are linked and sized, not run). QEMU machines are listed
once, in `boards/qemu_machines.toml`. Firmware building, sizes and the no-float check live in
`tinyc.firmware`; running in QEMU in `tinyc.qemu`. Both are re-exported here.
"""
from __future__ import annotations

try:
    import tomllib
except ModuleNotFoundError:         # Python 3.10
    import tomli as tomllib
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import tinyc.boards
from tinyc.errors import BoardError

BOARDS_DIR = Path(tinyc.boards.__file__).resolve().parent
MACHINES_FILE = BOARDS_DIR / "qemu_machines.toml"
FLOAT_ABIS = ("auto", "soft", "softfp", "hard")     # auto: hard with an FPU, else soft
COUNTERS = ("tim2", "systick", "none")
EXACT_COUNTERS = ("tim2",)          # counters that count executed instructions exactly
KINDS = ("flash", "ram")
CONTENTS = ("code", "data", "stack", "arena")   # what a region may hold (`holds`)
NOT_SIMULATED = "none"              # [qemu.base] value: the machine lacks this region
DEFAULT_STACK = 8192
ADDRESS_SPACE = 1 << 32


@dataclass(frozen=True)
class Region:
    """One memory of the chip: name, base address, size, and what tinyc may put there."""
    name: str                       # lower-case identifier; the linker script's upper-case
    kind: str                       # "flash" (read-only at run time) or "ram"
    base: int
    size: int
    holds: tuple[str, ...]          # of CONTENTS; empty: listed, tinyc puts nothing there
    dma: bool = True                # False: CPU only (e.g. the STM32F405's CCM)
    note: str = ""

    @property
    def end(self) -> int:
        return self.base + self.size

    def describe(self) -> str:
        """'sram 128 KiB @0x20000000 (data, stack, arena)'."""
        what = ", ".join(self.holds) or "nothing placed"
        return f"{self.name} {kib(self.size)} @0x{self.base:08x} ({what})"


@dataclass(frozen=True)
class QemuTarget:
    """The QEMU machine that simulates the chip's core, and the chip's regions in it."""
    machine: str                    # `qemu-system-arm -M`
    counter: str                    # in-firmware counter: tim2 | systick | none
    memory: tuple[Region, ...]      # the chip's regions the machine has: base moved, size capped
    missing: tuple[str, ...] = ()   # chip regions the machine lacks (linked and sized, not run)
    insns_per_tick: float | None = None     # SysTick: instructions per tick (-icount shift=0)


@dataclass(frozen=True)
class Power:
    """The chip's run current, for the energy estimate: cited from its datasheet, or absent
    (then `note` says why, and energy is reported as unavailable)."""
    run_current_ua_per_mhz: float | None = None   # typical run current per MHz of core clock
    supply_v: float | None = None                 # the supply voltage of that figure
    source: str = ""                              # document number, revision, table
    note: str = ""                                # why there is no figure (when absent)

    @property
    def available(self) -> bool:
        return self.run_current_ua_per_mhz is not None

    def energy_uj(self, cycles: int) -> float:
        """Energy of `cycles` core cycles in µJ: I = k·f, t = cycles/f, so E = k·V·cycles
        (k in µA/MHz gives µJ per 1e6 cycles), independent of the clock."""
        return self.run_current_ua_per_mhz * self.supply_v * cycles / 1e6


NO_POWER = Power(note="the board file cites no run current per MHz ([power] table)")


@dataclass(frozen=True)
class Board:
    """One chip: the CPU to compile for, its memory map, and how QEMU simulates it."""
    name: str
    description: str
    core: str                       # -mcpu
    fpu: str                        # "none" or the FPU name (-mfpu)
    dsp: bool                       # ARMv7E-M / v8-M DSP extension (SMLAD, SXTB16)
    clock_hz: int                   # maximum core clock of the real chip
    memory: tuple[Region, ...]      # the chip's memory map, in order of preference
    qemu: QemuTarget | None = None  # None: not simulated
    stack_size: int = DEFAULT_STACK  # stack reserved by the linker script
    startup: str = "startup.c"      # file in boards/ (or an absolute path)
    cflags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = field(default=())
    source: str = ""                # the TOML file (or "board dict") it was read from
    float_abi: str = "auto"         # auto (hard with an FPU, else soft) | soft | softfp | hard
    power: Power = NO_POWER         # run current per MHz and supply (energy estimate)

    # -- the memory map ------------------------------------------------------------------
    def region(self, name: str) -> Region:
        for r in self.memory:
            if r.name == name:
                return r
        raise BoardError(f"board {self.name}: no memory region {name!r} — expected one of "
                         f"{', '.join(r.name for r in self.memory)}.")

    def holding(self, what: str) -> list[Region]:
        """The regions that may hold `what` (code, data, stack, arena), in preference order."""
        return [r for r in self.memory if what in r.holds]

    @property
    def flash(self) -> Region:
        return self.holding("code")[0]

    @property
    def flash_size(self) -> int:
        return self.flash.size

    @property
    def ram_size(self) -> int:
        """All RAM tinyc may use (the sum of the RAM regions that hold something)."""
        return sum(r.size for r in self.memory if r.kind == "ram" and r.holds)

    @property
    def largest_arena_bytes(self) -> int:
        """The size of the largest region that may hold the arena."""
        return max(r.size for r in self.holding("arena"))

    # -- QEMU ----------------------------------------------------------------------------
    @property
    def qemu_machine(self) -> str | None:
        return self.qemu.machine if self.qemu else None

    @property
    def counter(self) -> str:
        return self.qemu.counter if self.qemu else "none"

    @property
    def exact_instructions(self) -> bool:
        """True when the firmware counter gives exact instruction counts in QEMU."""
        return self.counter in EXACT_COUNTERS

    def summary(self) -> str:
        """One line for `tinyc boards`."""
        alias = f" ({', '.join(self.aliases)})" if self.aliases else ""
        return (f"{self.name}{alias}: {self.core}, fpu {self.fpu}, "
                f"dsp={'yes' if self.dsp else 'no'}, {self.clock_hz / 1e6:g} MHz, "
                f"flash {kib(self.flash_size)}, RAM {kib(self.ram_size)}, "
                f"QEMU {self.qemu_machine or '-'}, counter {self.counter} — {self.description}")

    def listing(self) -> str:
        """`tinyc boards`: the summary line, then one line per region (chip and QEMU)."""
        in_qemu = {r.name: r for r in self.qemu.memory} if self.qemu else {}
        lines = [self.summary()]
        for r in self.memory:
            q = in_qemu.get(r.name)
            sim = ("" if not self.qemu else "; QEMU: not simulated" if q is None else
                   "" if (q.base, q.size) == (r.base, r.size) else
                   f"; QEMU: {kib(q.size)} @0x{q.base:08x}")
            extra = "" if r.dma else ", CPU only (no DMA)"
            lines.append(f"    {r.kind:<5} {r.describe()}{extra}{sim}")
        return "\n".join(lines)

    def path(self, filename: str) -> Path:
        """Absolute path of one of this board's support files."""
        return Path(filename) if Path(filename).is_absolute() else BOARDS_DIR / filename

    def with_sizes(self, flash: int | None = None, ram: int | None = None) -> Board:
        """The board with its flash region and/or its main RAM region (the one holding .data)
        resized (`--flash-size`, `--ram-size`); checked like a board file."""
        if flash is None and ram is None:
            return self
        sizes = {self.flash.name: flash, self.holding("data")[0].name: ram}
        memory = tuple(r if sizes.get(r.name) is None else replace(r, size=sizes[r.name])
                       for r in self.memory)
        where = f"board {self.name} with --flash-size/--ram-size"
        _check_memory(memory, where)
        qemu = self.qemu and _qemu_map(self.qemu.machine, self.qemu.counter, memory,
                                       self._qemu_bases(), where)
        return replace(self, memory=memory, qemu=qemu)

    def _qemu_bases(self) -> dict:
        """The [qemu.base] overrides, recovered from the QEMU map."""
        q = {r.name: r.base for r in self.qemu.memory}
        return {r.name: q.get(r.name, NOT_SIMULATED) for r in self.memory
                if q.get(r.name, NOT_SIMULATED) != r.base}


def kib(n: int) -> str:
    """Bytes as '128 KiB' / '1 MiB' (exact when possible)."""
    if n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n % 1024 == 0:
        return f"{n >> 10} KiB"
    return f"{n:,} B"


# -- sizes ----------------------------------------------------------------------------------

_SIZE = re.compile(r"^\s*(0x[0-9a-f]+|\d+)\s*([km]i?b?)?\s*$", re.I)


def parse_size(value, where: str) -> int:
    """A size: an int (bytes) or a string such as '256K', '1M', '1MiB', '0x10000', '4096'."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, int):
        n = value
    elif isinstance(value, str) and _SIZE.match(value):
        num, unit = _SIZE.match(value).groups()
        n = int(num, 0) * {None: 1, "k": 1 << 10, "m": 1 << 20}[unit[0].lower() if unit
                                                                 else None]
    else:
        raise BoardError(f"{where} — expected a size in bytes such as 262144, '256K' or '1M', "
                         f"got {value!r}")
    if n <= 0:
        raise BoardError(f"{where} — expected a size > 0, got {value!r}")
    return n


# -- reading board files -------------------------------------------------------------------

_TOP = {"name": str, "description": str, "core": str, "fpu": str, "dsp": bool, "clock_hz": int,
        "memory": list, "aliases": list, "stack_size": (int, str), "startup": str,
        "cflags": list, "qemu": dict, "float_abi": str, "power": dict}
_REQUIRED = ("name", "description", "core", "fpu", "dsp", "clock_hz", "memory")
_REGION = {"name": str, "kind": str, "base": int, "size": (int, str), "holds": list,
           "dma": bool, "note": str}
_REGION_REQUIRED = ("name", "kind", "base", "size")
_QEMU = {"machine": str, "counter": str, "base": dict}
_POWER = {"run_current_ua_per_mhz": (int, float), "supply_v": (int, float), "source": str,
          "note": str}
_TYPE_NAMES = {str: "a string", bool: "true or false", int: "an integer", list: "a list",
               dict: "a table", (int, str): "an integer or a size string such as '64K'",
               (int, float): "a number"}
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


def _check_keys(d: dict, schema: dict, required: tuple, where: str) -> None:
    unknown = sorted(set(d) - set(schema))
    if unknown:
        raise BoardError(f"{where}: unknown key {unknown[0]!r} — expected one of "
                         f"{', '.join(schema)}")
    for key in required:
        if key not in d:
            raise BoardError(f"{where}: missing key {key!r}")
    for key, want in schema.items():
        v = d.get(key)
        ok = want is bool if isinstance(v, bool) else isinstance(v, want)   # True is no int
        if key in d and not ok:
            raise BoardError(f"{where}: key {key!r} — expected {_TYPE_NAMES[want]}, "
                             f"got {v!r}")


def _strings(v: list, key: str, where: str, allowed=None) -> tuple[str, ...]:
    for s in v:
        if not isinstance(s, str) or (allowed is not None and s not in allowed):
            want = f"one of {', '.join(allowed)}" if allowed else "strings"
            raise BoardError(f"{where}: key {key!r} — expected a list of {want}, got {s!r} "
                             "in it")
    return tuple(v)


def _region(d, i: int, where: str) -> Region:
    at = f"{where}: memory[{i}]" + (f" ({d['name']})" if isinstance(d, dict)
                                    and isinstance(d.get("name"), str) else "")
    if not isinstance(d, dict):
        raise BoardError(f"{at} — expected a [[memory]] table, got {d!r}")
    _check_keys(d, _REGION, _REGION_REQUIRED, at)
    if not _IDENT.match(d["name"]):
        raise BoardError(f"{at}: key 'name' — expected a lower-case identifier such as "
                         f"'sram1', got {d['name']!r}")
    if d["kind"] not in KINDS:
        raise BoardError(f"{at}: key 'kind' — expected one of {', '.join(KINDS)}, "
                         f"got {d['kind']!r}")
    holds = _strings(d.get("holds", ["code"] if d["kind"] == "flash" else []), "holds", at,
                     CONTENTS)
    wrong = [h for h in holds if (h == "code") != (d["kind"] == "flash")]
    if wrong:
        raise BoardError(f"{at}: key 'holds' — a {d['kind']} region cannot hold "
                         f"{wrong[0]!r} (flash holds code; RAM holds data, stack, arena)")
    size = parse_size(d["size"], f"{at}: key 'size'")
    if not 0 <= d["base"] < ADDRESS_SPACE or d["base"] + size > ADDRESS_SPACE:
        raise BoardError(f"{at}: region 0x{d['base']:x}+{size:#x} lies outside the 32-bit "
                         "address space — expected base + size <= 0x100000000")
    return Region(d["name"], d["kind"], d["base"], size, holds, d.get("dma", True),
                  d.get("note", ""))


def _check_memory(memory: tuple[Region, ...], where: str) -> None:
    """Names unique, no two regions overlap, and somewhere to put code, data, stack, arena."""
    seen: set[str] = set()
    for r in memory:
        if r.name in seen:
            raise BoardError(f"{where}: memory region {r.name!r} is listed twice")
        seen.add(r.name)
    _check_overlap(memory, where)
    for what in CONTENTS:
        if not any(what in r.holds for r in memory):
            kind = "flash" if what == "code" else "RAM"
            raise BoardError(f"{where}: no memory region holds {what!r} — expected a "
                             f"{kind} region with holds = [..., \"{what}\"]")


@lru_cache(maxsize=None)
def qemu_machines() -> dict[str, dict]:
    """boards/qemu_machines.toml: each QEMU machine's cores and memories (read once)."""
    with open(MACHINES_FILE, "rb") as f:
        raw = tomllib.load(f)
    return {name: {"cores": tuple(m["cores"]),
                   "insns_per_tick": m.get("systick_insns_per_tick"),
                   "memory": tuple((mem["name"], mem["base"],
                                    parse_size(mem["size"], f"{MACHINES_FILE}: {name}"))
                                   for mem in m["memory"])}
            for name, m in raw.items()}


def _qemu_map(machine: str, counter: str, memory: tuple[Region, ...], bases: dict,
              where: str) -> QemuTarget:
    """The chip's regions where QEMU's machine has them: base = the [qemu.base] override or the
    chip's; size = the chip's, capped by the machine memory it falls in. A region whose base the
    machine lacks (or set to "none") is missing: linked and sized for the chip, not run."""
    mems = qemu_machines()[machine]["memory"]
    names = {r.name for r in memory}
    for key in bases:
        if key not in names:
            raise BoardError(f"{where}: [qemu.base] names region {key!r} — expected one of "
                             f"{', '.join(sorted(names))}")
    placed, missing = [], []
    for r in memory:
        base = bases.get(r.name, r.base)
        if base == NOT_SIMULATED:
            missing.append(r.name)
            continue
        if isinstance(base, bool) or not isinstance(base, int):
            raise BoardError(f"{where}: [qemu.base] key {r.name!r} — expected an address or "
                             f"\"{NOT_SIMULATED}\", got {base!r}")
        host = next((m for m in mems if m[1] <= base < m[1] + m[2]), None)
        if host is None:
            if r.name in bases:
                have = ", ".join(f"{n} {kib(s)} @0x{b:08x}" for n, b, s in mems)
                raise BoardError(f"{where}: [qemu.base] {r.name} = 0x{base:08x} is not memory "
                                 f"of QEMU machine {machine} — expected an address in {have}")
            missing.append(r.name)
            continue
        placed.append(replace(r, base=base, size=min(r.size, host[1] + host[2] - base)))
    try:
        _check_overlap(tuple(placed), f"{where}: in QEMU {machine}")
    except BoardError as e:
        raise BoardError(f"{e} — move one with [qemu.base] (or set it to \"none\")") from None
    return QemuTarget(machine, counter, tuple(placed), tuple(missing),
                      qemu_machines()[machine]["insns_per_tick"])


def _check_overlap(memory: tuple[Region, ...], where: str) -> None:
    for i, a in enumerate(memory):
        for b in memory[i + 1:]:
            if a.base < b.end and b.base < a.end:
                raise BoardError(f"{where}: memory regions {a.name} (0x{a.base:08x}-"
                                 f"0x{a.end - 1:08x}) and {b.name} (0x{b.base:08x}-"
                                 f"0x{b.end - 1:08x}) overlap")


_FLAT = ("flash_base", "flash_size", "ram_base", "ram_size", "qemu_machine", "counter",
         "linker_script")


def _from_flat(d: dict) -> dict:
    """The flat format of the first board files (flash_base/flash_size, ram_base/ram_size,
    qemu_machine, counter, linker_script): one flash and one RAM region holding everything."""
    d = dict(d)
    memory = [{"name": "flash", "kind": "flash", "base": d.pop("flash_base", None),
               "size": d.pop("flash_size", None)},
              {"name": "sram", "kind": "ram", "base": d.pop("ram_base", None),
               "size": d.pop("ram_size", None), "holds": ["data", "stack", "arena"]}]
    d.setdefault("memory", [{k: v for k, v in r.items() if v is not None} for r in memory])
    machine, counter = d.pop("qemu_machine", None), d.pop("counter", "none")
    d.pop("linker_script", None)                    # generated from the regions now
    if machine:
        d.setdefault("qemu", {"machine": machine, "counter": counter})
    return d


def parse_board(d: dict, where: str, folder: Path | None = None) -> Board:
    """A Board from a board table (a parsed TOML file or a dict); BoardError names `where` and
    the key at fault. The first flat format (flash_base, ram_size, ...) is still read."""
    if not isinstance(d, dict):
        raise BoardError(f"{where}: expected a board table (dict), got {type(d).__name__}")
    if "memory" not in d and any(k in d for k in _FLAT):
        d = _from_flat(d)
    _check_keys(d, _TOP, _REQUIRED, where)
    if not d["memory"]:
        raise BoardError(f"{where}: key 'memory' — expected at least one [[memory]] region")
    memory = tuple(_region(r, i, where) for i, r in enumerate(d["memory"]))
    _check_memory(memory, where)
    if d["clock_hz"] <= 0:
        raise BoardError(f"{where}: key 'clock_hz' — expected a clock > 0, got {d['clock_hz']}")
    stack = parse_size(d.get("stack_size", DEFAULT_STACK), f"{where}: key 'stack_size'")
    qemu = None
    if "qemu" in d:
        q, at = d["qemu"], f"{where}: [qemu]"
        _check_keys(q, _QEMU, ("machine",), at)
        if q["machine"] not in qemu_machines():
            raise BoardError(f"{at}: key 'machine' — expected one of "
                             f"{', '.join(qemu_machines())}, got {q['machine']!r}")
        counter = q.get("counter", "none")
        if counter not in COUNTERS:
            raise BoardError(f"{at}: key 'counter' — expected one of {', '.join(COUNTERS)}, "
                             f"got {counter!r}")
        cores = qemu_machines()[q["machine"]]["cores"]
        if d["core"] not in cores:
            raise BoardError(f"{at}: machine {q['machine']} simulates {', '.join(cores)} — "
                             f"expected the board's core, got {d['core']!r}")
        qemu = _qemu_map(q["machine"], counter, memory, q.get("base", {}), where)
    float_abi = d.get("float_abi", "auto")
    if float_abi not in FLOAT_ABIS:
        raise BoardError(f"{where}: key 'float_abi' — expected one of {', '.join(FLOAT_ABIS)}, "
                         f"got {float_abi!r}")
    power = _power(d.get("power"), where)
    startup = d.get("startup", "startup.c")
    if folder is not None and (folder / startup).is_file():
        startup = str((folder / startup).resolve())
    return Board(name=d["name"], description=d["description"], core=d["core"], fpu=d["fpu"],
                 dsp=d["dsp"], clock_hz=d["clock_hz"], memory=memory, qemu=qemu,
                 stack_size=stack, startup=startup, float_abi=float_abi, power=power,
                 cflags=_strings(d.get("cflags", []), "cflags", where),
                 aliases=_strings(d.get("aliases", []), "aliases", where), source=where)


def _power(d: dict | None, where: str) -> Power:
    """[power]: run_current_ua_per_mhz and supply_v with their source, or a note saying why
    there are none. A figure without a source is refused: energy is never guessed."""
    if d is None:
        return NO_POWER
    at = f"{where}: [power]"
    _check_keys(d, _POWER, (), at)
    current, volts = d.get("run_current_ua_per_mhz"), d.get("supply_v")
    if current is None and volts is None:
        return Power(note=d.get("note") or NO_POWER.note)
    if current is None or volts is None or not d.get("source"):
        raise BoardError(f"{at}: expected run_current_ua_per_mhz, supply_v and source together "
                         "(the datasheet document and table the figures come from), or only a "
                         "note saying why there are none")
    if current <= 0 or volts <= 0:
        raise BoardError(f"{at}: expected run_current_ua_per_mhz > 0 and supply_v > 0, got "
                         f"{current} and {volts}")
    return Power(float(current), float(volts), d["source"], d.get("note", ""))


def read_board_file(path) -> Board:
    """A board from a TOML file; BoardError names the file and the key at fault."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            d = tomllib.load(f)
    except FileNotFoundError:
        raise BoardError(f"{p}: no such board file — expected a .toml file (schema: "
                         "docs/boards.md) or a board name (see `tinyc boards`)") from None
    except OSError as e:
        raise BoardError(f"{p}: cannot read the board file ({e.strerror})") from None
    except tomllib.TOMLDecodeError as e:
        raise BoardError(f"{p}: not valid TOML — {e}") from None
    return parse_board(d, str(p), p.parent)


@lru_cache(maxsize=None)
def _registry() -> dict[str, Board]:
    boards = [read_board_file(p) for p in sorted(BOARDS_DIR.glob("*.toml"))
              if p != MACHINES_FILE]
    names: dict[str, Board] = {}
    for b in boards:
        for key in (b.name, *b.aliases):
            if key in names:
                raise BoardError(f"boards: name {key!r} is used by both "
                                 f"{names[key].name} and {b.name}.")
            names[key] = b
    return names


def list_boards() -> list[Board]:
    """All known boards, sorted by name (aliases not repeated)."""
    return sorted({b.name: b for b in _registry().values()}.values(), key=lambda b: b.name)


def load_board(board, flash_size=None, ram_size=None) -> Board:
    """A Board from a name or alias (`tinyc boards`), a path to a .toml board file, a dict in
    the board-file schema, or a Board; flash_size/ram_size ('256K', '1M', bytes) resize the
    flash and the main RAM region. BoardError when unknown or malformed."""
    if isinstance(board, Board):
        b = board
    elif isinstance(board, dict):
        b = parse_board(board, "board dict")
    elif isinstance(board, Path) or (isinstance(board, str) and (
            board.endswith(".toml") or "/" in board or "\\" in board)):
        b = read_board_file(board)
    elif isinstance(board, str):
        b = _registry().get(board.strip().lower())
        if b is None:
            known = ", ".join(f"{x.name} ({', '.join(x.aliases)})" if x.aliases else x.name
                              for x in list_boards())
            from .hints import did_you_mean
            hint = did_you_mean(board.strip().lower(), _registry())
            raise BoardError(f"board {board!r}: unknown board{hint} — expected one of: {known}; "
                             "or a board file PATH.toml (docs/boards.md).")
    else:
        raise BoardError(f"board: expected a name, a .toml path, a dict or a Board, got "
                         f"{type(board).__name__}")
    return b.with_sizes(
        flash=None if flash_size is None else parse_size(flash_size, "--flash-size"),
        ram=None if ram_size is None else parse_size(ram_size, "--ram-size"))


# -- the memory plan: which region holds what ----------------------------------------------

@dataclass(frozen=True)
class MemoryPlan:
    """Where the firmware's RAM contents go: region names, and bytes per region."""
    data: str                       # .data and .bss (the model's other statics, the harness)
    arena: str
    stack: str
    use: tuple[tuple[str, str, int], ...]   # (region, what, bytes) in placement order

    def used(self, region: str) -> int:
        return sum(n for r, _, n in self.use if r == region)


def place_memory(board: Board, arena: int, stack: int | None = None, data: int = 0,
                 where: str = "") -> MemoryPlan:
    """Put .data/.bss (`data` bytes, first region holding data), the arena and the stack into
    the board's regions, each checked against its own size. The arena takes the first region
    (in the board's order) where it fits next to what is already there; the stack too. Raises
    BoardError naming every region and its room when they do not fit."""
    stack = board.stack_size if stack is None else stack
    data_r = board.holding("data")[0]
    for a in board.holding("arena"):
        for s in board.holding("stack"):
            load = {r.name: 0 for r in board.memory}
            for r, n in ((data_r, data), (a, arena), (s, stack)):
                load[r.name] += n
            if all(load[r.name] <= r.size for r in board.memory):
                use = ((data_r.name, "data", data), (a.name, "arena", arena),
                       (s.name, "stack", stack))
                return MemoryPlan(data_r.name, a.name, s.name, use)
    rooms = "; ".join(
        f"{r.name} {r.size:,} B @0x{r.base:08x}"
        + (f" ({data:,} B taken by data)" if r is data_r and data else "")
        for r in board.holding("arena"))
    raise BoardError(
        f"{where or 'memory plan'}: the arena needs {arena:,} B (+ {stack:,} B of stack, "
        f"{data:,} B of other data) but no RAM region of board '{board.name}' holds it — "
        f"regions that may hold the arena: {rooms}. The arena is not split across regions.")


def region_table(board: Board, plan: MemoryPlan, flash_used: int) -> list[dict]:
    """report.json's `regions`: per region of the chip, what the plan put there, bytes used and
    the percentage of the region."""
    rows = []
    for r in board.memory:
        parts = ([("code+weights", flash_used)] if r is board.flash else
                 [(what, n) for name, what, n in plan.use if name == r.name and n])
        used = sum(n for _, n in parts)
        rows.append({"name": r.name, "kind": r.kind, "base": f"0x{r.base:08x}", "size": r.size,
                     "holds": [w for w, _ in parts], "used_bytes": used,
                     "used_percent": round(100.0 * used / r.size, 1)})
    return rows


__all__ = ["Board", "Region", "QemuTarget", "MemoryPlan", "load_board", "list_boards",
           "place_memory", "region_table", "parse_size"]
