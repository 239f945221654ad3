"""Per-op coverage against the TFLite Micro Python interpreter (PyPI tflite-micro, reference
kernels) as the oracle: small hand-built int8 .tflite models (tfl_cases.py) with random
weights and quantization; tinyc's golden model and its host C == TFLM, bit for bit.
Single-input int8 models also get one sample holding all 256 int8 values."""
from __future__ import annotations

import logging

import numpy as np
import pytest

import tinyc
from tinyc.ir.qmath import quantize_multiplier, requantize

SEEDS = (0, 1, 2)
SAMPLES = 4


@pytest.fixture(scope="module")
def cases(tfl):
    import tfl_cases
    return tfl_cases


def _names():
    try:
        import tfl_cases
    except (ImportError, AttributeError):     # no `tflite`: the `cases` fixture skips (or fails)
        return ["all"]
    return sorted(tfl_cases.CASES)


def _inputs(m, rng, k: int) -> list[np.ndarray]:
    xs = []
    for spec in m.inputs:
        info = np.iinfo(spec.np_dtype)          # the model's own type (float I/O: int8)
        q = rng.integers(info.min, int(info.max) + 1, spec.shape)
        if k == 0 and len(m.inputs) == 1 and q.size >= 256 and info.bits == 8:
            q = np.resize(rng.permutation(np.arange(info.min, int(info.max) + 1)), spec.shape)
        if spec.dtype != "float32":
            xs.append(q.astype(spec.np_dtype))   # int8, uint8 or int16, as TFLM takes it
        else:          # float I/O: values on the input's grid, so quantizing them is exact
            xs.append(((q - spec.zero_point) * np.float32(spec.scale)).astype(np.float32))
    return xs


def _codes(m, y) -> np.ndarray:
    """Outputs as int8 codes (float outputs are dequantized codes)."""
    y = np.asarray(y)
    if np.issubdtype(y.dtype, np.integer):
        return y.astype(np.int64)
    return np.round(y / np.float32(m.outputs[0].scale)).astype(np.int64)


def _all_codes(m, ys) -> np.ndarray:
    """Several int8 outputs as one flat array of codes."""
    return np.concatenate([np.asarray(y).astype(np.int64).reshape(-1) for y in ys])


def run_case(tflm, tmp_path, data: bytes, rng, host: bool):
    """(tinyc golden outputs, tinyc host-C outputs or None, TFLM outputs) as int8 codes
    (tflm None: the golden outputs stand in for TFLM's)."""
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    m = tinyc.compile(path)
    it = tflm.Interpreter.from_bytes(data) if tflm is not None else None
    got, c_out, want = [], [], []
    for k in range(SAMPLES):
        xs = _inputs(m, rng, k)
        if it is not None:
            it.reset()      # a fresh state per inference (SVDF's variable tensor), as tinyc
            for i, x in enumerate(xs):
                if x.dtype != np.float32:          # tinyc's C API takes the model's own type
                    assert x.dtype == it.get_input_details(i)["dtype"]
                it.set_input(x, i)
            it.invoke()
            ref = it.get_output(0)
        else:
            ref = np.asarray(m.interpret(xs if len(xs) > 1 else xs[0]))
        arg = xs if len(xs) > 1 else xs[0]
        if len(m.outputs) > 1:          # SPLIT: all outputs, flattened one after the other
            want.append(_all_codes(m, [it.get_output(j) for j in range(len(m.outputs))]))
            got.append(_all_codes(m, m.interpret(arg)))
            if host:
                c_out.append(_all_codes(m, m.run_host(arg)))
            continue
        want.append(_codes(m, ref))
        got.append(_codes(m, m.interpret(arg)).reshape(ref.shape))
        if host:
            c_out.append(_codes(m, m.run_host(arg)).reshape(ref.shape))
    return np.stack(got), (np.stack(c_out) if host else None), np.stack(want)


@pytest.mark.parametrize("name", _names())
def test_op_equals_tflm(name, cases, tflm, tmp_path, caplog):
    caplog.set_level(logging.ERROR, "tinyc")
    for seed in SEEDS:
        data = cases.CASES[name](np.random.default_rng(seed))
        oracle = None if name in cases.NOT_IN_TFLM else tflm
        got, c_out, want = run_case(oracle, tmp_path, data, np.random.default_rng(100 + seed),
                                    host=seed == 0)
        if c_out is not None:
            assert np.array_equal(c_out, got), f"{name}: host C != golden model"
        diff = np.abs(got - want)
        if name in cases.NOT_BIT_EXACT:
            assert diff.max() <= 1, f"{name} seed {seed}: |tinyc - TFLM| up to {diff.max()}"
        else:
            assert diff.max() == 0, (f"{name} seed {seed}: {int((diff > 0).sum())} of "
                                     f"{diff.size} values differ from TFLM, max {diff.max()}")


