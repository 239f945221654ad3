"""The fully-connected kernels with int8 values: pair-packed int8 weights (the default, one
byte per weight) and int16 "wide" weights (storage="speed", two bytes per weight), with the
older interleaved kernel as the fallback of the pair-packed one. Which kernel a layer gets,
and C == interpret() bit for bit: on the host (portable path) and in QEMU on Cortex-M4, M7 and
M33 (DSP path) and Cortex-M3 (portable path), on the shapes that exercise their corners
(K not a multiple of 4 or 8, channel tails, batches, a narrow activation)."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from tinyc.backend_c import fast
from tinyc.backend_c.formats import STORAGE, choose_formats
from tinyc.options import storage_choices
from tinyc.backend_c.select import select_kernels
from tinyc.ir import Graph, interpret

from ..backend.harness import check_graph, dense_requant, int8_input, set_q

PAIRED, WIDE, INTERLEAVED = ("tinyc_fully_connected_paired_fast_s8(",
                             "tinyc_fully_connected_wide(", "tinyc_fully_connected_fast_s8(")
SHAPES = [(1, 640, 128), (1, 7, 3), (3, 33, 10), (2, 64, 5), (1, 17, 4), (1, 1, 1),
          (2, 8, 6), (1, 12, 9)]


@pytest.fixture(scope="session")
def host_cache(request):
    return request.config.cache.mkdir("tinyc-host")


@pytest.fixture
def rng(request):
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


def fc(rng, batch: int, k: int, o: int, w=None, zp_in: int = 5, zp_out: int = -7,
       act=(-128, 127), fmt: str | None = None) -> Graph:
    """One fully-connected layer; weights in [-127, 127] (TFLite's int8 range) unless given."""
    g = Graph("fc")
    x = int8_input(g, "x", (batch, k), zp_in)
    w = rng.integers(-127, 128, (o, k)).astype(np.int8) if w is None else w
    b = g.const("b", rng.integers(-4000, 4000, o).astype("int32"))
    m, s = dense_requant(rng, k, o, 50)
    y = g.emit("fully_connected", [x, g.const("w", w), b],
               {"in_offset": -zp_in, "out_offset": zp_out, "multiplier": m, "shift": s,
                "act_min": act[0], "act_max": act[1]})
    g.storage = fmt or "dense"           # the weight format _kernel asks select_kernels for
    g.outputs = [set_q(y, zp_out)]
    return g


def _kernel(g: Graph, tmp_path) -> str:
    from tinyc.backend_c import emit_c
    from ..backend.harness import sequential_plan
    plan = sequential_plan(g, storage=g.storage)
    emit_c(g, plan, tmp_path / "probe", options={"selection": plan.selection})
    text = (tmp_path / "probe" / "model.c").read_text()
    return next((k for k in (PAIRED, WIDE, INTERLEAVED) if k in text), "generic")


def _act(shape) -> tuple[int, int]:
    return (-128, 127) if shape[2] % 2 else (-5, 100)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("fmt", [None, "wide"], ids=["paired", "wide"])
def test_fc_kernels_host(shape, fmt, rng, tmp_path, host_cache):
    zp_in = int(rng.integers(-128, 128))
    g = fc(rng, *shape, zp_in=zp_in, act=_act(shape), fmt=fmt)
    assert _kernel(g, tmp_path) == (WIDE if fmt else PAIRED)
    check_graph(g, tmp_path / "c", host_cache, rng)


def _paired_breakers(rng) -> dict[str, np.ndarray]:
    w = rng.integers(-127, 128, (8, 640)).astype(np.int8)
    low = w.copy()
    low[3, 5], low[2, 5] = -128, -1          # 256 * -128 - 1 does not fit int16
    big = w.copy()
    big[1::2] = 127                          # 128 * 127 * 640 >= 2^23
    return {"minus_128": low, "big_sums": big}


@pytest.mark.parametrize("case", ["minus_128", "big_sums"])
def test_paired_falls_back_exactly(case, rng, tmp_path, host_cache):
    """Weights the pair-packed form cannot hold take the interleaved kernel, same bits."""
    w = _paired_breakers(rng)[case]
    assert fast.fc_pairs(w.astype(np.int64)) is None
    g = fc(rng, 1, 640, 8, w=w)
    assert _kernel(g, tmp_path) == INTERLEAVED
    check_graph(g, tmp_path / "c", host_cache, rng)
    ok = w.copy()
    ok[ok == -128] = -127
    ok[1::2] = 101                          # 128 * 101 * 640 < 2^23
    assert fast.fc_pairs(ok.astype(np.int64)) is not None


def test_pairs_layout():
    """h = 256 w[2i + 1] + w[2i], per block of four channels and group of four k, lanes
    {k0, k2, k1, k3}; the low byte is w[2i] and (h - low) / 256 is w[2i + 1]."""
    w = np.arange(-60, 60).reshape(6, 20)
    h = fast.fc_pairs(w)
    assert h.shape == (2, 5, 2, 4)                  # [out4 / 4][k4 / 4][pair][lane]
    assert h[0, 1, 1, 1] == 256 * w[3, 6] + w[2, 6]  # block 0, k 4..7, pair 1, lane 1 = k 6
    assert h[1, 0, 0, 2] == 256 * w[5, 1] + w[4, 1]
    assert np.all(h[1, :, 1] == 0)                  # channels 6, 7: padding


def test_wide_storage_picks_wide(rng):
    """storage="wide" stores fully-connected weights wide where the kernel applies (twice
    the bytes), nothing else; it is a STORAGE choice (the CLI's --storage). storage="speed"
    does not: the wide kernel takes more est. M4 cycles than the pair-packed dense one
    (BENCHMARKS_NOTES.md, fully connected), so speed keeps fully-connected weights dense."""
    assert "speed" in STORAGE and "wide" in storage_choices()
    g = fc(rng, 1, 20, 6)
    rows = choose_formats(g, "wide")
    assert [r["format"] for r in rows] == ["wide"]
    assert select_kernels(g, "wide")[g.nodes[0].name].kernel == "fully_connected.wide"
    assert rows[0]["weights_bytes"] - rows[0]["dense_bytes"] == 2 * 8 * 24 - 6 * 20
    assert [r["format"] for r in choose_formats(fc(rng, 1, 20, 6), "speed")] == ["dense"]
    g = fc(rng, 1, 20, 6)
    g.nodes[0].attrs["shift"] = tuple(1 for _ in range(6))     # a left shift: not fast
    assert [r["format"] for r in choose_formats(g, "wide")] == ["dense"]
    g = fc(rng, 1, 20, 6)
    assert [r["format"] for r in choose_formats(g, "dense")] == ["dense"]
    assert "weight_format" not in g.nodes[0].attrs


# -- QEMU: the DSP path (M4, M7, M33) and the portable path (M3) ------------------------------

MACHINES = {"netduinoplus2": "cortex-m4", "mps2-an500": "cortex-m7",
            "mps2-an505": "cortex-m33", "lm3s6965evb": "cortex-m3"}
QEMU_CASES = {
    "paired_640": lambda rng: fc(rng, 1, 640, 128, zp_in=-128),
    "paired_tails": lambda rng: fc(rng, 3, 33, 10, zp_in=100, act=(-5, 100)),
    "paired_k1": lambda rng: fc(rng, 2, 1, 7, zp_in=-3),
    "interleaved": lambda rng: fc(rng, 1, 640, 8, w=_paired_breakers(rng)["minus_128"]),
    "wide_640": lambda rng: fc(rng, 1, 640, 128, zp_in=-128, fmt="wide"),
    "wide_tails": lambda rng: fc(rng, 3, 33, 10, zp_in=100, act=(-5, 100), fmt="wide"),
    "wide_k12": lambda rng: fc(rng, 2, 12, 9, zp_in=-60, fmt="wide"),
}


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("case", QEMU_CASES)
def test_fc_kernels_qemu(case, machine, rng, tmp_path, monkeypatch):
    from ..backend import test_qemu as q
    q._need_toolchain()
    monkeypatch.setitem(q.MACHINES, machine, MACHINES[machine])
    g = QEMU_CASES[case](rng)
    feeds = [rng.integers(-128, 128, v.shape).astype(np.int8) for v in g.inputs]
    feeds[0][0] = -128                          # a row at the extremes
    feeds[0][-1] = 127
    got = q._run(q._build(g, feeds, tmp_path, machine), machine)
    want = next(k for k in (PAIRED, WIDE, INTERLEAVED)
                if k in (tmp_path / "model" / "model.c").read_text())
    assert want == (WIDE if "wide" in case else INTERLEAVED if case == "interleaved" else PAIRED)
    assert bytes.fromhex(got["out"]) == interpret(g, feeds)[0].tobytes()


@pytest.mark.parametrize("board", ["stm32", "mps2-an500", "mps2-an505"])
def test_ad_wide_storage_equals_tflm(board, models_dir):
    """ad with storage="wide": every layer wide, twice the dense weight bytes, and TFLite
    Micro's reference outputs on the host (portable path) and in QEMU on M4, M7 and M33 (DSP
    path; ad does not fit the M3 board's 256 KiB even dense)."""
    import tinyc
    from needs import need_tools
    folder = models_dir / "mlperf-tiny"
    ref = np.load(folder / "ad_ref.npz")
    m = tinyc.compile(folder / "ad_int8_qdq.onnx", board=board, progress=None,
                      storage="wide")
    rows = m.report["weight_formats"]
    assert [r["format"] for r in rows] == ["wide"] * 10
    assert sum(r["weights_bytes"] - r["dense_bytes"] for r in rows) == 264192
    want = ref["outputs_tflm"]
    assert np.array_equal(np.asarray(m.run_host(ref["inputs"], batch=True)).reshape(want.shape),
                          want)
    need_tools("arm-none-eabi-gcc", "qemu-system-arm")
    got = m.run_qemu(ref["inputs"][:2], batch=True)
    assert np.array_equal(np.asarray(got).reshape(want[:2].shape), want[:2])
