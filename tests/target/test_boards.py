"""Board descriptions: every toml parses, aliases resolve, linker scripts agree with the toml."""
import re

import pytest

from tinyc.errors import BoardError
from tinyc.target import BOARDS_DIR, Board, list_boards, load_board

EXPECTED = {"stm32f405": ("cortex-m4", "netduinoplus2", "tim2"),
            "lm3s6965": ("cortex-m3", "lm3s6965evb", "systick"),
            "mps2-an386": ("cortex-m4", "mps2-an386", "systick"),
            "mps2-an500": ("cortex-m7", "mps2-an500", "systick"),
            "mps2-an505": ("cortex-m33", "mps2-an505", "systick"),
            "microbit": ("cortex-m0", "microbit", "systick"),
            "mps3-an547": ("cortex-m55", "mps3-an547", "systick")}


def test_list_boards_has_the_seven_boards():
    boards = list_boards()
    assert [b.name for b in boards] == sorted(EXPECTED)
    for b in boards:
        assert (b.core, b.qemu_machine, b.counter) == EXPECTED[b.name]


def test_stm32_is_the_default_stm32f405():
    b = load_board("stm32")
    assert b is load_board("stm32f405") and b is load_board("STM32")
    assert (b.flash_base, b.flash_size) == (0x08000000, 1 << 20)
    assert (b.ram_base, b.ram_size) == (0x20000000, 192 * 1024)
    assert b.dsp and b.exact_instructions


def test_lm3s6965_has_no_dsp():
    b = load_board("lm3s6965evb")
    assert b.name == "lm3s6965" and not b.dsp and b.fpu == "none"
    assert (b.flash_size, b.ram_size) == (256 * 1024, 64 * 1024)


def test_an505_uses_secure_aliases():
    b = load_board("an505")
    assert (b.flash_base, b.ram_base) == (0x10000000, 0x38000000)


def test_microbit_is_a_16k_cortex_m0():
    b = load_board("nrf51822")
    assert b.name == "microbit" and not b.dsp and b.fpu == "none"
    assert (b.flash_base, b.flash_size, b.ram_base, b.ram_size) == (0, 256 << 10,
                                                                     0x20000000, 16 << 10)


def test_an547_boots_secure_from_the_tcms():
    b = load_board("an547")
    assert b.name == "mps3-an547" and b.dsp and b.fpu != "none"
    assert (b.flash_base, b.ram_base) == (0x10000000, 0x30000000)


def test_float_abi_field():
    from tinyc.firmware import float_abi
    assert [float_abi(b) for b in map(load_board, ("stm32", "lm3s6965", "microbit", "an547"))] \
        == ["hard", "soft", "soft", "hard"]


def test_bad_float_abi_in_a_toml_is_refused(tmp_path):
    from tinyc.target import _parse
    text = (BOARDS_DIR / "microbit.toml").read_text() + 'float_abi = "fast"\n'
    (tmp_path / "x.toml").write_text(text)
    with pytest.raises(BoardError, match="float_abi"):
        _parse(tmp_path / "x.toml")


def test_unknown_board_lists_known_boards():
    with pytest.raises(BoardError) as e:
        load_board("esp32")
    msg = str(e.value)
    assert "'esp32'" in msg
    for name in EXPECTED:
        assert name in msg
    assert "stm32" in msg


def _kib(s: str) -> int:
    return int(s[:-1]) * 1024 if s.endswith("K") else int(s, 0)


@pytest.mark.parametrize("board", list_boards(), ids=lambda b: b.name)
def test_files_exist_and_linker_script_matches(board: Board):
    assert board.path(board.startup).is_file()
    text = board.path(board.linker_script).read_text()
    mem = {m[1]: (int(m[2], 0), _kib(m[3])) for m in re.finditer(
        r"(FLASH|RAM)\s*\(\w+\)\s*:\s*ORIGIN\s*=\s*(\w+),\s*LENGTH\s*=\s*(\w+)", text)}
    assert mem["FLASH"] == (board.flash_base, board.flash_size)
    assert mem["RAM"] == (board.ram_base, board.ram_size)
    assert "INCLUDE common.ld" in text and (BOARDS_DIR / "common.ld").is_file()


def test_summary_line():
    line = load_board("stm32").summary()
    assert line.startswith("stm32f405 (stm32, netduinoplus2): cortex-m4, dsp=yes, flash 1024 KiB")
