"""The generated C under every firmware build flag set: the digits example, the MLPerf Tiny
models and a build of each weight format (s4, cb, sparse, mask, wide, int16, wino, pw) compile
with -std=c99 -Wall -Wextra -Werror for Cortex-M0+/M3/M4/M7/M33/M55, float ABI soft/softfp/hard,
-O0 .. -Ofast, with arm-none-eabi-gcc and clang, and link with LTO (where inline asm that the
register allocator cannot satisfy fails).  On the DSP cores (M4/M7/M33/M55) the fast kernels
must be the DSP code from -Og on (objdump finds their DSP instructions); elsewhere, and at -O0,
the portable path (same bits) and no DSP instruction.

CI runs a subset (every core, float ABI, compiler, -O0/-O2/-Os, LTO once per compiler); the whole
matrix is marked slow: pytest -m slow tests/target/test_flag_matrix.py."""
from __future__ import annotations

import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from needs import missing, need_tools

from ..backend.test_compile import COMPRESSED, MLPERF, ORT_EXACT, _mlperf_folder, _strict_sources

FPU = {"cortex-m0plus": None, "cortex-m3": None, "cortex-m4": "fpv4-sp-d16",
       "cortex-m7": "fpv5-d16", "cortex-m33": "fpv5-sp-d16", "cortex-m55": "auto"}
DSP_CORES = {"cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55"}
OPTS = ["-O0", "-Og", "-O1", "-O2", "-O3", "-Os", "-Ofast"]
NEWLIB = "/usr/lib/arm-none-eabi/include"
# kernel file -> DSP instructions its fast path must contain
FAST = {"tinyc_conv2d_fast_s8": {"smlad", "sxtab16", "smmlar"},
        "tinyc_depthwise_conv2d_fast_s8": {"smlabb", "smlatt", "sxtab16", "sxtb16", "smmlar",
                                           "smlad", "pkhbt", "pkhtb"},
        "tinyc_fully_connected_fast_s8": {"smlad", "sxtb16", "smmlar"},
        "tinyc_fully_connected_wide": {"smlad"},
        "tinyc_add_lut_s8": {"smmlar"},
        "tinyc_conv2d_s8": {"smlad", "sxtab16"},
        "tinyc_conv2d_fewch_s8": {"smlad", "smmlar"},
        "tinyc_conv2d_k8_fast_s8": {"smlad", "sxtab16", "sxtb16", "smmlar"},
        "tinyc_conv2d_fast_s16": {"smlad", "sxtb16", "smmulr"},
        "tinyc_depthwise_conv2d_fast_s16": {"smlabb", "smlatt", "smmulr"},
        "tinyc_conv2d_wino_s8": {"smlad", "sxtab16", "sadd16", "ssub16", "smmlar"},
        "tinyc_conv2d_pw_s8": {"smlad", "sxtab16", "smmlar"}}
DSP_INSNS = {"smlad", "smlabb", "smlatt", "sxtab16", "sxtb16", "smmlar", "smmulr", "pkhbt",
             "pkhtb", "sadd16", "ssub16"}


def flags(cc: str, cpu: str, abi: str, opt: str) -> list[str]:
    fpu = FPU[cpu]
    out = ["-mthumb", f"-mcpu={cpu}", f"-mfloat-abi={abi}", opt, "-std=c99", "-Wall",
           "-Wextra", "-Werror"]
    if abi != "soft" and not (cc == "clang" and fpu == "auto"):     # clang: the core's FPU
        out.append(f"-mfpu={fpu}")
    if cc == "clang":
        return ["clang", "--target=arm-none-eabi", "-isystem", NEWLIB, *out]
    return ["arm-none-eabi-gcc", *out]


def configs() -> list[tuple[str, str, str, str]]:
    """(compiler, core, float ABI, -O): every combination (soft only without an FPU)."""
    return [(cc, cpu, abi, opt) for cc in ("gcc", "clang") for cpu in FPU
            for abi in (("soft", "softfp", "hard") if FPU[cpu] else ("soft",)) for opt in OPTS]


# Every core, float ABI, -O0/-O2/-Os and compiler at least once; LTO once per compiler.
CI = [("gcc", "cortex-m0plus", "soft", "-O0"), ("gcc", "cortex-m3", "soft", "-Os"),
      ("gcc", "cortex-m4", "hard", "-O2"), ("gcc", "cortex-m7", "softfp", "-Os"),
      ("gcc", "cortex-m33", "hard", "-O0"), ("gcc", "cortex-m55", "hard", "-Os"),
      ("clang", "cortex-m0plus", "soft", "-O2"), ("clang", "cortex-m3", "soft", "-O0"),
      ("clang", "cortex-m4", "softfp", "-Os"), ("clang", "cortex-m7", "hard", "-O2"),
      ("clang", "cortex-m33", "softfp", "-O2"), ("clang", "cortex-m55", "hard", "-O2")]
