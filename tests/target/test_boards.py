"""Board data: every board file parses, the chip figures, the QEMU maps, linker scripts generated
from the regions, the memory plan per region, and a clear error for each malformed board."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tinyc.errors import BoardError
from tinyc.linker import linker_script
from tinyc.target import (Board, list_boards, load_board, parse_size, place_memory,
                          qemu_machines)

K, M = 1024, 1024 * 1024
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "boards" / "myboard.toml"

# name: (core, QEMU machine, counter)
EXPECTED = {"stm32f405": ("cortex-m4", "netduinoplus2", "tim2"),
            "stm32f746": ("cortex-m7", "mps2-an500", "systick"),
            "stm32h743": ("cortex-m7", "mps2-an500", "systick"),
            "stm32l4r5": ("cortex-m4", "netduinoplus2", "tim2"),
            "stm32u575": ("cortex-m33", "mps2-an505", "systick"),
            "nrf52840": ("cortex-m4", "netduinoplus2", "tim2"),
            "rp2040": ("cortex-m0plus", "microbit", "systick"),
            "microbit": ("cortex-m0", "microbit", "systick"),
            "mps3-an547": ("cortex-m55", "mps3-an547", "systick"),
            "lm3s6965": ("cortex-m3", "lm3s6965evb", "systick"),
            "mps2-an386": ("cortex-m4", "mps2-an386", "systick"),
            "mps2-an500": ("cortex-m7", "mps2-an500", "systick"),
            "mps2-an505": ("cortex-m33", "mps2-an505", "systick")}

# The chips' datasheet figures (see the comment of each board file): clock, flash (base,
# size), RAM regions {name: (base, size)}.
CHIPS = {
    "stm32f405": (168, (0x08000000, 1 * M), {"sram": (0x20000000, 128 * K),
                                            "ccm": (0x10000000, 64 * K)}),
    "stm32f746": (216, (0x08000000, 1 * M), {"dtcm": (0x20000000, 64 * K),
                                            "sram": (0x20010000, 256 * K),
                                            "itcm": (0x00000000, 16 * K)}),
    "stm32h743": (480, (0x08000000, 2 * M), {"dtcm": (0x20000000, 128 * K),
                                            "axi_sram": (0x24000000, 512 * K),
                                            "sram123": (0x30000000, 288 * K),
                                            "sram4": (0x38000000, 64 * K),
                                            "itcm": (0x00000000, 64 * K)}),
    "stm32l4r5": (120, (0x08000000, 2 * M), {"sram1": (0x20000000, 192 * K),
                                            "sram2": (0x10000000, 64 * K),
                                            "sram3": (0x20040000, 384 * K)}),
    "stm32u575": (160, (0x08000000, 2 * M), {"sram": (0x20000000, 768 * K),
                                            "sram4": (0x28000000, 16 * K)}),
    "nrf52840": (64, (0x00000000, 1 * M), {"sram": (0x20000000, 256 * K)}),
    "rp2040": (133, (0x10000000, 2 * M), {"sram": (0x20000000, 264 * K)}),
    "microbit": (16, (0x00000000, 256 * K), {"sram": (0x20000000, 16 * K)}),
    "lm3s6965": (50, (0x00000000, 256 * K), {"sram": (0x20000000, 64 * K)}),
}


def test_list_boards_has_every_board():
    boards = list_boards()
    assert [b.name for b in boards] == sorted(EXPECTED)
    for b in boards:
        assert (b.core, b.qemu_machine, b.counter) == EXPECTED[b.name]


@pytest.mark.parametrize("name", sorted(CHIPS))
def test_chip_figures(name):
    b = load_board(name)
    mhz, flash, ram = CHIPS[name]
    assert b.clock_hz == mhz * 1_000_000
    assert (b.flash.base, b.flash.size) == flash
    assert {r.name: (r.base, r.size) for r in b.memory if r.kind == "ram"} == ram


def test_stm32_is_the_default_stm32f405_with_ccm():
    b = load_board("stm32")
    assert b is load_board("stm32f405") and b is load_board("STM32")
    assert load_board("netduinoplus2") is b
    assert b.ram_size == 192 * K and b.dsp and b.exact_instructions
    ccm = b.region("ccm")
    assert not ccm.dma and "data" not in ccm.holds and "arena" in ccm.holds
    qemu = {r.name: (r.base, r.size) for r in b.qemu.memory}
    assert qemu == {"flash": (0x08000000, 1 * M), "sram": (0x20000000, 128 * K),
                    "ccm": (0x20020000, 64 * K)}      # inside netduinoplus2's 192 KiB


def test_qemu_maps_cap_sizes_and_drop_missing_regions():
    l4 = load_board("stm32l4r5")
    assert {r.name: r.size for r in l4.qemu.memory} == {"flash": 1 * M, "sram1": 192 * K}
    assert l4.qemu.missing == ("sram2", "sram3")
    h7 = load_board("stm32h743")
    assert h7.qemu.missing == ("itcm",) and h7.qemu.memory[0].base == 0
    assert load_board("rp2040").qemu.memory[1].size == 16 * K


@pytest.mark.parametrize("board", list_boards(), ids=lambda b: b.name)
def test_qemu_regions_lie_in_the_machine(board: Board):
    mems = qemu_machines()[board.qemu.machine]["memory"]
    for r in board.qemu.memory:
        assert any(b <= r.base and r.end <= b + s for _, b, s in mems), r


def _memory_block(text: str) -> dict:
    return {m[1].lower(): (int(m[2], 16), parse_size(m[3], "LENGTH")) for m in re.finditer(
        r"(\w+)\s+\(\w+\)\s*:\s*ORIGIN = (0x[0-9a-f]+), LENGTH = (\w+)", text)}


@pytest.mark.parametrize("board", list_boards(), ids=lambda b: b.name)
def test_linker_scripts_come_from_the_regions(board: Board):
    assert board.path(board.startup).is_file()
    plan = place_memory(board, 1000)
    chip, qemu = linker_script(board, plan), linker_script(board, plan, qemu=True)
    assert chip == linker_script(board, place_memory(board, 1000))      # byte-identical
    assert _memory_block(chip) == {r.name: (r.base, r.size) for r in board.memory}
    assert _memory_block(qemu) == {r.name: (r.base, r.size) for r in board.qemu.memory}
    assert f"> {plan.arena.upper()}" in chip and "*(.bss.tinyc_arena)" in chip


def test_plan_puts_arena_and_stack_into_regions():
    b = load_board("stm32")
    p = place_memory(b, 100 * K)
    assert (p.data, p.arena, p.stack) == ("sram", "sram", "sram")
    p = place_memory(b, 125 * K)           # SRAM holds the arena, the stack moves to CCM
    assert (p.arena, p.stack) == ("sram", "ccm") and p.used("ccm") == 8 * K
    small = load_board("stm32", ram_size="56K")
    p = place_memory(small, 60 * K)
    assert (p.arena, p.stack) == ("ccm", "sram")


def test_arena_too_big_for_f405_names_the_regions():
    with pytest.raises(BoardError) as e:
        place_memory(load_board("stm32"), 150_000)
    msg = str(e.value)
    assert "150,000 B" in msg and "sram 131,072 B @0x20000000" in msg
    assert "ccm 65,536 B @0x10000000" in msg and "stm32f405" in msg


def test_qemu_build_refuses_a_region_qemu_lacks():
    b = load_board("stm32l4r5")
    plan = place_memory(b, 300 * K)                    # SRAM3: linked, not simulated
    assert plan.arena == "sram3"
    assert "> SRAM3" in linker_script(b, plan)
    with pytest.raises(BoardError, match="sram3, which QEMU netduinoplus2 does not simulate"):
        linker_script(b, plan, qemu=True)


@pytest.mark.parametrize("text,n", [("256K", 256 * K), ("1M", M), ("1MiB", M), ("4096", 4096),
                                    ("0x10000", 0x10000), (65536, 65536), ("96 kb", 96 * K)])
def test_parse_size(text, n):
    assert parse_size(text, "x") == n


@pytest.mark.parametrize("text", ["", "1G", "-1", "12.5K", "K", 0, True])
def test_parse_size_refuses(text):
    with pytest.raises(BoardError, match="expected a size"):
        parse_size(text, "--ram-size")


def test_size_overrides():
    b = load_board("stm32", flash_size="512K", ram_size=96 * K)
    assert (b.flash_size, b.region("sram").size, b.region("ccm").size) == (512 * K, 96 * K,
                                                                          64 * K)
    assert b.qemu.memory[1].size == 96 * K
    with pytest.raises(BoardError, match="overlap"):
        load_board("stm32", ram_size="256K")       # SRAM would run into the QEMU CCM


def test_microbit_is_a_16k_cortex_m0():
    b = load_board("nrf51822")
    assert b.name == "microbit" and not b.dsp and b.fpu == "none"
    ram = b.holding("data")[0]
    assert (b.flash.base, b.flash_size, ram.base, ram.size) == (0, 256 << 10, 0x20000000,
                                                                16 << 10)


def test_an547_boots_secure_from_the_tcms():
    b = load_board("an547")
    assert b.name == "mps3-an547" and b.dsp and b.fpu != "none"
    assert (b.flash.base, b.holding("data")[0].base) == (0x10000000, 0x30000000)


def test_float_abi_field():
    from tinyc.firmware import float_abi
    assert [float_abi(b) for b in map(load_board, ("stm32", "lm3s6965", "microbit", "an547"))] \
        == ["hard", "soft", "soft", "hard"]


def test_bad_float_abi_in_a_toml_is_refused(tmp_path):
    from tinyc.target import read_board_file
    text = 'float_abi = "fast"\n' + load_board("microbit").path("microbit.toml").read_text()
    (tmp_path / "x.toml").write_text(text)
    with pytest.raises(BoardError, match="float_abi"):
        read_board_file(tmp_path / "x.toml")


def test_unknown_board_lists_known_boards():
    with pytest.raises(BoardError) as e:
        load_board("esp32")
    msg = str(e.value)
    assert "'esp32'" in msg and "PATH.toml" in msg
    for name in EXPECTED:
        assert name in msg


def test_summary_and_listing():
    b = load_board("stm32")
    assert b.summary().startswith("stm32f405 (stm32, netduinoplus2, stm32f407): cortex-m4,")
    listing = b.listing()
    assert "ccm 64 KiB @0x10000000 (arena, stack), CPU only (no DMA); QEMU: 64 KiB @0x20020000" \
        in listing


# -- your own board ------------------------------------------------------------------------

def custom(**top) -> dict:
    d = {"name": "myboard", "description": "my chip", "core": "cortex-m4", "fpu": "none",
         "dsp": True, "clock_hz": 80_000_000,
         "memory": [{"name": "flash", "kind": "flash", "base": 0x08000000, "size": "512K"},
                    {"name": "sram", "kind": "ram", "base": 0x20000000, "size": "96K",
                     "holds": ["data", "stack", "arena"]}],
         "qemu": {"machine": "netduinoplus2", "counter": "tim2"}}
    d.update(top)
    return d


def test_board_from_dict_and_file():
    b = load_board(custom())
    assert (b.name, b.flash_size, b.ram_size, b.qemu_machine) == ("myboard", 512 * K, 96 * K,
                                                                  "netduinoplus2")
    example = load_board(EXAMPLE)
    assert example.name == "myboard" and example.qemu_machine == "netduinoplus2"
    assert load_board(str(EXAMPLE)) == example and example.source == str(EXAMPLE)


def test_flat_board_format_still_reads():
    old = {"name": "old", "description": "flat format", "core": "cortex-m3", "fpu": "none",
           "dsp": False, "clock_hz": 50_000_000, "flash_base": 0, "flash_size": 262144,
           "ram_base": 0x20000000, "ram_size": 65536, "stack_size": 8192,
           "qemu_machine": "lm3s6965evb", "linker_script": "lm3s6965evb.ld",
           "startup": "startup.c", "cflags": [], "counter": "systick"}
    b = load_board(old)
    lm3s = load_board("lm3s6965")
    assert (b.memory, b.qemu.memory, b.counter) == (lm3s.memory, lm3s.qemu.memory, "systick")
    with pytest.raises(BoardError, match="missing key 'size'"):
        load_board({k: v for k, v in old.items() if k != "ram_size"})


def _region(**kw):
    r = {"name": "sram", "kind": "ram", "base": 0x20000000, "size": "96K",
         "holds": ["data", "stack", "arena"]}
    r.update(kw)
    return r


FLASH = {"name": "flash", "kind": "flash", "base": 0x08000000, "size": "512K"}

BAD = {
    "unknown key": (custom(colour="red"), "unknown key 'colour'"),
    "missing key": ({k: v for k, v in custom().items() if k != "core"}, "missing key 'core'"),
    "wrong type": (custom(clock_hz="fast"), "key 'clock_hz' — expected an integer"),
    "bool as int": (custom(clock_hz=True), "key 'clock_hz' — expected an integer"),
    "region wrong type": (custom(memory=[FLASH, _region(base="0x20000000")]),
                          r"memory\[1\] \(sram\): key 'base' — expected an integer"),
    "region unknown key": (custom(memory=[FLASH, _region(speed=1)]),
                           r"memory\[1\] \(sram\): unknown key 'speed'"),
    "region missing key": (custom(memory=[FLASH, {"name": "sram", "kind": "ram"}]),
                           "missing key 'base'"),
    "bad size": (custom(memory=[FLASH, _region(size="lots")]),
                 "key 'size' — expected a size"),
    "bad kind": (custom(memory=[FLASH, _region(kind="rom")]), "key 'kind' — expected one of"),
    "bad holds": (custom(memory=[FLASH, _region(holds=["data", "heap"])]),
                  "key 'holds' — expected a list of one of code, data, stack, arena"),
    "code in ram": (custom(memory=[FLASH, _region(holds=["code", "data"])]),
                    "a ram region cannot hold 'code'"),
    "overlap": (custom(memory=[FLASH, _region(), _region(name="sram2", base=0x20010000)]),
                "memory regions sram .* and sram2 .* overlap"),
    "outside": (custom(memory=[FLASH, _region(base=0xFFFF0000)]),
                "outside the 32-bit address space"),
    "twice": (custom(memory=[FLASH, _region(), _region(base=0x30000000)]),
              "'sram' is listed twice"),
    "no arena": (custom(memory=[FLASH, _region(holds=["data", "stack"])]),
                 "no memory region holds 'arena'"),
    "no flash": (custom(memory=[_region()]), "no memory region holds 'code'"),
    "no memory": (custom(memory=[]), "expected at least one"),
    "unknown machine": (custom(qemu={"machine": "esp32"}), r"\[qemu\]: key 'machine'"),
    "wrong core": (custom(core="cortex-m7"), "netduinoplus2 simulates cortex-m4"),
    "bad counter": (custom(qemu={"machine": "netduinoplus2", "counter": "dwt"}),
                    r"\[qemu\]: key 'counter' — expected one of tim2, systick, none"),
    "qemu unknown key": (custom(qemu={"machine": "netduinoplus2", "speed": 1}),
                         r"\[qemu\]: unknown key 'speed'"),
    "qemu base unknown region": (custom(qemu={"machine": "netduinoplus2",
                                              "base": {"ccm": 0x20020000}}),
                                 r"\[qemu.base\] names region 'ccm'"),
    "qemu base outside machine": (custom(qemu={"machine": "netduinoplus2",
                                               "base": {"sram": 0x30000000}}),
                                  "is not memory of QEMU machine netduinoplus2"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_board_dict(case):
    d, pattern = BAD[case]
    with pytest.raises(BoardError, match=pattern) as e:
        load_board(d)
    assert str(e.value).startswith("board dict")


def _toml(d: dict) -> str:
    """Just enough TOML for these tests (flat keys, [[memory]], [qemu])."""
    def v(x):
        if isinstance(x, bool):
            return "true" if x else "false"
        if isinstance(x, str):
            return f'"{x}"'
        if isinstance(x, list):
            return "[" + ", ".join(v(i) for i in x) + "]"
        if isinstance(x, dict):
            return "{ " + ", ".join(f"{k} = {v(i)}" for k, i in x.items()) + " }"
        return str(x)
    lines = [f"{k} = {v(x)}" for k, x in d.items() if k not in ("memory", "qemu")]
    for r in d.get("memory", []):
        lines += ["[[memory]]"] + [f"{k} = {v(x)}" for k, x in r.items()]
    if "qemu" in d:
        lines += ["[qemu]"] + [f"{k} = {v(x)}" for k, x in d["qemu"].items()]
    return "\n".join(lines) + "\n"


def tinyc(*args):
    return subprocess.run([sys.executable, "-m", "tinyc.cli", *map(str, args)],
                          capture_output=True, text=True)


@pytest.mark.parametrize("case", ["unknown key", "missing key", "wrong type", "overlap",
                                  "outside", "region wrong type", "qemu base unknown region"])
def test_malformed_board_file_cli_exit_2(case, tmp_path):
    d, pattern = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(_toml(d))
    r = tinyc("boards", path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"error: {path}") and re.search(pattern, r.stderr), r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_not_toml_and_missing_file_cli(tmp_path):
    (tmp_path / "broken.toml").write_text("name = \n")
    r = tinyc("boards", tmp_path / "broken.toml")
    assert r.returncode == 2 and "not valid TOML" in r.stderr and "Traceback" not in r.stderr
    r = tinyc("build", tmp_path / "m.onnx", "--board", tmp_path / "none.toml", "-o",
              tmp_path / "out")
    assert r.returncode == 2 and "no such" in r.stderr and "Traceback" not in r.stderr


def test_cli_boards_lists_regions_and_overrides(tmp_path):
    r = tinyc("boards")
    assert r.returncode == 0
    for name in EXPECTED:
        assert f"\n{name} " in "\n" + r.stdout
    assert "    ram   ccm 64 KiB @0x10000000 (arena, stack)" in r.stdout
    r = tinyc("boards", "stm32", "--ram-size", "96K", "--flash-size", "512K")
    assert r.returncode == 0 and "sram 96 KiB @0x20000000" in r.stdout \
        and "flash 512 KiB @0x08000000" in r.stdout
    r = tinyc("boards", "stm32", "--ram-size", "lots")
    assert r.returncode == 2 and "--ram-size — expected a size" in r.stderr
    path = tmp_path / "mine.toml"
    path.write_text(_toml(custom()))
    r = tinyc("boards", path)
    assert r.returncode == 0 and r.stdout.startswith("myboard: cortex-m4")
