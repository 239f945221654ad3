"""Drop-in tests (issue 7): model folders as a firmware engineer uses them — several models in
one program, Make and CMake, the example firmware, a host program. The models are compiled
once per session: digits (examples/digits), digits_pt (the same network quantized per tensor,
so other weights and scales) and kws (MLPerf Tiny, from the repository's models/)."""
from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from needs import need_tools

import tinyc

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "firmware"
N_SAMPLES = 4
MEM_FUNCS = {"memcpy", "memmove", "memset"}


def need(*tools: str) -> None:
    """Skip without the tools; under CI a missing tool fails (a skipped proof proves nothing)."""
    need_tools(*tools)


def run(cmd, **kw) -> subprocess.CompletedProcess:
    """Run a command; on failure the assertion shows its output."""
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} -> {proc.returncode}\n" \
                                 f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def hex_lines(stdout: str) -> dict[tuple[str, int], np.ndarray]:
    """`<model> s=<i> ... hex=<bytes>` lines -> {(model, i): int8 array}."""
    return {(m[1], int(m[2])): np.frombuffer(bytes.fromhex(m[3]), np.int8)
            for m in re.finditer(r"^(\w+) s=(\d+)(?: \S+)*? hex=([0-9a-f]*)$", stdout, re.M)}


def make_inputs_module():
    spec = importlib.util.spec_from_file_location("make_inputs", EXAMPLE / "make_inputs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def digits(example_dir):
    return tinyc.compile(example_dir / "digits.onnx", calib=example_dir / "calib.npz",
                         name="digits", progress=None)


@pytest.fixture(scope="session")
def digits_pt(example_dir):
    return tinyc.compile(example_dir / "digits.onnx", calib=example_dir / "calib.npz",
                         name="digits_pt", per_tensor=True, progress=None)


@pytest.fixture(scope="session")
def kws_path(models_dir):
    path = models_dir / "mlperf-tiny" / "kws_int8_qdq.onnx"
    if not path.is_file():
        pytest.fail(f"{path} is missing from the models folder")
    return path


@pytest.fixture(scope="session")
def kws(kws_path):
    return tinyc.compile(kws_path, name="kws")


@pytest.fixture(scope="session")
def digits_x(example_dir, digits) -> np.ndarray:
    """N_SAMPLES digits test images, int8 (the same for digits and digits_pt: their input
    quantization comes from the same calibration)."""
    x = np.load(example_dir / "test.npz")["input"][:N_SAMPLES]
    q = np.stack([digits.inputs[0].quantize(a.reshape(digits.inputs[0].shape)) for a in x])
    return q
