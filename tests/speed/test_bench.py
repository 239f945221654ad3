"""tinyc.bench's output file: the dense and storage="speed" tables, and the block another tool
writes between the compression markers kept across a rewrite."""
from __future__ import annotations

from tinyc.bench import COMPRESSION_BEGIN, COMPRESSION_END, render


def _row(label: str, insns: int, flash: int, per_layer=()) -> dict:
    return {"label": label, "macs": 1000, "insns": insns, "arena": 10, "lower_bound": 10,
            "flash": flash, "weights": 5, "stack": 4, "ram": 14, "layers": 1, "ops": "x 1",
            "per_layer": list(per_layer)}


def test_render_keeps_compression_block_and_shows_speed():
    layer = {"name": "fc", "op": "fully_connected", "in": [1, 8], "w": [8, 8], "out": [1, 8],
             "macs": 64, "insns": 80}
    dense, speed = [_row("ad", 400, 3000)], [_row("ad", 300, 5000, [layer])]
    block = f"{COMPRESSION_BEGIN}\n| compression table |\n{COMPRESSION_END}"
    old = f"# Benchmarks\n\nold text\n\n{block}\n\nmore old text\n"
    text = render(dense, "stm32", [], speed=speed, old=old)
    assert text.count(block) == 1 and "old text" not in text
    assert "| 2,000 | 0.750 |" in text                  # flash over dense, instructions ratio
    assert 'ad (storage="speed")' in text                 # its per-layer table
    fresh = render(dense, "stm32", [])
    assert f"{COMPRESSION_BEGIN}\n{COMPRESSION_END}" in fresh
    assert render(dense, "stm32", [], old=fresh) == fresh
