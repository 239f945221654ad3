"""Bare-metal firmware around a generated model folder: harness, build, sizes, no-float check.

The model folder (written by the backend) has `model.h`, `model.c`, `model_data.c`, `kernels/*.c`.
`build_firmware` adds a generated harness (`tinyc_fw_main.c`, `tinyc_fw_inputs.c`: the samples
as const arrays in flash) and the board's startup and semihosting files, and links one ELF.
The harness output format is documented in `tinyc.qemu`.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from tinyc.errors import BoardError, TinycError, ToolchainError

if TYPE_CHECKING:
    from tinyc.target import Board

GCC, NM, OBJDUMP, SIZE = ("arm-none-eabi-gcc", "arm-none-eabi-nm", "arm-none-eabi-objdump",
                          "arm-none-eabi-size")
# The float ABI (-mfloat-abi, -mfpu) comes from the board: see float_abi_flags.
CFLAGS = ("-mthumb", "-O2", "-g", "-std=c99", "-ffreestanding",
          "-ffunction-sections", "-fdata-sections", "-Wall", "-Wextra", "-Werror")
LDFLAGS = ("-nostdlib", "-nostartfiles", "-Wl,--gc-sections")
SUPPORT = ("semihost.c", "minilibc.c")
HARNESS_PREFIX = "tinyc_fw_"
_INSTALL = {"arm": "apt-get install --no-install-recommends gcc-arm-none-eabi "
                   "libnewlib-arm-none-eabi",
            "qemu": "apt-get install --no-install-recommends qemu-system-arm"}


class MemoryOverflow(BoardError):
    """The firmware does not fit a memory region (`region`) by `overflow` bytes."""

    def __init__(self, msg: str, region: str, overflow: int):
        super().__init__(msg)
        self.region, self.overflow = region, overflow


def find_tool(tool: str) -> str:
    """Absolute path of an external tool, or ToolchainError naming the Debian packages."""
    path = shutil.which(tool)
    if path is None:
        pkg = _INSTALL["qemu" if tool.startswith("qemu") else "arm"]
        raise ToolchainError(f"{tool}: not found on PATH — expected the Arm bare-metal toolchain "
                             f"and QEMU. Install them (Debian/Ubuntu): {pkg}")
    return path


def _run_tool(cmd: list[str], what: str) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolchainError(f"{what}: {Path(cmd[0]).name} failed (exit {proc.returncode}):\n"
                             f"{proc.stderr.strip()[-4000:]}")
    return proc.stdout


def read_header(c_dir: Path, name: str = "tinyc_model") -> dict[str, int]:
    """Integer `#define NAME_*` macros of the model header (sizes, counts)."""
    text = _header(c_dir, name).read_text()
    pat = rf"^\s*#\s*define\s+{name.upper()}_(\w+)\s+\(?\s*(-?\d+)[uU]?\s*\)?\s*$"
    return {m[1]: int(m[2]) for m in re.finditer(pat, text, re.M)}


def _header(c_dir: Path, name: str) -> Path:
    for h in (c_dir / "model.h", c_dir / f"{name}.h"):
        if h.is_file():
            return h
    raise TinycError(f"{c_dir}: no model header — expected model.h or {name}.h. "
                     "Is this a folder written by `tinyc build`?")


def model_sources(c_dir: Path) -> list[Path]:
    """The model's C files: top-level *.c (not ours) and kernels/*.c."""
    top = [p for p in sorted(c_dir.glob("*.c")) if not p.name.startswith(HARNESS_PREFIX)]
    if not top:
        raise TinycError(f"{c_dir}: no C sources — expected model.c, model_data.c, kernels/*.c.")
    return top + sorted((c_dir / "kernels").glob("*.c"))