CI_LTO = [("gcc", "cortex-m4", "hard", "-O2"), ("clang", "cortex-m33", "hard", "-Os")]
LTO_OPTS = ("-O2", "-O3", "-Os")      # the whole matrix links at these


def _id(c) -> str:
    return "-".join(x.lstrip("-") for x in c)


def _params(ci, full):
    return [pytest.param(c, id=_id(c)) for c in ci] + \
        [pytest.param(c, id=_id(c) + "-full", marks=pytest.mark.slow) for c in full if c not in ci]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, example_dir, request) -> Path:
    """root/<model>/: the digits example, each weight format of it, the MLPerf models."""
    import tinyc
    root = tmp_path_factory.mktemp("flags")
    calib = example_dir / "calib.npz"
    tinyc.compile(example_dir / "digits.onnx", calib=calib, progress=None).write(root / "digits")
    for tag, kw in COMPRESSED.items():
        tinyc.compile(example_dir / "digits.onnx", calib=calib, progress=None,
                      **kw).write(root / f"digits_{tag}")
    folder = _mlperf_folder(request)
    if folder is None:
        missing("MLPerf Tiny models not found (set TINYC_MODELS)")
    for m in MLPERF:
        tinyc.compile(folder / f"{m}_int8.tflite", progress=None).write(root / m)
    qdq = Path(__file__).parents[1] / "qdq_models"
    for name in ORT_EXACT:          # ONNX Runtime's arithmetic in integers (ort_exact)
        tinyc.compile(qdq / f"{name}.onnx", progress=None, ort_exact=True).write(
            root / f"{name}_ort")
    return root


def _run(cmd, cwd=None) -> str:
    """'' or the command and its messages."""
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return "" if p.returncode == 0 else " ".join(map(str, cmd))[-300:] + "\n" + p.stderr[-3000:]


def _pool(jobs):
    with ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as ex:
        return [e for e in ex.map(lambda j: _run(*j), jobs) if e]


def _disasm(obj: Path) -> set[str]:
    text = subprocess.run(["arm-none-eabi-objdump", "-d", str(obj)], check=True,
                          capture_output=True, text=True).stdout
    return set(re.findall(r"^\s+[0-9a-f]+:\s+(?:[0-9a-f]{4} ?){1,2}\s+([a-z0-9]+)", text, re.M))


def _tools(cc):
    need_tools("arm-none-eabi-gcc", "arm-none-eabi-objdump", *(["clang"] if cc == "clang" else []))


@pytest.mark.parametrize("config", _params(CI, configs()))
def test_compiles_and_fast_path(config, corpus, tmp_path):
    cc, cpu, abi, opt = config
    _tools(cc)
    cmd = flags(cc, cpu, abi, opt)
    srcs = [s for s in _strict_sources(corpus) if s.name != "model_data.c"]     # data: no code
    objs = [tmp_path / f"{i}_{s.parent.name}_{s.stem}.o" for i, s in enumerate(srcs)]
    errors = _pool([([*cmd, "-c", str(s), "-o", str(o)],) for s, o in zip(srcs, objs)])
    assert not errors, f"{len(errors)} files fail with {' '.join(cmd)}:\n" + "\n".join(errors[:5])
    kernels = {s.stem: o for s, o in zip(srcs, objs) if s.parent.name == "kernels"}
    assert FAST.keys() <= kernels.keys(), sorted(FAST.keys() - kernels.keys())
    for name, need in FAST.items():
        found = _disasm(kernels[name]) & DSP_INSNS
        if cpu in DSP_CORES and opt != "-O0":
            assert need <= found, f"{name}: the fast path is not compiled in ({sorted(need - found)})"
        elif cpu not in DSP_CORES or cc == "gcc":    # clang -O0 may still pick SMLABB itself
            assert not found, f"{name}: DSP instructions {sorted(found)} on {cpu} {opt}"


def _main_c(d: Path, out: Path) -> Path:
    """out/main.c: runs the model in d once (inputs and outputs from model.h)."""
    h = (d / "model.h").read_text()
    n_in = int(re.search(r"#define \w+_NUM_INPUTS (\d+)", h)[1])
    n_out = int(re.search(r"#define \w+_NUM_OUTPUTS (\d+)", h)[1])
    size = {k: int(v) for k, v in re.findall(r"#define \w+_((?:IN|OUT)\d+)_SIZE (\d+)", h)}
    invoke = re.search(r"void (\w+_invoke)\(const int8_t", h)[1]
    bufs = [f"static int8_t in{k}[{size[f'IN{k}']}];" for k in range(n_in)]
    bufs += [f"static int8_t out{k}[{size[f'OUT{k}']}];" for k in range(n_out)]
    args = [f"in{k}" for k in range(n_in)] + [f"out{k}" for k in range(n_out)]
    main = out / "main.c"
    main.write_text(f'#include "{d}/model.h"\n' + "\n".join(bufs) +
                    "\nint main(void);\nint main(void)\n{\n"
                    f"    {invoke}({', '.join(args)});\n    return out0[0];\n}}\n")
    return main


