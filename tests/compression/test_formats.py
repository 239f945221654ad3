"""Compressed weight formats (s4, cb, sparse, mask): the C kernels give exactly interpret's
bits, over every conv / depthwise / fully-connected case of the backend tests, with the bias
stored int16 (where it fits) or int32, and the packers round-trip."""
from __future__ import annotations

import numpy as np
import pytest

from tinyc.backend_c.formats import (FORMATS, choose_formats, pack_cb, pack_mask, pack_s4,
                                     pack_sparse, packed_bytes)
from tinyc.backend_c.select import scratch_sizes, select_kernels
from tinyc.passes.plan_memory import plan_memory
from tinyc.errors import TinycError

from ..backend.harness import check_graph
from ..backend.test_conv import CONV_CASES, DW_CASES, FC_CASES, _conv_graph


def _values(rng, shape, fmt: str, density: float = 0.3) -> np.ndarray:
    if fmt == "s4":
        return rng.integers(-8, 8, shape).astype(np.int8)
    if fmt == "cb":
        k = int(rng.integers(2, 17))
        book = rng.choice(np.arange(-128, 128), k, replace=False)
        return book[rng.integers(0, k, shape)].astype(np.int8)
    w = rng.integers(-128, 128, shape).astype(np.int8)
    return np.where(rng.random(shape) < density, w, 0).astype(np.int8)


def _compress(g, rng, fmt, density=0.3):
    node = g.nodes[-1]
    w = node.inputs[1]
    node.replace_input(1, g.const(w.name, _values(rng, w.shape, fmt, density), w.q))
    rows = choose_formats(g, fmt)
    assert rows[-1]["format"] == fmt, rows
    return g


def _plan(g, fmt: str, scratch: bool = True):
    """A real memory plan for the kernels select_kernels picks with storage `fmt`, with (or
    without) the arena scratch the s4 / cb kernels use to unpack a filter once — both code
    paths must give the same bits. The selection rides along (plan.selection)."""
    sel = select_kernels(g, fmt, planned=None if scratch else {})
    plan = plan_memory(g, scratch=scratch_sizes(sel))
    plan.selection = sel
    return plan


UNBUFFERED = ("3x3_same", "dilation_hw", "batch2", "no_bias", "m2_stride2", "m3_dilation")


def _cases(cases: dict, formats: list[str]):
    """Every case with the kernels the compiler uses (s4 / cb with their arena scratch,
    sparse); the _unbuffered twins (a plan without scratch) on a few cases."""
    out = [(f, n) for n in cases for f in formats]
    out += [(f"{f}-unbuffered", n) for n in cases if n in UNBUFFERED
            for f in formats if f != "sparse"]
    return [pytest.param(f, cases[n], id=f"{n}-{f}") for f, n in out]


@pytest.mark.parametrize("fmt, case", _cases(CONV_CASES, ["s4", "cb", "sparse", "mask"]))
def test_conv2d(fmt, case, rng, tmp_path, host_cache):
    g = _compress(_conv_graph("conv2d", rng, case), rng, fmt.split("-")[0])
    check_graph(g, tmp_path, host_cache, rng, plan=_plan(g, fmt.split("-")[0], "-" not in fmt))


@pytest.mark.parametrize("fmt, case", _cases(DW_CASES, ["s4", "cb"]))
def test_depthwise_conv2d(fmt, case, rng, tmp_path, host_cache):
    g = _compress(_conv_graph("depthwise_conv2d", rng, case), rng, fmt.split("-")[0])
    check_graph(g, tmp_path, host_cache, rng, plan=_plan(g, fmt.split("-")[0], "-" not in fmt))


def _fc_graph(rng, case):
    from tinyc.ir import Graph

    from ..backend.harness import dense_requant, int8_input, random_int8, set_q
    batch, k, o, zp_in, zp_out, act, bias, spread, per_tensor = case
    g = Graph("fc")
    x = int8_input(g, "x", (batch, k), zp_in)
    w = g.const("w", random_int8(rng, (o, k)))
    b = g.const("b", rng.integers(-4000, 4000, o).astype("int32")) if bias else None
    m, s = dense_requant(rng, k, o, spread)
    y = g.emit("fully_connected", [x, w, b], {"in_offset": -zp_in, "out_offset": zp_out,
                                              "multiplier": m, "shift": s,
                                              "act_min": -128, "act_max": 127})
    g.outputs = [set_q(y, zp_out)]
    return g


@pytest.mark.parametrize("fmt", ["s4", "cb", "sparse", "mask"])
@pytest.mark.parametrize("case", FC_CASES.values(), ids=FC_CASES.keys())
def test_fully_connected(fmt, case, rng, tmp_path, host_cache):
    g = _compress(_fc_graph(rng, case), rng, fmt)
    check_graph(g, tmp_path, host_cache, rng, plan=_plan(g, fmt))


def test_sparse_long_gaps(rng, tmp_path, host_cache):
    """Gaps of more than 255 zeros (bridged by zero entries) and empty channels."""
    g = _conv_graph("conv2d", rng, CONV_CASES["deep_k"])
    g = _compress(g, rng, "sparse", density=0.004)
    w = g.nodes[-1].inputs[1].data
    assert (pack_sparse(w)["skip"][1] == 255).any()
    check_graph(g, tmp_path, host_cache, rng, plan=_plan(g, "sparse"))
    fc = _compress(_fc_graph(rng, FC_CASES["wide"]), rng, "sparse", density=0.002)
    check_graph(fc, tmp_path / "fc", host_cache, rng, plan=_plan(fc, "sparse"))