def _check_inputs(inputs, macros: dict[str, int]) -> list[list[np.ndarray]]:
    samples = [[np.asarray(x) for x in s] for s in inputs]
    if not samples:
        raise TinycError("firmware: no samples — expected at least one sample.")
    n_in = macros.get("NUM_INPUTS", len(samples[0]))
    for i, s in enumerate(samples):
        if len(s) != n_in:
            raise TinycError(f"firmware: sample {i} — expected {n_in} inputs, got {len(s)}.")
        for k, x in enumerate(s):
            want = macros.get(f"IN{k}_BYTES", macros.get(f"IN{k}_SIZE", samples[0][k].size))
            if x.dtype != np.int8 or x.size != want:
                raise TinycError(f"firmware: sample {i} input {k} — expected int8 with {want} "
                                 f"elements, got {x.dtype} with {x.size}.")
    return samples


def _output_sizes(n_outputs_bytes, macros: dict[str, int]) -> list[int]:
    if n_outputs_bytes is not None:
        return [int(n) for n in n_outputs_bytes]
    if "NUM_OUTPUTS" not in macros:
        raise TinycError("firmware: output sizes unknown — pass n_outputs_bytes or define "
                         "<NAME>_NUM_OUTPUTS and <NAME>_OUT<k>_SIZE in model.h.")
    return [macros.get(f"OUT{k}_BYTES", macros[f"OUT{k}_SIZE"])    # BYTES: not int8 I/O
            for k in range(macros["NUM_OUTPUTS"])]


def sample_stride(n: int) -> int:
    """Bytes one input of n int8 takes in flash: rounded up so every sample is 4-byte aligned."""
    return (n + 3) & ~3


def write_inputs_c(path: Path, samples: list[list[np.ndarray]]) -> None:
    """The samples as `const int8_t tinyc_in<k>[N][stride]` (flash)."""
    lines = ["/* generated by tinyc.firmware: input samples */", "#include <stdint.h>"]
    for k in range(len(samples[0])):
        stride = sample_stride(samples[0][k].size)
        lines.append(f"const int8_t tinyc_in{k}[{len(samples)}][{stride}] "
                     "__attribute__((aligned(4))) = {")
        for s in samples:
            lines.append("{" + ",".join(map(str, s[k].ravel().tolist())) + "},")
        lines.append("};")
    path.write_text("\n".join(lines) + "\n")


_MAIN = """\
/* generated by tinyc.firmware: runs {fn}() on each sample, prints outputs and cost */
#include <stdint.h>
#include "{header}"
#include "semihost.h"
#include "cost.h"
{checks}
#define N_SAMPLES {n}u
#define N_OUTPUTS {n_out}u
{decls}
static int8_t *const outs[N_OUTPUTS] = {{ {out_ptrs} }};
static const uint32_t out_sizes[N_OUTPUTS] = {{ {out_sizes} }};
extern uint32_t _sstack, _estack;
#ifdef TINYC_PROFILE
void tinyc_fw_profile_report(uint32_t s);
#define TINYC_FW_PROFILE_REPORT(s) tinyc_fw_profile_report(s)
#else
#define TINYC_FW_PROFILE_REPORT(s) ((void)0)
#endif
uint32_t stack_paint(void);
uint32_t stack_high_water(void);

static void report(uint32_t s, uint32_t ticks, uint32_t stack)
{{
    uint32_t o;
    sh_puts("sample"); sh_kv("s", s); sh_kv("ticks", ticks); sh_kv("stack", stack);
    sh_puts("\\n");
    for (o = 0; o < N_OUTPUTS; o++) {{
        sh_puts("out"); sh_kv("s", s); sh_kv("o", o); sh_puts(" hex=");
        sh_put_hex(outs[o], out_sizes[o]); sh_puts("\\n");
    }}
}}

int main(void)
{{
    uint32_t s, t0, t1, depth, hw, use, peak = 0, peak_use = 0;
    cost_init();
    t0 = cost_now(); COST_BARRIER(); t1 = cost_now();
    sh_puts("tinyc begin"); sh_kv("samples", N_SAMPLES); sh_kv("inputs", {n_in}u);
    sh_kv("outputs", N_OUTPUTS); sh_puts(" counter=" COST_UNIT); sh_kv("overhead", t1 - t0);
    sh_puts("\\n");
    for (s = 0; s < N_SAMPLES; s++) {{
        depth = stack_paint();
        COST_BARRIER(); t0 = cost_now(); COST_BARRIER();
        {fn}({args});
        COST_BARRIER(); t1 = cost_now(); COST_BARRIER();
        hw = stack_high_water();
        use = hw > depth ? hw - depth : 0u;
        if (hw > peak) peak = hw;
        if (use > peak_use) peak_use = use;
        report(s, t1 - t0, use);
        TINYC_FW_PROFILE_REPORT(s);
    }}
    sh_puts("tinyc end"); sh_kv("stack_peak", peak); sh_kv("stack_invoke", peak_use);
    sh_kv("stack_size", (uint32_t)((uintptr_t)&_estack - (uintptr_t)&_sstack)); sh_puts("\\n");
    return 0;
}}
"""


