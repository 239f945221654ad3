"""The emitted folder is portable C99: warning-free under -std=c99 -Wall -Wextra -Wpedantic
-Wconversion -Wsign-conversion -Werror with gcc, clang and arm-none-eabi-gcc (Cortex-M3/M4/M7/M33,
so the DSP paths too), over the C of every test model (tests/models.py, the digits example and
its int4 / clustered / sparse builds, the MLPerf Tiny QDQ and .tflite models, the backend's
graphs); no floating point, heap or libgcc division helpers in the objects; a standalone host
program built from it under ASan + UBSan gives the IR's bits."""
from __future__ import annotations

import os
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

WARN = ["-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wsign-conversion", "-Werror"]
STRICT = ["-std=c99", *WARN]
ARM = ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft", "-std=c99",
       *WARN, "-O2"]
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


# -- every test model's C under the strict flags, per compiler and per owner of the files --------

MLPERF = ["kws", "vww", "ic", "ad"]
# ort_exact builds (ONNX Runtime's arithmetic in integers): tinyc_ort.h requantization, the
# float32 averages (tinyc_ort_float.h, both modes), the per-channel tables (lut_channels) and
# QLinearMul (tinyc_mul_ort_s8.c); mixed_pt2e: the int16 island before its float MatMul
ORT_EXACT = ("resnet_ort_qop_u8", "dwsep_pt2e", "autoenc_ort_qdq_s8", "mixed_ort_qop_u8",
             "mixed_pt2e")
COMPRESSED = {"s4": {"weights": "int4"}, "cb": {"cluster": 16},
              "sparse": {"prune": 0.9, "storage": "sparse"},
              "mask": {"prune": 0.5, "prune_scope": "global", "storage": "mask"},
              "wide": {"storage": "wide"}, "int16": {"activations": "int16"},
              "wino": {"storage": "wino"}, "pw": {"storage": "pw"}}
STRICT_CONFIGS = {
    "gcc": ["gcc", "-O2"],
    "clang": ["clang", "-O2"],
    # gcc warns about some implicit conversions only when UBSan instruments the expression
    # (no folding): the sanitized host builds compile with -Werror too
    "gcc-sanitize": ["gcc", "-O1", "-fsanitize=address,undefined"],
    **{f"arm-{cpu}": ["arm-none-eabi-gcc", f"-mcpu={cpu}", "-mthumb", "-mfloat-abi=soft", "-O2"]
       for cpu in ("cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33")},
    # a firmware engineer's debug build (-O0) and clang for Arm (the core of armclang) take
    # the same folder: the DSP path steps aside at -O0 (TINYC_DSP, tinyc_nn.h), the portable path stays
    "arm-cortex-m4-O0": ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft",
                         "-O0"],
    "clang-arm-cortex-m4": ["clang", "--target=arm-none-eabi", "-mcpu=cortex-m4", "-mthumb",
                            "-mfloat-abi=soft", "-O2", "-isystem", "/usr/lib/arm-none-eabi/include"],
}
# Who owns which runtime file (a warning is routed to its owner); the rest, and the generated
# model*.c/.h (backend templates), are the backend's.
OWNERS = {
    "speed": re.compile(r"tinyc_(fully_connected|conv2d|conv2d_k8|depthwise_conv2d)_fast_s8\.c$|"
                        r"tinyc_(fast|dot)\.h$"),
    "compression": re.compile(r"_(s4|cb|sparse)\.c$|tinyc_packed\.[ch]$"),
}
DIAG = re.compile(r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?:\d+:)? (?:fatal )?(?:warning|error): "
                  r"(?P<msg>.*)$", re.M)


def _owner(path: str) -> str:
    return next((o for o, pat in OWNERS.items() if pat.search(path)), "backend")


@pytest.fixture(scope="module")
def strict_corpus(tmp_path_factory, test_models, example_dir, request) -> Path:
    """root/<model>/...: the emitted folders of every test model (MLPerf ones when present)."""
    import tinyc
    root = tmp_path_factory.mktemp("strict")

    def write(tag, path, **kw):
        tinyc.compile(path, progress=None, **kw).write(root / tag)

    for name, t in sorted(test_models.items()):
        write(name, t.path, calib=t.calib)
    calib = example_dir / "calib.npz"
    write("digits", example_dir / "digits.onnx", calib=calib)
    for tag, kw in COMPRESSED.items():
        write(f"digits_{tag}", example_dir / "digits.onnx", calib=calib, **kw)
    rng = np.random.default_rng(6)
    for tag, make in GRAPHS.items():
        g = make(rng)
        emit_c(g, reuse_plan(g) if len(g.nodes) > 1 else sequential_plan(g), root / tag)
    folder = _mlperf_folder(request)
    if folder is not None:
        for m in MLPERF:
            write(f"{m}_qdq", folder / f"{m}_int8_qdq.onnx")
            write(f"{m}_tflite", folder / f"{m}_int8.tflite")
    qdq = Path(__file__).parents[1] / "qdq_models"
    for name in ORT_EXACT:
        write(f"{name}_ort", qdq / f"{name}.onnx", ort_exact=True)
    return root


