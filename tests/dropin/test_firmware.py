"""Several models in one bare-metal firmware, run in QEMU (acceptance 1 and 2).

* examples/firmware (digits + MLPerf Tiny kws) built with its Makefile and with its CMake
  project and toolchain file; each model gives the outputs it gives alone (its own firmware
  from tinyc.run_qemu), which are the golden model's (and TFLite Micro's for kws).
* Two builds of the digits network (per channel and per tensor: same kernels, same tensor
  names) in one firmware through tinyc.firmware, without the MLPerf Tiny models.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinyc.firmware import link
from tinyc.qemu import qemu_command
from tinyc.target import load_board

from .conftest import EXAMPLE, N_SAMPLES, hex_lines, make_inputs_module, need, run

TOOLS = ("arm-none-eabi-gcc", "qemu-system-arm")


def run_elf(elf: Path) -> str:
    proc = subprocess.run(qemu_command(elf, load_board("stm32")), capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


def alone(model, xs) -> list[np.ndarray]:
    """Each sample's output with the model alone in its own firmware (tinyc's harness; built
    soft-float: the bits do not depend on the float ABI, and the example's builds compare)."""
    import dataclasses
    soft = dataclasses.replace(load_board(model.board), name="stm32-soft", float_abi="soft")
    y = model.run_qemu(np.stack(xs), batch=True, board=soft)
    return [np.asarray(o).ravel() for o in y]


@pytest.fixture(scope="module")
def example(tmp_path_factory, digits, kws, digits_x, models_dir):
    """The example's two model folders, built by tinyc, and the outputs of each model alone."""
    need(*TOOLS, "make")
    root = tmp_path_factory.mktemp("example")
    for m in (digits, kws):
        m.write(root / "models" / m.name)
    mi = make_inputs_module()               # the example quantizes as tinyc does
    macros = mi.header_macros(root / "models" / "digits" / "digits.h", "DIGITS")
    x = np.load(EXAMPLE.parents[1] / "examples" / "digits" / "test.npz")["input"][:N_SAMPLES]
    assert np.array_equal(mi.quantize(x, float(macros["IN0_SCALE"].rstrip("f")),
                                      int(macros["IN0_ZERO_POINT"].strip("()"))),
                          digits_x.reshape(x.shape))
    ref = np.load(models_dir / "mlperf-tiny" / "kws_ref.npz")
    kx = list(ref["inputs"][:N_SAMPLES])
    want = {"digits": alone(digits, list(digits_x)), "kws": alone(kws, kx)}
    for s in range(N_SAMPLES):
        assert np.array_equal(want["digits"][s], digits.interpret(digits_x[s]).ravel())
        assert np.array_equal(want["kws"][s], ref["outputs_tflm"][s])
    return root, models_dir, want


def _check(stdout: str, want: dict) -> None:
    got = hex_lines(stdout)
    assert "done" in stdout and len(got) == 2 * N_SAMPLES, stdout[-2000:]
    for (model, s), y in sorted(got.items()):
        assert np.array_equal(y, want[model][s]), (model, s, y, want[model][s])


# The example builds hard-float (the board's FPU) by default; soft stays available.
@pytest.mark.parametrize("float_abi", ["hard", "soft"])
def test_make_example_two_models_in_qemu(example, float_abi):
    root, models_dir, want = example
    build = root / f"make-{float_abi}"
    run(["make", "-C", EXAMPLE, f"BUILD={build}", f"MODELS={root / 'models'}",
         f"TINYC_MODELS={models_dir}", f"PYTHON={sys.executable}"]
        + ([] if float_abi == "hard" else [f"FLOAT_ABI={float_abi}"]))
    libgcc = {"hard": "/thumb/v7e-m+fp/hard/libgcc.a", "soft": "/thumb/v7e-m/nofp/libgcc.a"}
    assert libgcc[float_abi] in (build / "firmware.map").read_text()   # the multilib linked
    _check(run_elf(build / "firmware.elf"), want)


@pytest.mark.parametrize("float_abi", ["hard", "soft"])
def test_cmake_example_two_models_in_qemu(example, float_abi):
    need("cmake")
    root, models_dir, want = example
    build = root / f"cmake-{float_abi}"
    run(["cmake", "-S", EXAMPLE, "-B", build,
         f"-DCMAKE_TOOLCHAIN_FILE={EXAMPLE / 'arm-none-eabi.cmake'}",
         f"-DMODELS={root / 'models'}", f"-DTINYC_MODELS={models_dir}",
         f"-DPYTHON={sys.executable}"]
        + ([] if float_abi == "hard" else [f"-DTINYC_FLOAT_ABI={float_abi}"]))
    run(["cmake", "--build", build])
    _check(run_elf(build / "firmware.elf"), want)


TWO_MAIN = """\
#include <stdint.h>
#include "digits.h"
#include "digits_pt.h"
#include "semihost.h"

static const int8_t x[{n}][DIGITS_IN0_SIZE] = {{ {rows} }};
static int32_t arena[(DIGITS_PT_ARENA_SIZE + 3) / 4];

int main(void)
{{
    static int8_t y[DIGITS_OUT0_SIZE], z[DIGITS_PT_OUT0_SIZE];
    uint32_t s;
    for (s = 0; s < {n}u; s++) {{
        digits_invoke(x[s], y);
        digits_pt_invoke_with_arena((int8_t *)arena, x[s], z);
        sh_puts("digits"); sh_kv("s", s); sh_puts(" hex="); sh_put_hex(y, sizeof y); sh_puts("\\n");
        sh_puts("digits_pt"); sh_kv("s", s); sh_puts(" hex="); sh_put_hex(z, sizeof z);
        sh_puts("\\n");
    }}
    return 0;
}}
"""


def test_two_builds_of_one_network_in_one_firmware(digits, digits_pt, digits_x, tmp_path):
    """Same ops, same kernels, same tensor names: only the prefixes keep them apart."""
    need(*TOOLS)
    dirs = [m.write(tmp_path / m.name) for m in (digits, digits_pt)]
    rows = ", ".join("{" + ", ".join(map(str, x.ravel().tolist())) + "}" for x in digits_x)
    main = tmp_path / "main.c"
    main.write_text(TWO_MAIN.format(n=len(digits_x), rows=rows))
    srcs = [main, *(p for d in dirs for p in sorted(d.rglob("*.c")))]
    elf = link(load_board("stm32"), srcs, tmp_path / "two.elf", dirs)
    got = hex_lines(run_elf(elf))
    for m in (digits, digits_pt):
        for s, y in enumerate(alone(m, list(digits_x))):
            assert np.array_equal(got[m.name, s], y), (m.name, s)
    assert any(not np.array_equal(got["digits", s], got["digits_pt", s])
               for s in range(len(digits_x)))