def _widen_bias(g, rng):
    """A bias that does not fit int16 (the packed kernels then read it as int32)."""
    node = g.nodes[-1]
    b = node.inputs[2]
    node.replace_input(2, g.const(b.name, rng.integers(-10**6, 10**6, b.shape).astype("int32")))
    return g


@pytest.mark.parametrize("op, fmt", [("conv2d", "s4"), ("conv2d", "cb"), ("conv2d", "sparse"),
                                     ("conv2d", "mask"), ("depthwise_conv2d", "s4"),
                                     ("depthwise_conv2d", "cb"), ("fully_connected", "s4"),
                                     ("fully_connected", "cb"), ("fully_connected", "sparse"),
                                     ("fully_connected", "mask")])
def test_int32_bias(op, fmt, rng, tmp_path, host_cache):
    """The same kernels with a bias beyond int16: stored int32 and counted 4 B a channel;
    within int16 it is stored and counted 2 B a channel."""
    if op == "fully_connected":
        g = _fc_graph(rng, FC_CASES["wide"])
    else:
        case = CONV_CASES["3x3_same"] if op == "conv2d" else DW_CASES["m2_stride2"]
        g = _conv_graph(op, rng, case)
    w = g.nodes[-1].inputs[1]
    short = _compress(g, rng, fmt)
    row = choose_formats(short, fmt)[-1]
    n_bias = g.nodes[-1].inputs[2].data.size
    packed = packed_bytes(FORMATS[fmt], g.nodes[-1].inputs[1].data)
    assert row["weights_bytes"] == packed + 2 * n_bias and "bias int16" in row["why"]
    assert row["dense_bytes"] == w.type.nbytes + 4 * n_bias
    g = _widen_bias(short, rng)
    row = choose_formats(g, fmt)[-1]
    assert row["weights_bytes"] == packed + 4 * n_bias and "bias int16" not in row["why"]
    check_graph(g, tmp_path, host_cache, rng, plan=_plan(g, fmt))


def _unpack_mask(p: dict, shape) -> np.ndarray:
    nz = np.unpackbits(p["mask"][1], bitorder="little")[: int(np.prod(shape))].astype(bool)
    out = np.zeros(nz.size, np.int8)
    out[nz] = p["value"][1]
    return out.reshape(shape)


def _unpack_s4(b: np.ndarray, n: int) -> np.ndarray:
    nib = np.stack([b & 15, b >> 4], 1).ravel()[:n].astype(np.int64)
    return ((nib ^ 8) - 8).astype(np.int8)


def _unpack_cb(p: dict, n: int) -> np.ndarray:
    bits = p["bits"]
    stream = np.unpackbits(p["indices"][1][:-1], bitorder="little")
    idx = stream[: n * bits].reshape(n, bits) @ (1 << np.arange(bits))
    return p["codebook"][1][idx]


def _unpack_sparse(p: dict, shape) -> np.ndarray:
    rows = np.zeros((shape[0], int(np.prod(shape[1:]))), np.int8)
    k = 0
    for r, n in enumerate(p["count"][1]):
        pos = -1
        for _ in range(int(n)):
            pos += int(p["skip"][1][k]) + 1
            rows[r, pos] = p["value"][1][k]
            k += 1
    return rows.reshape(shape)


def test_packers_round_trip(rng):
    for shape in [(7, 3, 3, 5), (10, 33), (1, 1)]:
        w = _values(rng, shape, "s4")
        assert np.array_equal(_unpack_s4(pack_s4(w)["filter"][1], w.size), w.ravel())
        w = _values(rng, shape, "cb")
        assert np.array_equal(_unpack_cb(pack_cb(w), w.size), w.ravel())
        w = _values(rng, shape, "sparse", 0.01)
        assert np.array_equal(_unpack_sparse(pack_sparse(w), shape), w)
        w = _values(rng, shape, "sparse", 0.5)
        assert np.array_equal(_unpack_mask(pack_mask(w), shape), w)


def test_sizes():
    w = np.zeros((4, 100), np.int8)
    w[:, ::10] = 3
    assert packed_bytes(FORMATS["s4"], w) == 200
    assert packed_bytes(FORMATS["cb"], w) == 2 + 50 + 1         # 2 values -> 1-bit indices
    assert packed_bytes(FORMATS["sparse"], w) == 4 * 2 + 40 * 2
    assert packed_bytes(FORMATS["mask"], w) == 400 // 8 + 40


def test_auto_picks_the_smallest_and_says_why(rng):
    g = _fc_graph(rng, FC_CASES["wide"])
    rows = choose_formats(g)
    assert rows[0]["format"] == "dense" and "no s4" in rows[0]["why"]
    _compress(g, rng, "sparse", density=0.05)
    row = choose_formats(g)[0]
    assert row["format"] == "sparse" and row["weights_bytes"] < row["dense_bytes"]
    _compress(g, rng, "sparse", density=0.3)
    row = choose_formats(g)[0]
    assert row["format"] == "dense" and "no mask: zeros not from pruning" in row["why"]
    assert choose_formats(g, "small")[0]["format"] == "mask"    # N/8 + nnz < 2 nnz + 2 O
    g.nodes[-1].attrs["prune_sparsity"] = 0.7                    # zeros asked for: stored
    assert choose_formats(g)[0]["format"] == "mask"
    del g.nodes[-1].attrs["prune_sparsity"]
    _compress(g, rng, "sparse", density=0.05)
    assert select_kernels(g)[g.nodes[-1].name].kernel == "fully_connected.sparse"
    assert choose_formats(g, "dense")[0]["format"] == "dense"
    assert "weight_format" not in g.nodes[-1].attrs          # the graph is not changed
    with pytest.raises(TinycError, match="storage"):
        choose_formats(g, "zip")