def write_main_c(path: Path, header: str, name: str, in_sizes: list[int],
                 out_sizes: list[int], n_samples: int) -> None:
    """The harness main: invoke each sample between two counter reads, print via semihosting."""
    up = name.upper()
    err = "#error \"{} {}: model header size differs from the harness ({})\"\n"
    checks = [f"#if defined({up}_{kind}{k}_BYTES)\n#if ({up}_{kind}{k}_BYTES) != {n}\n"
              + err.format(kind.lower(), k, n) + "#endif\n"
              f"#elif defined({up}_{kind}{k}_SIZE) && ({up}_{kind}{k}_SIZE) != {n}\n"
              + err.format(kind.lower(), k, n) + "#endif"
              for kind, sizes in (("IN", in_sizes), ("OUT", out_sizes))
              for k, n in enumerate(sizes)]
    decls = [f"extern const int8_t tinyc_in{k}[N_SAMPLES][{sample_stride(n)}];"
             for k, n in enumerate(in_sizes)]
    decls += [f"static int8_t tinyc_out{k}[{n}] __attribute__((aligned(4)));"
              for k, n in enumerate(out_sizes)]
    args = [f"(const void *)tinyc_in{k}[s]" for k in range(len(in_sizes))]   # any I/O type
    args += [f"(void *)tinyc_out{k}" for k in range(len(out_sizes))]
    path.write_text(_MAIN.format(
        fn=f"{name}_invoke", header=header, checks="\n".join(checks), n=n_samples,
        n_in=len(in_sizes), n_out=len(out_sizes), decls="\n".join(decls),
        out_ptrs=", ".join(f"tinyc_out{k}" for k in range(len(out_sizes))),
        out_sizes=", ".join(f"{n}u" for n in out_sizes), args=", ".join(args)))


_PROFILE = """\
/* generated by tinyc.firmware: per-layer counter reads (model.c's TINYC_PROFILE hook) */
#include <stdint.h>
#include "semihost.h"
#include "cost.h"
#define MAX_LAYERS {max_layers}u
static uint32_t t[MAX_LAYERS + 1u];
static uint32_t n;
void tinyc_profile_hook(int32_t layer)
{
    if (layer >= 0 && (uint32_t)layer <= MAX_LAYERS) {
        t[layer] = cost_now();
        if ((uint32_t)layer + 1u > n) n = (uint32_t)layer + 1u;
    }
}
void tinyc_fw_profile_report(uint32_t s)
{
    uint32_t i;
    for (i = 0; i + 1u < n; i++) {
        sh_puts("layer"); sh_kv("s", s); sh_kv("i", i); sh_kv("ticks", t[i + 1u] - t[i]);
        sh_puts("\\n");
    }
    n = 0;
}
"""


