"""report.html: a self-contained page (no scripts, no network) with the memory summary, the
layer table, and the arena over time as inline SVG (tensors as bars: lifetime × offset)."""
from __future__ import annotations

import html
from pathlib import Path

W, H, PAD = 900, 360, 40
COLORS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
          "#ff9da7", "#9c755f", "#bab0ac")


def svg_doc(width: float, height: float, label: str, body: list[str]) -> str:
    """A standalone inline SVG (no scripts): the shared wrapper of tinyc's pictures."""
    return "\n".join([f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
                      f'height="{height}" role="img" aria-label="{html.escape(label)}">',
                      *body, "</svg>"])


def _n(v: float) -> str:
    return f"{v:.1f}" if isinstance(v, float) else str(v)


def svg_text(x: float, y: float, text: str, size: int = 12, anchor: str = "start",
             **attrs) -> str:
    """One <text> line; extra attributes as keywords (class_="tick" -> class="tick")."""
    extra = "".join(f' {k.rstrip("_").replace("_", "-")}="{html.escape(str(v))}"'
                    for k, v in attrs.items())
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}"'
            + (f' text-anchor="{anchor}"' if anchor != "start" else "")
            + f"{extra}>{html.escape(text)}</text>")


def arena_svg(model) -> str:
    plan = model.plan
    steps = max(len(model.graph.nodes), 1)
    arena = max(plan.arena_bytes, 1)
    sx, sy = (W - 2 * PAD) / steps, (H - 2 * PAD) / arena
    parts = [f'<rect x="{PAD}" y="{PAD}" width="{W - 2 * PAD}" height="{H - 2 * PAD}" '
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
    parts.append(svg_text(PAD, H - 10, f"step (layer) →  arena {plan.arena_bytes:,} B, "
                          f"lower bound {plan.lower_bound:,} B"))
    parts.append(svg_text(5, PAD - 10, "offset ↓"))
    return svg_doc(W, H, "arena over time", parts)


def _memory_rows(r: dict) -> str:
    rows = [("arena", r["arena_bytes"]), ("peak-live lower bound", r["arena_lower_bound"]),
            ("weights (flash)", r["weights_bytes"]), ("kernel constants (flash)",
                                                      r["constants_bytes"])]
    for k, v in sorted((r.get("memory") or {}).items()):
        rows.append((k.replace("_", " "), v))
    return "".join(f"<tr><th>{html.escape(k)}</th><td>"
                   f"{'not measured' if v is None else f'{v:,} B'}</td></tr>" for k, v in rows)


def _region_rows(r: dict) -> str:
    head = ("<tr><th>region</th><th>base</th><th>size B</th><th>used B</th><th>used</th>"
            "<th>holds</th></tr>")
    return head + "".join(
        f"<tr><td>{html.escape(g['name'])}</td><td>{g['base']}</td><td>{g['size']:,}</td>"
        f"<td>{g['used_bytes']:,}</td><td>{g['used_percent']:.1f}%</td>"
        f"<td>{html.escape(', '.join(g['holds']) or '-')}</td></tr>"
        for g in r.get("regions", []))


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
<h2>Memory regions of {html.escape(r['board'])}</h2><table>{_region_rows(r)}</table>
<h2>Arena over time</h2>{arena_svg(model)}
<h2>Layers</h2><table>{head}
{_layer_rows(r)}</table></body></html>
"""
    p = Path(out_dir) / "report.html"
    p.write_text(page)
    return p
