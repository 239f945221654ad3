"""Fuzzing the model readers (issue #16): damaged copies of real .tflite and .onnx files must
end in a TinycError (or load), never in another exception or a hang.

    CI=true pytest -q tests/bad_inputs/test_fuzz.py                      # 500 mutants, seed 16
    TINYC_FUZZ_N=2000 TINYC_FUZZ_SEED=1 pytest -q -s tests/bad_inputs/test_fuzz.py   # by hand

Seeds: the four MLPerf Tiny int8 .tflite files and their QDQ .onnx files (models_dir, as
tests/test_mlperf.py: missing -> skip, fail under CI), small .tflite models built with
tests/tflite/tflbuild.py (tfl_cases.py) and small ONNX models of tests/models.py. Mutations:
byte flips, truncations, splices (a run of the file copied over another place), zeroed runs,
and integer overwrites (0, -1, 2^31 - 1, ...) of the flatbuffer's own fields — the offsets the
reader reads in the intact file, recorded once. Mutants of structure, not of weights: flips and
zeroed runs land next to a field offset half of the time. Every mutant is loaded and lowered
to IR (tinyc.pipeline.load_model); every COMPILE_EVERY-th also goes through tinyc.compile.
A mutant that takes more than TIMEOUT seconds is a hang. Failing mutants are saved to the
test's tmp folder and named in the failure message (with the seed, kind and traceback tail).
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pytest

import tinyc
from tinyc.errors import TinycError
from tinyc.pipeline import load_model

from needs import missing

N = int(os.environ.get("TINYC_FUZZ_N", "500"))
SEED = int(os.environ.get("TINYC_FUZZ_SEED", "16"))
COMPILE_EVERY = 8
TIMEOUT = 60
MLPERF = ["kws", "vww", "ic", "ad"]
INTS = [0, 1, 2, 3, 4, 7, 8, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0x80000000,
        0xFFFFFFFF, 0xFFFFFFFC, 0x10000]
TESTS = Path(__file__).resolve().parents[1]


class Hang(BaseException):
    """Raised by the alarm: not an Exception, so no `except Exception` in tinyc swallows it."""


def _tflite_seeds() -> dict[str, bytes]:
    try:
        sys.path.insert(0, str(TESTS / "tflite"))
        import tfl_cases
    except (ImportError, AttributeError):
        missing("the `tflite` package is not installed (pip install tflite==2.18.0)")
    rng = np.random.default_rng(0)
    out = {f"{k}.tflite": tfl_cases.CASES[k](rng)
           for k in ("conv", "depthwise", "fully_connected", "concat", "pad", "softmax",
                     "keras_reshape", "shape_ops", "softmax_16x8_io",
                     "float_io_16x8_softmax", "rsqrt_16x8", "svdf_state8_batch2")}
    return out


@pytest.fixture(scope="module")
def seeds(models_dir) -> dict[str, bytes]:
    import models
    out = {}
    for m in MLPERF:
        for f in (f"{m}_int8.tflite", f"{m}_int8_qdq.onnx"):
            p = models_dir / "mlperf-tiny" / f
            if not p.is_file():
                missing(f"{p} not found")
            out[f] = p.read_bytes()
    out.update(_tflite_seeds())
    for k in ("mlp", "cnn"):
        out[f"{k}.onnx"] = models.build(k).SerializeToString()
    return out


def field_offsets(data: bytes) -> np.ndarray:
    """Where the reader reads the flatbuffer's fields (tables, vtables, vectors, options)."""
    from tinyc.frontend import tflite_reader
    seen, get = set(), tflite_reader.Table.Get

    def record(self, flags, off):
        seen.add(off)
        return get(self, flags, off)
    tflite_reader.Table.Get = record
    try:
        load_model_bytes(data, ".tflite", Path("/nonexistent"))
    except TinycError:
        pass
    finally:
        tflite_reader.Table.Get = get
    return np.array(sorted(seen), np.int64)


def load_model_bytes(data: bytes, suffix: str, folder: Path):
    if suffix == ".tflite":
        from tinyc.frontend.tflite import load_tflite
        return load_tflite(data)
    p = folder / f"mutant{suffix}"
    p.write_bytes(data)
    return load_model(p)


