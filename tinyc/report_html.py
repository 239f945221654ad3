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
    """The arena over time: each tensor a bar from its first to its last step at its offset,
    coloured as in the legend below the picture."""
    plan = model.plan
    steps = max(len(model.graph.nodes), 1)
    arena = max(plan.arena_bytes, 1)
    sx, sy = (W - 2 * PAD) / steps, (H - 2 * PAD) / arena
    parts = [f'<rect x="{PAD}" y="{PAD}" width="{W - 2 * PAD}" height="{H - 2 * PAD}" '
             'fill="#f7f7f7" stroke="#999"/>']
    for i, b in enumerate(_buffers(plan)):
        off = plan.offsets[b.root.name]
        x, y = PAD + b.first * sx, PAD + off * sy
        w, h = max((b.last - b.first + 1) * sx, 1), max(b.size * sy, 1)
        tip = html.escape(f"{b.root.name}: {b.size:,} B at offset {off:,}, "
                          f"steps {b.first}-{b.last}")
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                     f'fill="{COLORS[i % len(COLORS)]}" fill-opacity="0.8" stroke="#333" '
                     f'stroke-width="0.5"><title>{tip}</title></rect>')
    for step in range(steps):
        parts.append(svg_text(PAD + (step + 0.5) * sx, H - PAD + 14, str(step), 10, "middle"))
    parts.append(svg_text(W / 2, H - 8, f"layer (step) →   arena {plan.arena_bytes:,} B, "
                          f"peak-live lower bound {plan.lower_bound:,} B", 12, "middle"))
    parts.append(svg_text(PAD, PAD - 10, "offset in the arena ↓ (0 at the top)"))
    return svg_doc(W, H, "arena over time", parts)


def _buffers(plan) -> list:
    return sorted(plan.buffers, key=lambda b: (b.first, b.root.name))


def _legend(model) -> str:
    plan = model.plan
    items = [f'<span class="key"><i style="background:{COLORS[i % len(COLORS)]}"></i>'
             f'{html.escape(b.root.name)} <small>{b.size:,} B, steps {b.first}–{b.last}</small>'
             '</span>' for i, b in enumerate(_buffers(plan))]
    return f'<div class="legend">{"".join(items)}</div>'


def _bytes(v) -> str:
    return "not measured" if v is None else f"{v:,} B"


def _memory_rows(r: dict) -> str:
    """Flash and RAM, each figure once, in words."""
    mem = r.get("memory") or {}
    rows = [("Arena (activations, RAM)", r["arena_bytes"]),
            ("Arena lower bound (peak of live tensors)", r["arena_lower_bound"]),
            ("Weights (flash)", r["weights_bytes"]),
            ("Kernel constants: multipliers, shifts, tables (flash)", r["constants_bytes"])]
    if mem:
        rows += [("Code (flash, measured)", mem.get("flash_code_bytes")),
                 ("Flash total (measured: linked firmware minus an empty one)",
                  mem.get("flash_bytes")),
                 ("Static RAM incl. arena (measured)", mem.get("ram_static_bytes")),
                 ("Stack of one inference (measured in QEMU)", mem.get("stack_bytes")),
                 ("RAM total (measured)", mem.get("ram_total_bytes"))]
    return "".join(f"<tr><th>{html.escape(k)}</th><td class=num>{_bytes(v)}</td></tr>"
                   for k, v in rows)


def _region_rows(r: dict) -> str:
    head = ("<tr><th>Region</th><th>Base</th><th>Size</th><th>Used</th><th>Share</th>"
            "<th>Holds</th></tr>")
    return head + "".join(
        f"<tr><td>{html.escape(g['name'])}</td><td>{g['base']}</td>"
        f"<td class=num>{g['size']:,} B</td><td class=num>{g['used_bytes']:,} B</td>"
        f"<td>{_bar(g['used_percent'])}</td>"
        f"<td>{html.escape(', '.join(g['holds']) or '-')}</td></tr>"
        for g in r.get("regions", []))


def _bar(percent: float | None) -> str:
    """A share as a small horizontal bar with its number."""
    if percent is None:
        return "-"
    w = max(0.0, min(percent, 100.0))
    return (f'<span class="share"><span class="bar"><b style="width:{w:.1f}%"></b></span> '
            f'{percent:.1f}%</span>')


def _layer_rows(r: dict) -> str:
    out = []
    for i, (lay, live) in enumerate(zip(r["layers"], r["live"])):
        cyc = lay.get("estimated_cycles")
        cells = [str(i), html.escape(lay["name"]), html.escape(lay["op"]),
                 html.escape(lay.get("kernel") or "-"),
                 html.escape(lay.get("weight_format") or "-"),
                 "×".join(map(str, lay["output_shape"])),
                 f"{lay['macs']:,}", f"{lay['weights_bytes']:,}",
                 "-" if cyc is None else f"{cyc:,}",
                 _bar(lay.get("cycles_percent")) if cyc is not None else "-",
                 f"{lay['arena_offset']:,}" if lay["arena_offset"] is not None else "-",
                 f"{live['bytes']:,}"]
        out.append("<tr>" + "".join(f"<td class=num>{c}</td>" if k in NUMERIC else f"<td>{c}</td>"
                                    for k, c in enumerate(cells)) + "</tr>")
    return "\n".join(out)


