"""Every exported symbol and every file of a model folder carries the model's name, so that
several folders link into one program (acceptance 3: `nm` shows no unprefixed symbol)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tinyc.backend_c.emit import emit_c, kernel_symbols
from tinyc.runtime import RUNTIME_DIR

from .conftest import MEM_FUNCS, need, run

ARM = ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-O2", "-std=c99", "-ffreestanding",
       "-Wall", "-Wextra", "-Werror"]
HOST = ["gcc", "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror"]


def _compile_all(cc: list[str], c_dir: Path, out: Path, extra=()) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    objs = []
    for src in sorted(c_dir.rglob("*.c")):
        obj = out / (src.stem + ".o")
        run([*cc, *extra, f"-I{c_dir}", "-c", src, "-o", obj])
        objs.append(obj)
    return objs


def _symbols(nm: str, objs) -> tuple[set[str], set[str]]:
    """(defined global symbols, undefined symbols) of the objects."""
    defined = run([nm, "-g", "--defined-only", *objs]).stdout
    undefined = run([nm, "-u", *objs]).stdout
    return ({ln.split()[-1] for ln in defined.splitlines() if len(ln.split()) == 3},
            {ln.split()[-1] for ln in undefined.splitlines() if len(ln.split()) == 2})


@pytest.mark.parametrize("cc,nm", [(ARM, "arm-none-eabi-nm"), (HOST, "nm")], ids=["arm", "host"])
def test_model_objects_export_only_prefixed_symbols(digits, tmp_path, cc, nm):
    need(cc[0], nm)
    c_dir = digits.write(tmp_path / "digits")
    defined, undefined = _symbols(nm, _compile_all(cc, c_dir, tmp_path / "obj"))
    assert {"digits_invoke", "digits_invoke_with_arena", "digits_tinyc_conv2d_s8"} <= defined
    assert not {s for s in defined if not s.startswith("digits_")}
    assert not {s for s in undefined if not s.startswith("digits_")} - MEM_FUNCS


def test_every_runtime_kernel_is_renamed(tmp_path):
    """All runtime kernels (not only those a test model uses) with the generated renames:
    no global symbol keeps its unprefixed name. Catches a kernel the rename scan misses."""
    need("gcc", "nm")
    texts = [p.read_text() for p in sorted(RUNTIME_DIR.glob("tinyc_*.[ch]"))]
    symbols = kernel_symbols(texts)
    assert {"tinyc_conv2d_s8", "tinyc_softmax_s8", "tinyc_add_s8"} <= set(symbols)
    names = tmp_path / "names.h"
    names.write_text("".join(f"#define {s} zz_{s}\n" for s in symbols))
    objs = []
    for src in sorted(RUNTIME_DIR.glob("tinyc_*.c")):
        obj = tmp_path / (src.stem + ".o")
        run([*HOST, "-include", names, f"-I{RUNTIME_DIR}", "-c", src, "-o", obj])
        objs.append(obj)
    defined, undefined = _symbols("nm", objs)
    assert defined and not {s for s in defined if not s.startswith("zz_")}
    assert not {s for s in undefined if not s.startswith("zz_")} - MEM_FUNCS


def test_files_carry_the_name(digits, tmp_path):
    c_dir = digits.write(tmp_path / "out")
    files = sorted(p.relative_to(c_dir).as_posix() for p in c_dir.rglob("*") if p.is_file())
    compiled = [f for f in files if f.endswith(".c")]
    assert {"digits.h", "digits.c", "digits_data.c", "digits_data.h", "digits_names.h",
            "tinyc.mk", "CMakeLists.txt"} <= set(files)
    assert compiled and all(Path(f).name.startswith("digits") for f in compiled), compiled
    for f in compiled:          # every kernel copy sees the renames before anything else
        if f.startswith("kernels/"):
            assert (c_dir / f).read_text().startswith('#include "../digits_names.h"'), f
    assert (c_dir / "digits.c").read_text().splitlines()[1] == '#include "digits_names.h"'


def test_default_name_keeps_the_model_file_names(example_dir, tmp_path):
    import tinyc
    m = tinyc.compile(example_dir / "digits.onnx", calib=example_dir / "calib.npz",
                      progress=None)
    c_dir = m.write(tmp_path / "out")
    assert {"model.h", "model.c", "model_data.c", "model_names.h"} <= {
        p.name for p in c_dir.iterdir()}
    assert (c_dir / "kernels" / "tinyc_conv2d_s8.c").is_file()
    assert "#define tinyc_conv2d_s8 tinyc_model_tinyc_conv2d_s8" in (
        c_dir / "model_names.h").read_text()


def test_rebuild_under_another_name_removes_the_old_files(digits, digits_pt, tmp_path):
    out = tmp_path / "out"
    digits.write(out)
    (out / "notes.c").write_text("/* mine */\n")            # not ours: kept
    digits_pt.write(out)
    left = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.[ch]"))
    assert "notes.c" in left
    assert not [f for f in left if "digits_" not in f and f != "notes.c"
                and not f.startswith("kernels/tinyc_")], left
    assert not [f for f in left if re.search(r"(^|/)digits_(?!pt)", f)], left


def test_data_symbols_never_take_kernel_names(tmp_path):
    """A tensor named like a kernel does not collide with the kernel's link name."""
    from tinyc.ir import Graph
    from tests.backend.harness import int8_input, sequential_plan, set_q
    g = Graph("g")
    x = int8_input(g, "x", (4,), 0)
    y = set_q(g.emit("lut", [x], {"table": tuple(range(-128, 128))}, name="tinyc_lut_s8"), 0)
    g.outputs = [y]
    emit_c(g, sequential_plan(g), tmp_path, name="m")
    data = (tmp_path / "model_data.c").read_text()
    assert "m_tinyc_lut_s8" not in data and "m_xtinyc_lut_s8_table" in data
