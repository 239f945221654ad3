"""Target boards: `boards/<name>.toml` descriptions, and the firmware/QEMU API in one place.

    board = load_board("stm32")                 # alias of stm32f405 (QEMU netduinoplus2)
    res = run_samples(c_dir, board, inputs, out_dir)   # build + run (batched), see tinyc.qemu
    res.outputs[sample][k], res.instructions[sample]

Firmware building, sizes and the no-float check live in `tinyc.firmware`; running in QEMU
in `tinyc.qemu`. Both are re-exported here.
"""
from __future__ import annotations

try:
    import tomllib
except ModuleNotFoundError:         # Python 3.10
    import tomli as tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import tinyc.boards
from tinyc.errors import BoardError

BOARDS_DIR = Path(tinyc.boards.__file__).resolve().parent
COUNTERS = ("tim2", "systick", "none")
EXACT_COUNTERS = ("tim2",)          # counters that count executed instructions exactly


@dataclass(frozen=True)
class Board:
    """One board: the CPU to compile for, its memories and how QEMU simulates it."""
    name: str
    description: str
    core: str                       # -mcpu
    fpu: str                        # "none" or the FPU name (-mfpu)
    dsp: bool                       # ARMv7E-M / v8-M DSP extension (SMLAD, SXTB16)
    clock_hz: int                   # nominal core clock of the real chip
    flash_base: int
    flash_size: int
    ram_base: int
    ram_size: int
    stack_size: int                 # stack reserved by the linker script after .bss
    qemu_machine: str | None        # `qemu-system-arm -M`, None if not simulated
    linker_script: str              # file in boards/
    startup: str                    # file in boards/
    cflags: tuple[str, ...] = ()
    counter: str = "none"           # in-firmware counter: tim2 | systick | none
    aliases: tuple[str, ...] = field(default=())
    float_abi: str = "auto"         # auto (hard with an FPU, else soft) | soft | softfp | hard

    @property
    def exact_instructions(self) -> bool:
        """True when the firmware counter gives exact instruction counts in QEMU."""
        return self.counter in EXACT_COUNTERS

    def summary(self) -> str:
        """One line for `tinyc boards`."""
        alias = f" ({', '.join(self.aliases)})" if self.aliases else ""
        return (f"{self.name}{alias}: {self.core}, dsp={'yes' if self.dsp else 'no'}, "
                f"flash {self.flash_size // 1024} KiB, RAM {self.ram_size // 1024} KiB, "
                f"QEMU {self.qemu_machine or '-'}, counter {self.counter} — {self.description}")

    def path(self, filename: str) -> Path:
        """Absolute path of one of this board's support files."""
        return BOARDS_DIR / filename


def _parse(path: Path) -> Board:
    with open(path, "rb") as f:
        d = tomllib.load(f)
    try:
        d["cflags"] = tuple(d.get("cflags", ()))
        d["aliases"] = tuple(d.get("aliases", ()))
        d.setdefault("qemu_machine", None)
        board = Board(**d)
    except TypeError as e:
        raise BoardError(f"{path}: bad board description — {e}. "
                         f"Fields are those of tinyc.target.Board.") from None
    if board.float_abi not in ("auto", "soft", "softfp", "hard"):
        raise BoardError(f"{path}: float_abi — expected auto, soft, softfp or hard, "
                         f"got {board.float_abi!r}.")
    if board.counter not in COUNTERS:
        raise BoardError(f"{path}: counter — expected one of {COUNTERS}, got {board.counter!r}.")
    return board


@lru_cache(maxsize=None)
def _registry() -> dict[str, Board]:
    boards = [_parse(p) for p in sorted(BOARDS_DIR.glob("*.toml"))]
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


def load_board(name: str | Board) -> Board:
    """The board called `name` (or one of its aliases); BoardError if unknown."""
    if isinstance(name, Board):
        return name
    board = _registry().get(name.strip().lower())
    if board is None:
        known = ", ".join(f"{b.name} ({', '.join(b.aliases)})" if b.aliases else b.name
                          for b in list_boards())
        raise BoardError(f"board {name!r}: unknown board — expected one of: {known}.")
    return board


from tinyc.firmware import (  # noqa: E402  (re-exports; firmware imports Board from here)
    build_firmware, check_nofloat, measure_size, model_size)
from tinyc.qemu import QemuResult, run_qemu, run_samples  # noqa: E402

__all__ = ["Board", "load_board", "list_boards", "build_firmware", "check_nofloat",
           "measure_size", "model_size", "QemuResult", "run_qemu", "run_samples"]