def tflm_mean_int8(x: np.ndarray, s_in: float, zp_in: int, s_out: float, zp_out: int,
                   axes=(1, 2)) -> np.ndarray:
    """TFLM's MEAN (int8) as docs/tflite.md specifies it for the IR:
    reference_ops::QuantizedMeanOrSum (integer), multiplier folded with 1/count."""
    n = int(np.prod([x.shape[a] for a in axes]))
    m, s = quantize_multiplier(float(np.float32(s_in)) / float(np.float32(s_out)))
    shift = min(n.bit_length() - 1, 32, 31 + s)            # 63 - clz64(n), clamped
    m_n, s_n = (m << shift) // n, s - shift
    acc = x.astype(np.int64).sum(axis=axes) - zp_in * n
    return np.clip(requantize(acc, m_n, s_n) + zp_out, -128, 127)


@pytest.mark.parametrize("hw", [(5, 6), (7, 7), (8, 8), (1, 3), (12, 12)])
@pytest.mark.parametrize("same_q", [True, False])
def test_mean_spec_in_notes_equals_tflm(builder, tflm, hw, same_q):
    """The exact MEAN arithmetic docs/tflite.md asks the IR for is TFLM's."""
    rng = np.random.default_rng(hash((hw, same_q)) % 2**32)
    s_in, zp_in = float(rng.uniform(0.01, 0.1)), int(rng.integers(-60, 60))
    s_out, zp_out = (s_in, zp_in) if same_q else (float(rng.uniform(0.005, 0.05)),
                                                  int(rng.integers(-60, 60)))
    b = builder.TflBuilder()
    x = b.tensor("x", (1, *hw, 16), scale=s_in, zp=zp_in)
    axes = b.const("axes", np.array([1, 2], np.int32))
    y = b.tensor("y", (1, 1, 1, 16), scale=s_out, zp=zp_out)
    b.op("MEAN", [x, axes], [y], "ReducerOptions", KeepDims=True)
    it = tflm.Interpreter.from_bytes(b.build([x], [y]))
    for _ in range(8):
        a = rng.integers(-128, 128, (1, *hw, 16)).astype(np.int8)
        it.set_input(a, 0)
        it.invoke()
        want = it.get_output(0).reshape(-1)
        got = tflm_mean_int8(a, np.float32(s_in), zp_in, np.float32(s_out), zp_out).reshape(-1)
        assert np.array_equal(got, want)


# One case per op added in issues #15 / #16, built for the Cortex-M board and run in QEMU.
QEMU_CASES = ("relu", "relu6", "relu_n1_to_1", "leaky_relu", "elu", "rsqrt", "sub_broadcast",
              "squared_difference", "minimum", "maximum", "prelu", "log_softmax_rows", "uint8_io")


@pytest.mark.parametrize("name", QEMU_CASES)
def test_qemu_equals_tflm(name, cases, tflm, tmp_path, caplog):
    import shutil
    if not all(shutil.which(t) for t in ("arm-none-eabi-gcc", "qemu-system-arm")):
        from needs import missing
        missing("arm-none-eabi-gcc/qemu-system-arm")
    caplog.set_level(logging.ERROR, "tinyc")
    data = cases.CASES[name](np.random.default_rng(0))
    oracle = None if name in cases.NOT_IN_TFLM else tflm
    _, _, want = run_case(oracle, tmp_path, data, np.random.default_rng(100), host=False)
    m = tinyc.compile(tmp_path / "m.tflite")
    rng = np.random.default_rng(100)                # the inputs run_case drew
    xs = [_inputs(m, rng, k) for k in range(SAMPLES)]
    if len(m.inputs) == 1:
        got = m.run_qemu(np.stack([x[0] for x in xs]), batch=True, board="stm32")
    else:
        got = [m.run_qemu(x, board="stm32") for x in xs]
    got = np.stack([_codes(m, y).reshape(want.shape[1:]) for y in got])
    assert np.array_equal(got, want), f"{name}: QEMU != TFLM"
