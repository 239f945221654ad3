"""Issue 4: memory plan figures, board fit, and report.html rendered by headless Chromium."""
from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import tinyc
from tinyc.errors import BoardError

TFLM_ARENA = {"kws": 22820, "vww": 100708, "ic": 54996, "ad": 2580}


@pytest.mark.parametrize("name", sorted(TFLM_ARENA))
def test_arena_at_lower_bound_and_below_tflm(models_dir, name):
    m = tinyc.compile(models_dir / "mlperf-tiny" / f"{name}_int8_qdq.onnx")
    r = m.report
    assert r["arena_bytes"] <= 1.05 * r["arena_lower_bound"]
    assert r["arena_bytes"] < TFLM_ARENA[name]


def _wide_conv_model(path):
    """1x3x96x96 → Conv 16 channels → global pool: a 147 KiB activation (too big for 64 KiB)."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array((rng.standard_normal((16, 3, 3, 3)) * 0.2).astype(np.float32), "w")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 96, 96])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 1, 1])
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="wide", pads=[1, 1, 1, 1]),
             helper.make_node("GlobalAveragePool", ["c"], ["y"], name="pool")]
    g = helper.make_graph(nodes, "wide", [x], [y], [w])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path, {"x": rng.uniform(-1, 1, (4, 3, 96, 96)).astype(np.float32)}


def test_model_too_big_for_board_gives_the_numbers(tmp_path):
    path, calib = _wide_conv_model(tmp_path / "wide.onnx")
    with pytest.raises(BoardError) as e:
        tinyc.compile(path, board="lm3s6965", calib=calib)
    msg = str(e.value)
    assert "65,536" in msg and "lm3s6965" in msg and "RAM" in msg
    needed = int(msg.split("needs ")[1].split(" B")[0].replace(",", ""))
    assert needed > 65536
    with pytest.raises(BoardError) as e:    # STM32F405: 128 KiB SRAM + 64 KiB CCM, no split
        tinyc.compile(path, board="stm32", calib=calib)
    assert "sram 128 KiB @0x20000000" in str(e.value) and "ccm 64 KiB" in str(e.value)
    m = tinyc.compile(path, board="stm32l4r5", calib=calib)     # SRAM1 192 KiB holds it
    out = m.write(tmp_path / "ok", measure=True)
    mem = json.loads((out / "report.json").read_text())["memory"]
    assert mem["ram_total_bytes"] <= m.board.ram_size
    assert mem["ram_static_bytes"] >= m.report["arena_bytes"]
    assert mem["stack_bytes"] and mem["flash_bytes"] > mem["flash_weights_bytes"]


def _png_pixels(path) -> np.ndarray:
    """Decode an 8-bit RGB/RGBA PNG (what Chromium writes) without extra packages."""
    data = path.read_bytes()
    pos, chunks, ihdr = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + n
    w, h, depth, color = ihdr[:4]
    assert depth == 8 and color in (2, 6)
    ch = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    rows, prev, stride = [], np.zeros(w * ch, np.int32), w * ch
    for y in range(h):
        f, line = raw[y * (stride + 1)], np.frombuffer(raw, np.uint8, stride,
                                                        y * (stride + 1) + 1).astype(np.int32)
        out = np.zeros(stride, np.int32)
        for i in range(stride):
            a = out[i - ch] if i >= ch else 0
            b, c = prev[i], (prev[i - ch] if i >= ch else 0)
            p = a + b - c
            pred = {0: 0, 1: a, 2: b, 3: (a + b) // 2,
                    4: a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c)
                    else (b if abs(p - b) <= abs(p - c) else c)}[f]
            out[i] = (line[i] + pred) & 0xFF
        rows.append(out)
        prev = out
    return np.array(rows).reshape(h, w, ch)


def test_report_html_renders_in_chromium(example_dir, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is not installed (scripts/setup.sh installs it)")
    m = tinyc.compile(example_dir / "digits.onnx", calib=example_dir / "calib.npz")
    out = m.write(tmp_path / "c")
    page = (out / "report.html").read_text()
    assert "<svg" in page and "<table" in page and "<script" not in page
    # for a person: a summary card, the layer table with kernel/format/cycles, a legend of the
    # arena picture, each figure once and in words (no snake_case labels)
    for text in ("Fits the board?", "Latency", "Energy per inference", "Weight format",
                 "Est. cycles", 'class="legend"', "Arena over time"):
        assert text in page, text
    assert page.count("Weights (flash)") == 1 and "flash weights bytes" not in page
    assert not re.findall(r"<th>[a-z0-9]+_[a-z0-9_]+</th>", page)
    assert all(f"{name} <small>" in page for name in ("input", "logits"))
    shot = tmp_path / "shot.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--no-first-run", "--disable-sync", f"--user-data-dir={tmp_path / 'prof'}",
                    "--window-size=1000,900", f"--screenshot={shot}",
                    (out / "report.html").as_uri()], capture_output=True, timeout=120)
    assert shot.is_file()
    px = _png_pixels(shot)[:, :, :3]
    colours = {tuple(p) for p in px[::7, ::7].reshape(-1, 3)}
    assert px.std() > 10 and len(colours) > 8      # table text and coloured arena bars


@pytest.mark.parametrize("builder", ["cnn", "cnn_gap", "mlp", "resnet", "digits"])
def test_test_models_arena_at_lower_bound(builder, example_dir, tmp_path):
    import models
    if builder == "digits":
        m = tinyc.compile(example_dir / "digits.onnx", calib=example_dir / "calib.npz")
    else:
        proto = models.build(builder)
        path = models.save(proto, tmp_path / f"{builder}.onnx")
        m = tinyc.compile(path, calib=models.calib_data(proto, 8))
    assert m.report["arena_bytes"] <= 1.05 * m.report["arena_lower_bound"], m.report