def build_firmware(c_dir: Path, board: Board | str, inputs: Sequence[Sequence[np.ndarray]],
                   out_dir: Path, name: str = "tinyc_model",
                   n_outputs_bytes: Sequence[int] | None = None, profile: bool = False,
                   profile_layers: int = 4096) -> Path:
    """Build `out_dir/<name>.elf`: the model in `c_dir` run on every sample of `inputs`.

    inputs: samples x model inputs, int8 arrays (any shape; sent flat, in C order).
    n_outputs_bytes: bytes of each output; default from `<NAME>_OUT<k>_SIZE` in model.h.
    Raises MemoryOverflow (a BoardError) when the samples do not fit the board's flash.
    profile: build with -DTINYC_PROFILE; after each sample the harness prints one line
    `layer s=<sample> i=<layer> ticks=<counter delta>` per layer (the hook's own cost included),
    for up to profile_layers layers (4 bytes of RAM each).
    """
    from tinyc.target import load_board
    board, c_dir, out_dir = load_board(board), Path(c_dir), Path(out_dir)
    macros = read_header(c_dir, name)
    samples = _check_inputs(inputs, macros)
    out_sizes = _output_sizes(n_outputs_bytes, macros)
    out_dir.mkdir(parents=True, exist_ok=True)
    main_c, inputs_c = out_dir / f"{HARNESS_PREFIX}main.c", out_dir / f"{HARNESS_PREFIX}inputs.c"
    write_main_c(main_c, _header(c_dir, name).name, name, [x.size for x in samples[0]],
                 out_sizes, len(samples))
    write_inputs_c(inputs_c, samples)
    extra = []
    if profile:
        extra = [out_dir / f"{HARNESS_PREFIX}profile.c"]
        extra[0].write_text(_PROFILE.replace("{max_layers}", str(int(profile_layers))))
    elf = out_dir / f"{name}.elf"
    link(board, [main_c, inputs_c, *extra, *model_sources(c_dir)], elf,
         [c_dir, c_dir / "kernels"], ("-DTINYC_PROFILE",) if profile else (),
         arena=macros.get("ARENA_SIZE", 0))
    return elf


def float_abi(board: Board) -> str:
    """The board's float ABI: its `float_abi`, where "auto" (the default) means hard on a
    board with an FPU and soft without one. BoardError for hard/softfp without an FPU."""
    from tinyc.target import FLOAT_ABIS
    abi = board.float_abi
    if abi == "auto":
        return "soft" if board.fpu == "none" else "hard"
    if abi not in FLOAT_ABIS:
        raise BoardError(f"board {board.name}: float ABI {abi!r} — expected one of "
                         f"{', '.join(FLOAT_ABIS)}.")
    if abi != "soft" and board.fpu == "none":
        raise BoardError(f"board {board.name}: float ABI {abi} needs an FPU — expected soft, "
                         f"the {board.core} of this board has none.")
    return abi


def float_abi_flags(board: Board) -> list[str]:
    """-mfloat-abi (and -mfpu unless soft). Passed to the link too, so that gcc links the
    libgcc of the matching multilib (e.g. thumb/v7e-m+fp/hard; see -print-multi-directory)."""
    abi = float_abi(board)
    return [f"-mfloat-abi={abi}", *([f"-mfpu={board.fpu}"] if abi != "soft" else [])]


def compile_flags(board: Board, include_dirs: Sequence[Path] = ()) -> list[str]:
    """The arm-none-eabi-gcc flags for this board (compile part)."""
    counter = [] if board.counter == "none" else [f"-DTINYC_COUNTER_{board.counter.upper()}"]
    incs = [f"-I{d}" for d in (*include_dirs, board.path(""))]
    return [f"-mcpu={board.core}", *CFLAGS, *float_abi_flags(board), *counter, *board.cflags,
            *incs]


