"""The generated header documents the C API: shapes, layout, quantization, arena, usage,
tinyc version and options; and the folder is reproducible (same bytes, no paths, no time)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tinyc.backend_c import tinyc_version
from tinyc.errors import TinycError

BUILD_FILES = ("tinyc.mk", "CMakeLists.txt")


def _tree(d: Path) -> dict[str, bytes]:
    """The C folder (not report.json/.html, which carry measurements)."""
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*"))
            if p.is_file() and not p.name.startswith("report.")}


def test_header_documents_the_api(digits, tmp_path):
    h = (digits.write(tmp_path / "d") / "digits.h").read_text()
    spec_in, spec_out = digits.inputs[0], digits.outputs[0]
    for text in [f"tinyc version    {tinyc_version()}",
                 "board stm32f405 (cortex-m4)", "minmax over calibration data",
                 "int8, per output channel", "model file       digits.onnx",
                 f"arena (RAM)      {digits.plan.arena_bytes} bytes (DIGITS_ARENA_SIZE)",
                 "row-major (C order)", "real = scale * (q - zero_point)",
                 f"input 0  'input'  int8 [1, 1, 8, 8], 64 bytes, scale {spec_in.scale!r}, "
                 f"zero point {spec_in.zero_point}",
                 f"output 0  'logits'  int8 [1, 10], 10 bytes, scale {spec_out.scale!r}",
                 '#include "digits.h"', "digits_invoke(in, out);",
                 "digits_invoke_with_arena((int8_t *)arena, in, out);",
                 "DIGITS_EXTERNAL_ARENA", "TINYC_EXTERNAL_ARENA", "digits_names.h",
                 f"#define DIGITS_ARENA_SIZE {digits.plan.arena_bytes}",
                 "#define DIGITS_ARENA_ALIGN 4", "#define DIGITS_IN0_SHAPE {1, 1, 8, 8}",
                 "void digits_invoke_with_arena(int8_t *arena, const int8_t *in, int8_t *out);",
                 "void digits_invoke(const int8_t *in, int8_t *out);"]:
        assert text in h, text
    comment = h[:h.index("*/")]
    assert "/*" not in comment[2:]


def test_qdq_model_header_says_so(kws, tmp_path):
    h = (kws.write(tmp_path / "k") / "kws.h").read_text()
    assert "none (scales from the model's QDQ nodes)" in h and "kws_int8_qdq.onnx" in h


def test_host_header_names_no_board(digits, tmp_path):
    h = (digits.write(tmp_path / "h", host=True) / "digits.h").read_text()
    assert "host (portable C99, no board)" in h and "stm32f405" not in h
    with pytest.raises(TinycError, match="host"):
        digits.write(tmp_path / "x", host=True, measure=True)


def test_same_model_same_bytes_no_paths(digits, tmp_path):
    a, b = _tree(digits.write(tmp_path / "a")), _tree(digits.write(tmp_path / "deeper" / "b"))
    assert a == b
    text = b"".join(a.values())
    assert str(tmp_path).encode() not in text
    assert b"/work" not in text and b"/home" not in text and b"/tmp" not in text
    assert not re.search(rb"20\d\d-\d\d-\d\d", text)              # no dates


def test_build_files_list_every_source(digits, tmp_path):
    c_dir = digits.write(tmp_path / "d")
    sources = sorted(p.relative_to(c_dir).as_posix() for p in c_dir.rglob("*.c"))
    mk = (c_dir / "tinyc.mk").read_text()
    cm = (c_dir / "CMakeLists.txt").read_text()
    assert sorted(re.findall(r"\$\(DIGITS_TINYC_DIR\)/(\S+\.c)", mk)) == sources
    assert sorted(re.findall(r"^    (\S+\.c)$", cm, re.M)) == sources
    assert "add_library(digits STATIC" in cm and "add_library(tinyc::digits ALIAS digits)" in cm
    assert "TINYC_SRCS += $(DIGITS_TINYC_SRCS)" in mk