NUMERIC = {0, 6, 7, 8, 10, 11}       # the layer table's number columns


def _card(title: str, value: str, note: str = "", cls: str = "") -> str:
    return (f'<div class="card {cls}"><div class="t">{html.escape(title)}</div>'
            f'<div class="v">{value}</div><div class="n">{note}</div></div>')


def _summary(model) -> str:
    """The cards: fit, flash and RAM share (per region), latency, energy, accuracy."""
    r, b = model.report, model.board
    regions = r.get("regions", [])
    fits = all(g["used_bytes"] <= g["size"] for g in regions)
    how = "measured (linked, QEMU)" if r.get("memory") else "planned (not linked)"
    cards = [_card("Fits the board?", "Yes" if fits else "No",
                   f"{html.escape(b.name)}: {html.escape(b.description)}; {how}",
                   "good" if fits else "bad")]
    for kind, label in (("flash", "Flash"), ("ram", "RAM")):
        names = {x.name for x in b.memory if x.kind == kind}
        mine = [g for g in regions if g["name"] in names]
        used = sum(g["used_bytes"] for g in mine)
        size = sum(g["size"] for g in mine) or 1
        per = "<br>".join(f"{html.escape(g['name'])}: {g['used_bytes']:,} of {g['size']:,} B "
                          f"({g['used_percent']:.1f}%)" for g in mine if g["used_bytes"]
                          ) if len(mine) > 1 else ""
        cards.append(_card(label, f"{100.0 * used / size:.1f}%",
                           f"{used:,} of {size:,} B<br>{per}"))
    if r.get("latency_ms") is not None:
        cards.append(_card("Latency", f"{r['latency_ms']:.3f} ms",
                           f"{r['estimated_cycles']:,} estimated cycles at "
                           f"{b.clock_hz / 1e6:g} MHz<br>{html.escape(r['cycle_model'])}"))
    else:
        cards.append(_card("Latency", "—", html.escape(r.get("cycle_model", "not estimated"))))
    energy = r.get("energy_uj")
    cards.append(_card("Energy per inference", "—" if energy is None else f"{energy:,.1f} µJ",
                       html.escape(r.get("energy_model", ""))))
    acc = r.get("accuracy")
    cards.append(_card("Accuracy", "—" if acc is None else f"{acc:.2f}%",
                       "not measured here: <code>tinyc check MODEL --calib C.npz --data "
                       "T.npz</code>" if acc is None else "on the test data given"))
    return f'<div class="cards">{"".join(cards)}</div>'


CSS = """body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px}
.sub{color:#666;margin:0 0 16px}
table{border-collapse:collapse} td,th{border:1px solid #ddd;padding:3px 8px;font-size:13px;
text-align:left} th{background:#f4f4f4;font-weight:600} td.num,.num{text-align:right;
font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #ddd;border-radius:8px;padding:10px 14px;min-width:150px;max-width:240px;
background:#fafafa} .card .t{font-size:12px;color:#666;text-transform:uppercase}
.card .v{font-size:26px;font-weight:600;margin:4px 0} .card .n{font-size:12px;color:#555}
.card.good .v{color:#2e7d32} .card.bad .v{color:#c62828}
.share{white-space:nowrap}
.bar{display:inline-block;width:70px;height:9px;background:#eee;vertical-align:middle}
.bar b{display:block;height:9px;background:#4e79a7}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;margin:6px 0 0;max-width:900px}
.key i{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px;
opacity:.8;border:1px solid #333}"""


def write_html(model, out_dir: Path) -> Path:
    r = model.report
    head = ("<tr><th>#</th><th>Layer</th><th>Op</th><th>Kernel</th><th>Weight format</th>"
            "<th>Output</th><th>MACs</th><th>Weights B</th><th>Est. cycles</th>"
            "<th>Share of cycles</th><th>Arena offset</th><th>Live B</th></tr>")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tinyc report: {html.escape(r['model'])}</title>
<style>{CSS}</style></head>
<body><h1>{html.escape(r['source'])} on {html.escape(r['board'])}</h1>
<p class="sub">{len(r['layers'])} layers, {r['macs']:,} MACs, C prefix
<code>{html.escape(r['model'])}</code> — written by tinyc</p>
{_summary(model)}
<h2>Layers</h2><table>{head}
{_layer_rows(r)}</table>
<h2>Arena over time</h2>{arena_svg(model)}
{_legend(model)}
<h2>Memory</h2><table>{_memory_rows(r)}</table>
<h2>Memory regions of {html.escape(r['board'])}</h2><table>{_region_rows(r)}</table>
</body></html>
"""
    p = Path(out_dir) / "report.html"
    p.write_text(page)
    return p
