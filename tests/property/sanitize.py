"""Run emitted C under AddressSanitizer and UndefinedBehaviorSanitizer on the host.

    outs = run_sanitized(c_dir, samples)     # samples: list of [int8 array per input]

build_host(c_dir, SANITIZE_FLAGS) makes a cffi extension compiled with
-fsanitize=address,undefined -fno-sanitize-recover=all. An ASan-instrumented extension only
loads into a Python that has the ASan runtime first in its library list, so this runs in a
child Python with LD_PRELOAD=libasan (from the compiler that cffi uses); any report aborts the
child, and the parent raises SanitizerReport with the report text. Returns the outputs per
sample (to compare with interpret()). A compiler without libasan: skipped locally, a failure
under CI (tests/needs.py).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np

SANITIZE_FLAGS = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-wrapv",
                  "-fno-omit-frame-pointer", "-O1", "-g")


class SanitizerReport(AssertionError):
    pass


def _compiler() -> str:
    return (os.environ.get("CC") or sysconfig.get_config_var("CC") or "gcc").split()[0]


def asan_runtime() -> str | None:
    """The path of the compiler's libasan.so, or None."""
    try:
        out = subprocess.run([_compiler(), "-print-file-name=libasan.so"], capture_output=True,
                             text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out if out and os.path.isabs(out) and os.path.exists(out) else None


def run_sanitized(c_dir, samples: list[list[np.ndarray]], work: Path) -> list[list[np.ndarray]]:
    from needs import missing
    lib = asan_runtime()
    if lib is None:
        missing(f"{_compiler()} has no libasan.so")
    work.mkdir(parents=True, exist_ok=True)
    np.savez(work / "in.npz", **{f"s{i}_{k}": a for i, s in enumerate(samples)
                                 for k, a in enumerate(s)})
    env = {**os.environ, "LD_PRELOAD": lib,
           "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:exitcode=86",
           "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=87",
           "TINYC_CACHE_DIR": str(work / "cache")}
    args = json.dumps({"c_dir": str(c_dir), "work": str(work), "n": len(samples)})
    r = subprocess.run([sys.executable, "-m", "tests.property.sanitize", args], env=env,
                       capture_output=True, text=True, timeout=600,
                       cwd=Path(__file__).resolve().parents[2])
    if r.returncode != 0 or "runtime error" in r.stderr or "Sanitizer" in r.stderr:
        raise SanitizerReport(f"{c_dir} under ASan/UBSan: exit {r.returncode}\n{r.stderr}")
    out = np.load(work / "out.npz")
    n_out = len({k.split("_")[1] for k in out.files})
    return [[out[f"s{i}_{k}"] for k in range(n_out)] for i in range(len(samples))]


def _child(args: dict) -> None:
    from tinyc.backend_c.host import build_host
    model = build_host(args["c_dir"], SANITIZE_FLAGS)
    data = np.load(Path(args["work"]) / "in.npz")
    n_in = len({k.split("_")[1] for k in data.files})
    outs = {}
    for i in range(args["n"]):
        ys = model.invoke([data[f"s{i}_{k}"] for k in range(n_in)])
        outs.update({f"s{i}_{k}": y for k, y in enumerate(ys)})
    np.savez(Path(args["work"]) / "out.npz", **outs)


if __name__ == "__main__":
    _child(json.loads(sys.argv[1]))