def _mlperf_folder(request) -> Path | None:
    from tinyc.bench import models_dir
    folder = models_dir() / "mlperf-tiny"
    return folder if (folder / "kws_int8_qdq.onnx").is_file() else None


def test_strict_corpus_has_the_mlperf_models_and_every_format(strict_corpus, request):
    if _mlperf_folder(request) is None:
        from needs import missing
        missing("MLPerf Tiny models not found (set TINYC_MODELS): the strict C checks ran "
                "without them")
    kernels = {p.name for p in strict_corpus.glob("*/kernels/*.c")}
    for fmt in ("s4", "cb", "sparse"):
        assert any(k.endswith(f"_{fmt}.c") for k in kernels), (fmt, sorted(kernels))
    assert {f"{m}_{k}" for m in MLPERF for k in ("qdq", "tflite")} <= \
        {p.name for p in strict_corpus.iterdir()}


def _strict_sources(root: Path) -> list[Path]:
    """Each model's model.c and model_data.c, and each distinct kernel file once (the copies
    differ only in the model_names.h they include: link names, no code)."""
    seen, out = set(), []
    for f in sorted(root.glob("*/*.c")) + sorted(root.glob("*/kernels/*.c")):
        key = (f.parent.name == "kernels", f.name, f.read_bytes() if f.parent.name == "kernels"
               else str(f))
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _runtime_line(root: Path, file: str, line: int) -> str:
    """kernels/X.c:N -> runtime/X.c:M (emit prepends an #include line to each kernel .c and
    the #define lines of CallContext.define, each marked '/* tinyc: ')."""
    p = root / file
    if p.parent.name != "kernels":
        return f"{file}:{line}"
    lines = p.read_text().splitlines() if p.suffix == ".c" else []
    added = next((i for i, t in enumerate(lines) if "/* tinyc: " not in t), len(lines))
    return f"runtime/{p.name}:{line - added}"


_DIAGNOSTICS: dict = {}


def _diagnostics(root: Path, config: str, tmp: Path) -> dict[str, set[str]]:
    """owner -> {'runtime/file.c:line: message'} for one compiler configuration; one compiler
    run over all the files (-Werror: any warning is an error; all are listed)."""
    key = (str(root), config)
    if key not in _DIAGNOSTICS:
        cc, *flags = STRICT_CONFIGS[config]
        _need(cc)
        srcs = [str(p) for p in _strict_sources(root)]
        jobs = max(1, min(4, os.cpu_count() or 1))
        runs = []
        for j in range(jobs):       # a few compiler runs side by side, each over a share
            out = tmp / f"objs{j}"   # objects land here (same names overwrite: only the
            out.mkdir(parents=True, exist_ok=True)      # messages matter)
            runs.append(subprocess.Popen([cc, "-std=c99", *WARN, *flags, "-c", *srcs[j::jobs]],
                                         cwd=out, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, text=True))
        errs = [r.communicate()[1] for r in runs]
        failed = any(r.returncode for r in runs)
        text = "".join(errs).replace(str(root) + "/", "")
        found: dict[str, set[str]] = {}
        for m in DIAG.finditer(text):
            where = _runtime_line(root, m["file"], int(m["line"]))
            found.setdefault(_owner(m["file"]), set()).add(f"{where}: {m['msg']}")
        if failed and not found:
            found["backend"] = {f"{cc} failed without a diagnostic: {text[-2000:]}"}
        _DIAGNOSTICS[key] = found
    return _DIAGNOSTICS[key]


@pytest.mark.parametrize("owner", ["backend", "speed", "compression"])
@pytest.mark.parametrize("config", STRICT_CONFIGS)
def test_every_model_is_strict_clean(config, owner, strict_corpus, tmp_path):
    """-std=c99 -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Werror: no message.
    Split by the owner of the file the message is in, so that each owner's id says whose it is."""
    found = sorted(_diagnostics(strict_corpus, config, tmp_path).get(owner, ()))
    assert not found, f"{len(found)} diagnostics in {owner}'s files with {config}:\n" + \
        "\n".join(found)


def test_the_strict_check_reports_a_narrowing(tmp_path):
    """The check fails on an implicit int32 -> int8 narrowing and routes it to its file."""
    d = tmp_path / "bad"
    (d / "kernels").mkdir(parents=True)
    (d / "model.c").write_text("#include <stdint.h>\nint8_t f(int32_t x);\n"
                               "int8_t f(int32_t x) { return x; }\n")
    (d / "kernels" / "tinyc_dot.h").write_text("")
    (d / "kernels" / "tinyc_conv2d_fast_s8.c").write_text(
        '#include "tinyc_dot.h"\n#include <stdint.h>\nuint32_t g(int32_t x);\n'
        "uint32_t g(int32_t x) { return x; }\n")
    found = _diagnostics(tmp_path, "gcc", tmp_path / "run")
    assert [m.split(": ")[0] for m in found["backend"]] == ["bad/model.c:3"]
    assert [m.split(": ")[0] for m in found["speed"]] == ["runtime/tinyc_conv2d_fast_s8.c:4"]