def mutate(rng: np.random.Generator, data: bytes, fields: np.ndarray, other: bytes):
    """(kind, mutant) of one of five kinds."""
    b, n = bytearray(data), len(data)
    kind = ["flip", "truncate", "splice", "zero", "int"][rng.integers(5)]

    def where() -> int:
        if fields.size and rng.random() < 0.5:
            return int(min(n - 1, max(0, rng.choice(fields) + rng.integers(-4, 5))))
        return int(rng.integers(n))
    if kind == "flip":
        for _ in range(rng.integers(1, 9)):
            b[where()] ^= int(rng.integers(1, 256))
    elif kind == "truncate":
        b = b[:rng.integers(n)]
    elif kind == "splice":
        src = other if rng.random() < 0.3 else data
        k = int(rng.integers(1, 65))
        a, at = int(rng.integers(max(1, len(src) - k))), where()
        b[at:at + k] = src[a:a + k]
    elif kind == "zero":
        at = where()
        b[at:at + int(rng.integers(1, 257))] = bytes(min(256, n))[:len(b[at:at + 256])]
    else:
        at = int(rng.choice(fields)) if fields.size else int(rng.integers(n))
        width = int(rng.choice([1, 2, 4, 8]))
        v = int(rng.choice(INTS)) if rng.random() < 0.7 else int(rng.integers(-2**31, 2**31))
        b[at:at + width] = (v % 2**(8 * width)).to_bytes(width, "little")
    return kind, bytes(b)


def _alarm(signum, frame):
    raise Hang()


def run_one(data: bytes, suffix: str, folder: Path, full: bool) -> str:
    """'ok', 'error' (a TinycError) or raises what tinyc raised."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT)
    try:
        load_model_bytes(data, suffix, folder)
        if full:
            p = folder / f"mutant{suffix}"
            p.write_bytes(data)
            tinyc.compile(p, progress=None)
        return "ok"
    except TinycError:
        return "error"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_fuzz_readers(seeds, tmp_path, caplog):
    caplog.set_level(logging.CRITICAL, "tinyc")
    rng = np.random.default_rng(SEED)
    names = sorted(seeds)
    fields = {k: field_offsets(v) if k.endswith(".tflite") else np.zeros(0, np.int64)
              for k, v in seeds.items()}
    assert all(f.size > 50 for k, f in fields.items() if k.endswith(".tflite")), \
        "no flatbuffer field offsets recorded: the int-overwrite mutants would be random"
    counts: dict[str, int] = {}
    failures = []
    start = time.monotonic()
    for i in range(N):
        name = names[i % len(names)]
        suffix = Path(name).suffix
        kind, data = mutate(rng, seeds[name], fields[name], seeds[names[(i * 7 + 3) % len(names)]])
        full = i % COMPILE_EVERY == 0
        try:
            outcome = run_one(data, suffix, tmp_path, full)
        except Hang:
            outcome = "hang"
        except BaseException as e:               # noqa: BLE001 — this is what the test finds
            if isinstance(e, KeyboardInterrupt):
                raise
            outcome = "crash"
            tail = traceback.format_exception(e)[-6:]
            saved = tmp_path / f"crash_{i}_{name}"
            saved.write_bytes(data)
            failures.append(f"#{i} {kind} of {name} ({'compile' if full else 'load'}): "
                            f"{type(e).__name__}: {e} [{saved}]\n    {''.join(tail).strip()}")
        if outcome == "hang":
            saved = tmp_path / f"hang_{i}_{name}"
            saved.write_bytes(data)
            failures.append(f"#{i} {kind} of {name}: no answer in {TIMEOUT} s [{saved}]")
        key = f"{outcome}/{'compile' if full else 'load'}"
        counts[key] = counts.get(key, 0) + 1
    took = time.monotonic() - start
    summary = (f"{N} mutants (seed {SEED}) of {len(names)} files in {took:.1f} s: "
               + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print("\n" + summary)
    assert not failures, summary + "\n" + "\n".join(failures[:20])


def test_hang_guard(monkeypatch, tmp_path):
    """A mutant that never returns is reported as a hang, not waited for."""
    monkeypatch.setattr(sys.modules[__name__], "TIMEOUT", 1)
    monkeypatch.setattr(sys.modules[__name__], "load_model_bytes",
                        lambda *a: time.sleep(30))
    start = time.monotonic()
    with pytest.raises(Hang):
        run_one(b"", ".tflite", tmp_path, False)
    assert time.monotonic() - start < 5
