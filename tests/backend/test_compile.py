"""The emitted folder is portable C99: warning-free with gcc, clang (-Wpedantic) and
arm-none-eabi-gcc for Cortex-M4; no floating point, heap or libgcc division helpers in the
objects; a standalone host program built from it under ASan + UBSan gives the IR's bits."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from needs import need_tools

from tinyc.backend_c import emit_c

from .graphs import mini_net
from .harness import reuse_plan, run_standalone, sequential_plan
from .test_softmax import softmax_graph

STRICT = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
ARM = ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft", "-std=c99",
       "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-O2"]
ALLOWED_EXTERNALS = {"memcpy", "memset", "memmove"}


def _need(tool: str) -> None:
    need_tools(tool)


@pytest.fixture
def net_dir(rng, tmp_path) -> Path:
    g = mini_net(rng)
    emit_c(g, reuse_plan(g), tmp_path / "net")
    return tmp_path / "net"


def _sources(d: Path) -> list[str]:
    return [str(p) for p in sorted(d.rglob("*.c"))]


@pytest.mark.parametrize("cc", ["gcc", "clang"])
@pytest.mark.parametrize("opt", ["-O0", "-O2", "-Os"])
def test_host_compilers_strict(cc, opt, net_dir, tmp_path):
    _need(cc)
    for src in _sources(net_dir):
        subprocess.run([cc, *STRICT, opt, "-c", src, "-o", str(tmp_path / "x.o")],
                       check=True, cwd=net_dir)


def _arm_objects(d: Path, out: Path, extra=()) -> list[Path]:
    objs = []
    for i, src in enumerate(_sources(d)):
        obj = out / f"{i}_{Path(src).stem}.o"
        subprocess.run([*ARM, *extra, "-c", src, "-o", str(obj)], check=True, cwd=d)
        objs.append(obj)
    return objs


def _nm(objs) -> str:
    return subprocess.run(["arm-none-eabi-nm", *map(str, objs)], check=True, capture_output=True,
                          text=True).stdout


@pytest.mark.parametrize("cpu", ["cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33"])
@pytest.mark.parametrize("freestanding", [False, True], ids=["hosted", "freestanding"])
def test_arm_cortex_m(cpu, freestanding, net_dir, tmp_path):
    """Only memcpy/memset/memmove are needed (no soft-float, no 64-bit division helpers); the
    dot-product kernels need nothing at all, even under -ffreestanding (no memcpy calls)."""
    _need("arm-none-eabi-gcc")
    _need("arm-none-eabi-nm")
    extra = [f"-mcpu={cpu}"] + (["-ffreestanding", "-ffunction-sections"] if freestanding else [])
    objs = _arm_objects(net_dir, tmp_path, extra)
    nm = _nm(objs)
    defined = set(re.findall(r"^[0-9a-f]+ [TtDdRrBb] (\w+)$", nm, re.M))
    undefined = set(re.findall(r"^\s+U (\w+)$", nm, re.M)) - defined
    assert undefined <= ALLOWED_EXTERNALS, sorted(undefined - ALLOWED_EXTERNALS)
    assert "tinyc_model_invoke" in defined
    dots = [o for o in objs if re.search(r"(conv2d|fully_connected)_s8\.o$", o.name)]
    assert len(dots) == 3 and "U " not in _nm(dots)


def test_no_float_in_sources(net_dir):
    for p in sorted(net_dir.rglob("*.[ch]")):
        text = re.sub(r"/\*.*?\*/", "", p.read_text(), flags=re.S)
        if p.name == "model.h":           # scales as documentation macros only
            text = re.sub(r"#define \w+_SCALE .*", "", text)
        assert not re.search(r"\b(float|double)\b|\d\.\d*f\b", text), p.name


GRAPHS = {"mini_net": lambda rng: mini_net(rng),
          "softmax_all_diffs": lambda rng: softmax_graph((3, 256), 100.0),
          "softmax_long": lambda rng: softmax_graph((1, 5000), 0.05)}


@pytest.mark.parametrize("make", GRAPHS.values(), ids=GRAPHS.keys())
def test_standalone_asan_ubsan(make, rng, tmp_path):
    """Self-contained folder + a main: builds alone and runs clean under ASan/UBSan."""
    _need("gcc")
    g = make(rng)
    d = tmp_path / "m"
    emit_c(g, reuse_plan(g) if len(g.nodes) > 1 else sequential_plan(g), d)
    feeds = [[rng.integers(-128, 128, v.shape).astype(np.int8) for v in g.inputs]
             for _ in range(3)]
    run_standalone(g, d, tmp_path, feeds)
