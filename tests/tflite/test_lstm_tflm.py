"""UNIDIRECTIONAL_SEQUENCE_LSTM (int8, lstm_cases.py) against the TFLite Micro Python
interpreter, bit for bit: tinyc's golden model (ir/ops/lstm.py) == TFLM on every case, seed
and sample, the generated host C == the golden model, one case in QEMU; the float semantics
near the integer ones; variants TFLM refuses give a clear error."""
from __future__ import annotations

import logging

import numpy as np
import pytest
from needs import need_tools

import tinyc
from tinyc.errors import TinycError

SEEDS = (0, 1, 2)
SAMPLES = 4


@pytest.fixture(scope="module")
def cases(tfl):
    import lstm_cases
    return lstm_cases


def _names():
    try:
        import lstm_cases
    except (ImportError, AttributeError):     # no `tflite`: the `cases` fixture skips (or fails)
        return ["all"]
    return sorted(lstm_cases.CASES)


def _compile(tmp_path, data: bytes, **kw):
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    return tinyc.compile(path, **kw)


def _tflm(tflm, data: bytes, xs) -> np.ndarray:
    """TFLM's outputs, the interpreter reset before each sample (fresh LSTM state, as tinyc)."""
    it = tflm.Interpreter.from_bytes(data)
    out = []
    for x in xs:
        it.reset()
        it.set_input(x, 0)
        it.invoke()
        out.append(it.get_output(0).copy())
    return np.stack(out)


def _samples(m, rng) -> list[np.ndarray]:
    shape = m.inputs[0].shape
    return [rng.integers(-128, 128, shape).astype(np.int8) for _ in range(SAMPLES)]


@pytest.mark.parametrize("name", _names())
def test_lstm_equals_tflm(name, cases, tflm, tmp_path, caplog):
    caplog.set_level(logging.ERROR, "tinyc")
    for seed in SEEDS:
        data = cases.CASES[name](np.random.default_rng(seed))
        m = _compile(tmp_path, data)
        xs = _samples(m, np.random.default_rng(100 + seed))
        want = _tflm(tflm, data, xs)
        got = np.stack([np.asarray(m.interpret(x)).reshape(want.shape[1:]) for x in xs])
        diff = got.astype(np.int64) - want
        assert not diff.any(), (f"{name} seed {seed}: {int((diff != 0).sum())} of {diff.size} "
                                f"values differ from TFLM, max {np.abs(diff).max()}")
        assert len(np.unique(want)) > 8, f"{name} seed {seed}: degenerate outputs"
        if seed == 0:
            c_out = np.stack([np.asarray(m.run_host(x)).reshape(want.shape[1:]) for x in xs])
            assert np.array_equal(c_out, got), f"{name}: host C != golden model"


def test_lstm_state_resets_each_run(cases, tflm, tmp_path, caplog):
    """Each invoke starts from zero state (TFLM after reset()): the same input twice gives
    the same output, and a sample's output does not depend on the sample before it."""
    caplog.set_level(logging.ERROR, "tinyc")
    m = _compile(tmp_path, cases.CASES["lstm_base"](np.random.default_rng(7)))
    x0, x1 = _samples(m, np.random.default_rng(8))[:2]
    first = np.asarray(m.run_host(x0))
    m.run_host(x1)
    assert np.array_equal(np.asarray(m.run_host(x0)), first)


def test_lstm_float_semantics_near_integer(cases, tmp_path, caplog):
    """The float LSTM (run_float on the dequantized graph) and the integer one agree within a
    few output steps (int16 gates and cell state, an int8 hidden state)."""
    caplog.set_level(logging.ERROR, "tinyc")
    m = _compile(tmp_path, cases.CASES["lstm_base"](np.random.default_rng(3)))
    s, zp = m.outputs[0].scale, m.outputs[0].zero_point
    si, zi = m.inputs[0].scale, m.inputs[0].zero_point
    for x in _samples(m, np.random.default_rng(4)):
        q = np.asarray(m.interpret(x)).astype(np.float64)
        f = np.asarray(m.run_float(((x.astype(np.float32) - zi) * si)))
        fq = np.clip(np.round(f / s) + zp, -128, 127)
        assert np.abs(fq - q).max() <= 3, np.abs(fq - q).max()


@pytest.mark.parametrize("variant,needle", [("peephole", "peephole"),
                                            ("projection", "projection"),
                                            ("cifg", "CIFG"),
                                            ("per_channel", "per channel")])
def test_lstm_refused_variants(variant, needle, cases, tmp_path):
    data = cases.lstm(np.random.default_rng(0), variant=variant)
    with pytest.raises(TinycError) as e:
        _compile(tmp_path, data)
    msg = str(e.value)
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in msg and needle in msg, msg


def test_lstm_relu_cell_activation_refused(cases, tmp_path):
    with pytest.raises(TinycError, match="cell gate activation 1.*TANH"):
        _compile(tmp_path, cases.lstm(np.random.default_rng(0), act=1))


QEMU_CASES = ["lstm_time_major_batch2", "lstm16_clip_batch2"]


@pytest.mark.parametrize("name", QEMU_CASES)
def test_lstm_qemu_equals_tflm(name, cases, tflm, tmp_path, caplog):
    need_tools("qemu-system-arm", "arm-none-eabi-gcc")
    caplog.set_level(logging.ERROR, "tinyc")
    data = cases.CASES[name](np.random.default_rng(0))
    m = _compile(tmp_path, data, board="stm32")
    xs = _samples(m, np.random.default_rng(100))
    want = _tflm(tflm, data, xs)
    got = np.asarray(m.run_qemu(np.stack(xs), batch=True)).reshape(want.shape)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("cc", ["arm", "clang", "gcc"])
def test_lstm_c_is_strict_clean(cc, cases, tmp_path, caplog):
    """-std=c99 -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Werror, as
    test_ops_strict.py asks of every op's C (the int8 and the 16x8 kernel)."""
    from test_ops_strict import COMPILERS
    need_tools(COMPILERS[cc][0])
    caplog.set_level(logging.ERROR, "tinyc")
    for name in ("lstm_clip", "lstm16_time_major"):
        d = _compile(tmp_path, cases.CASES[name](np.random.default_rng(0))).write(
            tmp_path / name)
        _strict(COMPILERS[cc], d, tmp_path)


def _strict(cmd, d, tmp_path):
    import subprocess
    for i, src in enumerate(sorted(d.rglob("*.c"))):
        r = subprocess.run([*cmd, "-I", str(d), "-I", str(d / "kernels"), "-c",
                            str(src), "-o", str(tmp_path / f"{i}.o")],
                           capture_output=True, text=True, check=False)
        assert r.returncode == 0 and not r.stderr.strip(), f"{cmd[0]} {src}:\n{r.stderr}"


@pytest.mark.parametrize("name", ["lstm_clip", "lstm16_clip_batch2"])
def test_lstm_c_under_sanitizers(name, cases, tmp_path, caplog):
    """The kernels' C under ASan + UBSan (tests/property/sanitize.py): no report, outputs ==
    the golden model."""
    from tests.property.sanitize import run_sanitized
    caplog.set_level(logging.ERROR, "tinyc")
    m = _compile(tmp_path, cases.CASES[name](np.random.default_rng(0)))
    xs = _samples(m, np.random.default_rng(1))[:2]
    outs = run_sanitized(m.write(tmp_path / "c"), [[x] for x in xs], tmp_path / "san")
    for x, out in zip(xs, outs):
        np.testing.assert_array_equal(np.asarray(out[0]).reshape(-1),
                                      np.asarray(m.interpret(x)).reshape(-1))
