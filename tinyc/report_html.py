"""report.html: a self-contained page (no scripts, no network) with the memory summary, the
layer table, and the arena over time as inline SVG (tensors as bars: lifetime × offset)."""
from __future__ import annotations

import html
from pathlib import Path

W, H, PAD = 900, 360, 40
COLORS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
          "#ff9da7", "#9c755f", "#bab0ac")


def arena_svg(model) -> str:
    plan = model.plan
    steps = max(len(model.graph.nodes), 1)
    arena = max(plan.arena_bytes, 1)
    sx, sy = (W - 2 * PAD) / steps, (H - 2 * PAD) / arena
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
             f'role="img" aria-label="arena over time">',
             f'<rect x="{PAD}" y="{PAD}" width="{W - 2 * PAD}" height="{H - 2 * PAD}" '
             'fill="#f7f7f7" stroke="#999"/>']
    for i, b in enumerate(sorted(plan.buffers, key=lambda b: b.root.name)):
        off = plan.offsets[b.root.name]
        x, y = PAD + b.first * sx, PAD + off * sy
        w, h = max((b.last - b.first + 1) * sx, 1), max(b.size * sy, 1)
        tip = html.escape(f"{b.root.name}: {b.size:,} B at offset {off:,}, "
                          f"steps {b.first}-{b.last}")
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                     f'fill="{COLORS[i % len(COLORS)]}" fill-opacity="0.8" stroke="#333" '
                     f'stroke-width="0.5"><title>{tip}</title></rect>')
    parts.append(f'<text x="{PAD}" y="{H - 10}" font-size="12">step (layer) →  '
                 f'arena {plan.arena_bytes:,} B, lower bound {plan.lower_bound:,} B</text>')
    parts.append(f'<text x="5" y="{PAD - 10}" font-size="12">offset ↓</text></svg>')
    return "\n".join(parts)


def _memory_rows(r: dict) -> str:
    rows = [("arena", r["arena_bytes"]), ("peak-live lower bound", r["arena_lower_bound"]),
            ("weights (flash)", r["weights_bytes"]), ("kernel constants (flash)",
                                                      r["constants_bytes"])]
    for k, v in sorted((r.get("memory") or {}).items()):
        rows.append((k.replace("_", " "), v))
    return "".join(f"<tr><th>{html.escape(k)}</th><td>"
                   f"{'not measured' if v is None else f'{v:,} B'}</td></tr>" for k, v in rows)


def _layer_rows(r: dict) -> str:
    out = []
    for i, (lay, live) in enumerate(zip(r["layers"], r["live"])):
        cells = [i, lay["name"], lay["op"], "×".join(map(str, lay["output_shape"])),
                 f"{lay['macs']:,}", f"{lay['weights_bytes']:,}",
                 f"{lay['arena_offset']:,}" if lay["arena_offset"] is not None else "-",
                 f"{live['bytes']:,}"]
        out.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return "\n".join(out)


def write_html(model, out_dir: Path) -> Path:
    r = model.report
    head = ("<tr><th>#</th><th>layer</th><th>op</th><th>output</th><th>MACs</th>"
            "<th>weights B</th><th>arena offset</th><th>live B</th></tr>")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tinyc report: {html.escape(r['model'])}</title>
<style>body{{font-family:sans-serif;margin:20px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}}</style></head>
<body><h1>tinyc report: {html.escape(r['source'])} for {html.escape(r['board'])}</h1>
<p>{len(r['layers'])} layers, {r['macs']:,} MACs</p>
<h2>Memory</h2><table>{_memory_rows(r)}</table>
<h2>Arena over time</h2>{arena_svg(model)}
<h2>Layers</h2><table>{head}
{_layer_rows(r)}</table></body></html>
"""
    p = Path(out_dir) / "report.html"
    p.write_text(page)
    return p