@pytest.mark.parametrize("config", _params(CI_LTO, [c for c in configs() if c[3] in LTO_OPTS]))
def test_links_with_lto(config, corpus, tmp_path):
    """Each model linked whole-program: gcc -flto (code generated at link time), clang -flto
    (bitcode merged with llvm-link, then code generation of the one module)."""
    cc, cpu, abi, opt = config
    _tools(cc)
    if cc == "clang":
        need_tools("llvm-link")
    cmd = flags(cc, cpu, abi, opt)
    jobs, models = [], sorted(p for p in corpus.iterdir() if (p / "model.h").is_file())
    for d in models:
        out = tmp_path / d.name
        out.mkdir()
        srcs = [_main_c(d, out), *sorted(d.glob("*.c")), *sorted((d / "kernels").glob("*.c"))]
        objs = [out / f"{i}.o" for i in range(len(srcs))]
        compile_ = [[*cmd, "-flto", "-c", str(s), "-o", str(o)] for s, o in zip(srcs, objs)]
        if cc == "gcc":
            link = [[*cmd, "-flto", "-nostdlib", "-nostartfiles", "-Wl,-e,main",
                     "-Wl,--unresolved-symbols=ignore-all", *map(str, objs), "-lgcc",
                     "-o", str(out / "model.elf")]]
        else:
            link = [["llvm-link", *map(str, objs), "-o", str(out / "model.bc")],
                    [*cmd, "-Wno-unused-command-line-argument", "-c", str(out / "model.bc"),
                     "-o", str(out / "model.elf")]]
        jobs.append((compile_, link))

    def build(job) -> str:
        compile_, link = job
        errs = [e for e in (_run(c) for c in compile_) if e]
        return errs[0] if errs else next((e for e in (_run(c) for c in link) if e), "")

    with ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as ex:
        errors = [e for e in ex.map(build, jobs) if e]
    assert not errors, f"{len(errors)} models fail to link with LTO:\n" + "\n".join(errors[:3])
    if cpu in DSP_CORES:        # the fast kernels survived whole-program optimisation
        found = _disasm(tmp_path / "digits" / "model.elf")
        # digits' depthwise is 3x3: its rows are widened with PKHBT (the 3x3 path), not SMLABB
        assert {"smlad", "pkhbt", "sxtab16", "smmlar"} <= found, sorted(found & DSP_INSNS)


# -- the clang-built fast path in QEMU, and the hard-float build's instruction count -----------

def _model(name, example_dir, request):
    import tinyc
    if name == "digits":
        return tinyc.compile(example_dir / "digits.onnx", board="stm32", progress=None,
                             calib=example_dir / "calib.npz", storage="dense")
    folder = _mlperf_folder(request)
    if folder is None:
        missing("MLPerf Tiny models not found (set TINYC_MODELS)")
    return tinyc.compile(folder / f"{name}_int8.tflite", board="stm32", progress=None,
                         storage="dense")


def _qemu(m, x):
    y = m.run_qemu(x)
    return (y if isinstance(y, (list, tuple)) else [y]), m.last_qemu.instructions[0]


MODELS = [pytest.param("digits")] + [pytest.param(n, marks=pytest.mark.slow) for n in MLPERF]


@pytest.mark.parametrize("name", MODELS)
def test_clang_fast_path_gives_the_interpreters_bits(name, example_dir, request, monkeypatch,
                                                     tmp_path):
    """The model's C compiled by clang -O2 for the board's Cortex-M4 (DSP path), linked into
    the QEMU firmware: outputs equal to the IR interpreter's on random inputs."""
    import numpy as np

    import tinyc.firmware as fw
    need_tools("clang", "arm-none-eabi-gcc", "qemu-system-arm")
    sources = fw.model_sources

    def clang_objects(c_dir):
        objs = []
        for s in sources(c_dir):
            o = tmp_path / f"{len(objs)}_{s.stem}.o"
            subprocess.run([*flags("clang", "cortex-m4", fw.float_abi(m.board), "-O2"),
                            "-ffunction-sections",
                            "-c", str(s), "-o", str(o)], check=True)
            objs.append(o)
        return objs                 # clang's __aeabi_memcpy*: boards/minilibc.c

    monkeypatch.setattr(fw, "model_sources", clang_objects)
    m = _model(name, example_dir, request)
    rng = np.random.default_rng(3)
    for _ in range(2):
        xs = [rng.integers(-128, 128, s.shape).astype(np.int8) for s in m.inputs]
        x = xs if len(xs) > 1 else xs[0]
        got, _ = _qemu(m, x)
        want = m.interpret(x)
        for g, w in zip(got, want if isinstance(want, (list, tuple)) else [want]):
            np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
    for dw in tmp_path.glob("*_tinyc_depthwise_conv2d_fast_s8.o"):      # the DSP taps ran
        assert {"smlabb", "sxtab16"} <= _disasm(dw)
