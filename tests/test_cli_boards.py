"""Issue 13: every board `tinyc boards` lists works with every command — run (--data and
--input), check, sweep --qemu and bench — on the digits example, bit-exact in QEMU; boards
without an exact instruction counter say so in one line (never a traceback); a model that does
not fit a board is refused (exit 2, the memory named).
Boards with an FPU build hard-float (their default)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ci import ci_subset
from needs import need_tools

from tinyc import bench, cli
from tinyc.target import list_boards

REPO = Path(__file__).resolve().parents[1]
DIGITS = REPO / "examples" / "digits"
MODEL = [str(DIGITS / "digits.onnx"), "--calib", str(DIGITS / "calib.npz")]


def _cli(capsys, *argv) -> tuple[int, str, str]:
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "internal error" not in err, err
    return rc, out, err


def _run(capsys, board, *argv) -> tuple[int, str, str]:
    """The command on the board, with its default float ABI."""
    return _cli(capsys, *argv, "--board", board.name)


def _counts_line(out: str, board) -> None:
    line = [ln for ln in out.splitlines() if ln.startswith("instructions per inference")]
    assert len(line) == 1, out
    if board.exact_instructions:
        assert "about" not in line[0]
    else:
        assert "no exact counter" in line[0] or "not counted" in line[0], line[0]


@pytest.fixture(scope="module", autouse=True)
def tools():
    need_tools("arm-none-eabi-gcc", "qemu-system-arm")


# CI runs an M4F (the default board), an M0 without FPU and an M33 with TrustZone; every other
# board by hand (python -m pytest -m slow tests/test_cli_boards.py): ~1 min each
CI_BOARDS = ("stm32f405", "microbit", "mps2-an505")


@pytest.mark.parametrize("board", ci_subset(list_boards(), CI_BOARDS, lambda b: b.name))
def test_run_data_and_input_on_every_board(board, capsys, tmp_path):
    rc, out, err = _run(capsys, board, "run", *MODEL, "--data", DIGITS / "test.npz")
    assert rc == 0, out + err
    assert "== golden model (interpret), 360 samples: yes, bit-exact" in out
    assert "int8 in QEMU" in out
    _counts_line(out, board)
    x = np.load(DIGITS / "test.npz")["input"][0]
    np.save(tmp_path / "x.npy", x)
    rc, out2, err = _run(capsys, board, "run", *MODEL, "--input", tmp_path / "x.npy")
    assert rc == 0, out2 + err
    assert "1 sample: yes, bit-exact" in out2 and "output: [[" in out2
    _counts_line(out2, board)


@pytest.mark.parametrize("board", ci_subset(list_boards(), CI_BOARDS, lambda b: b.name))
def test_check_and_sweep_qemu_on_every_board(board, capsys, tmp_path):
    rc, out, err = _run(capsys, board, "check", *MODEL, "--data", DIGITS / "test.npz")
    assert rc == 0 and "host C == golden model" in out, out + err
    rc, out2, err = _run(capsys, board, "sweep", *MODEL, "--data", DIGITS / "test.npz",
                         "-o", tmp_path / "sw", "--grid", "int8", "--qemu", "--no-measure")
    assert rc == 0, out2 + err
    md = (tmp_path / "sw" / "sweep.md").read_text()
    row = [ln for ln in md.splitlines() if ln.startswith("| int8 |")][0]
    insns = row.split("|")[5].strip()
    assert insns.replace(",", "").isdigit(), row          # counted (exactly or from SysTick)
    assert ("no exact instruction counter" in md) == (not board.exact_instructions), md


@pytest.mark.parametrize("board", ci_subset(list_boards(), ("stm32f405", "mps2-an505"),
                                             lambda b: b.name))
def test_bench_on_every_board(board, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "MLPERF", ())               # the digits example only: cheap
    (tmp_path / "mlperf-tiny").mkdir()
    md = tmp_path / "B.md"
    argv = ["bench", "--models", tmp_path, "-o", md, "--no-ptq"]
    rc, out, err = _run(capsys, board, *argv)
    assert rc == 0, out + err
    text = md.read_text()
    row = [ln for ln in text.splitlines() if ln.startswith("| digits (example) |")][0]
    assert row.split("|")[3].strip().replace(",", "").isdigit(), row
    if not board.exact_instructions:
        assert len([ln for ln in err.splitlines() if "no exact instruction counter" in ln]) == 1
        assert "no exact instruction counter" in text


def test_model_too_big_for_the_m0_is_refused(capsys, models_dir):
    rc, out, err = _cli(capsys, "run", models_dir / "mlperf-tiny" / "kws_int8_qdq.onnx",
                        "--board", "microbit", "--input", "x.npy")
    assert rc == 2 and err.startswith("error: ") and "RAM" in err and "microbit" in err, err


def test_float_abi_flag_on_a_board_without_fpu_is_refused(capsys):
    rc, out, err = _cli(capsys, "run", *MODEL, "--board", "microbit", "--float-abi", "hard",
                        "--data", DIGITS / "test.npz")
    assert rc == 2 and "needs an FPU" in err and len(err.strip().splitlines()) == 1, err