def link(board: Board, sources: Sequence[Path], elf: Path,
         include_dirs: Sequence[Path] = (), cflags: Sequence[str] = (), arena: int = 0,
         script: Path | None = None, qemu: bool = True) -> Path:
    """Compile and link `sources` with the board's startup, semihosting and a linker script:
    `script`, or one generated (`<elf>.ld`, `arena` bytes planned into a region) for QEMU's map
    of the board (qemu=True: to run) or for the chip's (qemu=False: to size)."""
    from tinyc.linker import write_linker_script
    from tinyc.target import place_memory
    gcc = find_tool(GCC)
    if script is None:
        plan = place_memory(board, arena, where=f"board {board.name}")
        script = write_linker_script(board, plan, elf.with_suffix(".ld"), qemu=qemu)
    support = [board.path(board.startup), *(board.path(f) for f in SUPPORT)]
    cmd = [gcc, *compile_flags(board, include_dirs), *cflags, f"-T{script}",
           f"-L{board.path('')}", *LDFLAGS, f"-Wl,--defsym=STACK_SIZE={board.stack_size}",
           f"-Wl,-Map={elf.with_suffix('.map')}", "-o", str(elf),
           *map(str, sources), *map(str, support), "-lgcc"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        _raise_build_error(board, proc.stderr)
    return elf


def _raise_build_error(board: Board, stderr: str) -> None:
    over = re.findall(r"region `(\w+)' overflowed by (\d+) bytes", stderr)
    if over:
        flash = board.flash.name.upper()
        region, n = sorted(over, key=lambda r: r[0] == flash)[0]     # RAM first: not batchable
        qemu = board.qemu.memory if board.qemu else ()
        r = next(x for x in (*qemu, *board.memory) if x.name.upper() == region)
        chip = board.region(r.name).size
        capped = (f"; QEMU {board.qemu_machine} models only {r.size} B of the chip's {chip} B"
                  if r.size < chip else "")
        note = f", incl. the {board.stack_size} B stack reserve" if region != flash else ""
        raise MemoryOverflow(f"board {board.name}: firmware does not fit {region} (region "
                             f"{r.name} @0x{r.base:08x}{capped}) — expected at most {r.size} B, "
                             f"got {r.size + int(n)} B{note}. Use a board with more "
                             "memory or a smaller model.",
                             "FLASH" if region == flash else region, int(n))
    raise ToolchainError(f"board {board.name}: firmware build failed — "
                         f"{GCC} reported:\n{stderr.strip()[-6000:]}")


def measure_size(elf: Path) -> dict[str, int]:
    """text, data, bss of an ELF (arm-none-eabi-size), plus flash = text+data, ram = data+bss.

    bss includes the linker script's fixed stack reserve (board.stack_size)."""
    out = _run_tool([find_tool(SIZE), "-B", str(elf)], f"{elf}")
    text, data, bss = (int(v) for v in out.splitlines()[1].split()[:3])
    return {"text": text, "data": data, "bss": bss, "flash": text + data, "ram": data + bss}


_SIZE_MAIN = """\
/* generated by tinyc.firmware: references {fn}() so it is linked; never run */
#include <stdint.h>
void {fn}({params});
int8_t *volatile tinyc_fw_ptr;
int main(void)
{{
    {fn}({args});
    return 0;
}}
{stub}
"""
_empty_cache: dict[tuple, dict[str, int]] = {}


def _size_firmware(board: Board, name: str, n_in: int, n_out: int, out_dir: Path,
                   c_dir: Path | None) -> dict[str, int]:
    fn = f"{name}_invoke"
    types = ["const int8_t *"] * n_in + ["int8_t *"] * n_out
    params = ", ".join(types)
    stub = ""
    if c_dir is None:       # the empty model: an invoke that does nothing
        stub = (f"void {fn}(" + ", ".join(f"{t}a{i}" for i, t in enumerate(types)) + ")\n{\n"
                + "".join(f"    (void)a{i};\n" for i in range(len(types))) + "}")
    main_c = out_dir / f"{HARNESS_PREFIX}size_main.c"
    main_c.write_text(_SIZE_MAIN.format(fn=fn, params=params, stub=stub,
                                        args=", ".join(["tinyc_fw_ptr"] * (n_in + n_out))))
    srcs = [main_c, *(model_sources(c_dir) if c_dir else [])]
    incs = [c_dir, c_dir / "kernels"] if c_dir else []
    arena = read_header(c_dir, name).get("ARENA_SIZE", 0) if c_dir else 0
    return measure_size(link(board, srcs, out_dir / f"{name}_size.elf", incs, arena=arena,
                             qemu=False))                  # sized for the chip, not run


def model_size(c_dir: Path, board: Board | str, out_dir: Path,
               name: str = "tinyc_model") -> dict[str, int]:
    """Flash and RAM of the model alone: a firmware that links the model minus the same
    firmware with an empty invoke (built once per board and signature, cached).

    Returns text/data/bss/flash/ram deltas in bytes (flash = code + weights, ram = arena and
    other statics; the stack is measured at run time, see QemuResult.stack_invoke_bytes)."""
    from tinyc.target import load_board
    board, c_dir, out_dir = load_board(board), Path(c_dir), Path(out_dir)
    macros = read_header(c_dir, name)
    n_in, n_out = macros.get("NUM_INPUTS", 1), macros.get("NUM_OUTPUTS", 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    full = _size_firmware(board, name, n_in, n_out, out_dir, c_dir)
    key = (board, name, n_in, n_out)
    if key not in _empty_cache:
        with tempfile.TemporaryDirectory(prefix="tinyc-empty-") as tmp:
            _empty_cache[key] = _size_firmware(board, name, n_in, n_out, Path(tmp), None)
    return {k: full[k] - _empty_cache[key][k] for k in full}


def symbol_at(elf: Path, addr: int) -> str | None:
    """Name of the function containing code address `addr` (for fault reports)."""
    best = None
    for line in _run_tool([find_tool(NM), "-n", "-S", str(elf)], f"{elf}").splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tTwW":
            start, size = int(parts[0], 16) & ~1, int(parts[1], 16)
            if start <= (addr & ~1) < start + size:
                best = parts[3]
    return best


_FLOAT_SYMBOL = re.compile(
    r"^(__aeabi_(f|d|c[fd]|h2f|[ilu]*2[fdh]|[fd]2)|"
    r"__(add|sub|mul|div|neg|cmp|eq|ne|lt|le|gt|ge|unord)[sdt]f[23]|"
    r"__(fix|fixuns|float|floatun|extend|trunc)[a-z]*[sdth]f|__gnu_(f2h|h2f)|"
    r"(sqrt|exp|log|pow|sin|cos|tanh|floor|ceil|round|fabs)f?$)")
# One disassembled VFP/MVE instruction: mnemonic (with its .type suffixes) and operands.
_VFP_LINE = re.compile(r"^\s+[0-9a-f]+:\s+(?:[0-9a-f]{4} ?){1,2}\s+(v[a-z0-9.]+)\s*(.*)$")
_FLOAT_TYPE = re.compile(r"\.(?:f16|f32|f64|bf16)\b")


def _is_float_arithmetic(mnemonic: str, operands: str) -> bool:
    """A VFP/MVE instruction that computes with floating point (not one that only moves bits).

    Approach (hard-float builds): gcc may move *integer* data through FPU registers —
    vldr/vstr/vldm/vstm/vpush/vpop/vmov as 64-bit copies — so the mere presence of a `v...`
    instruction proves nothing. Every VFP/MVE instruction that computes with floats carries a
    float data type in its disassembly (vadd.f32, vmul.f64, vcvt.f32.s32, vdiv.f32,
    vsqrt.f32, vfma.f32, vcmpe.f32, vrintz.f32, vselgt.f32, vmaxnm.f32, MVE vadd.f32 q...),
    and integer MVE vector ops carry only .i/.s/.u/.8... types. So: float arithmetic = a float
    type suffix, except a register-to-register vmov.fNN (a copy); a vmov.fNN of an immediate
    (a float constant) counts. Plus `vmrs APSR_nzcv, fpscr` (the flags of a float compare)."""
    base = mnemonic.split(".", 1)[0]
    if base == "vmrs":
        return "apsr_nzcv" in operands.lower()
    if not _FLOAT_TYPE.search(mnemonic):
        return False
    return base != "vmov" or "#" in operands


def check_nofloat(elf: Path) -> list[str]:
    """Floating point in a firmware: soft-float/libm helper symbols (nm) and FPU arithmetic
    instructions (objdump; moves of integer data through FPU registers, as a hard-float build
    makes, are not float: see _is_float_arithmetic). Empty list = integer-only.
    As the original harness's check_nofloat.sh, made meaningful under -mfloat-abi=hard."""
    syms = _run_tool([find_tool(NM), str(elf)], f"{elf}").split()
    found = sorted({f"symbol {s}" for s in syms if _FLOAT_SYMBOL.match(s)})
    dis = _run_tool([find_tool(OBJDUMP), "-d", str(elf)], f"{elf}")
    vfp = [f"instruction {ln.strip()}" for ln in dis.splitlines()
           if (m := _VFP_LINE.match(ln)) and _is_float_arithmetic(m[1], m[2])]
    return found + vfp[:20]
