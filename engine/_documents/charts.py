"""Bar charts as plain SVG, drawn on the server for the dashboard and the monthly report's PDF: no script, no
CDN, text the page's own font renders (Chinese included), and a ``viewBox`` so a phone scales it down."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["bar_chart_svg"]

PALETTE = ("#1f5fa8", "#5aa05a", "#d08a1c", "#c0392b")


def bar_chart_svg(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    unit: str = "",
    width: int = 360,
) -> str:
    """Horizontal grouped bars: one group per label, one bar per series, each bar with its value written.
    Horizontal so long Chinese section names fit on a narrow screen."""
    bar, gap, label_h, left, right = 12, 10, 16, 8, 44
    legend_h = 18
    group_h = label_h + bar * len(series) + gap
    height = 24 + legend_h + group_h * max(len(labels), 1)
    top = max([v for _, values in series for v in values] + [1.0])
    span = width - left - right
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f'<text x="{left}" y="14" font-size="13" font-weight="bold" fill="#222">{escape(title)}</text>',
    ]
    x = left
    for index, (name, _) in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        out.append(f'<rect x="{x}" y="24" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 14}" y="33" font-size="11" fill="#333">{escape(name)}</text>')
        x += 14 + 12 * len(name) + 16
    y = 24 + legend_h
    for row, label in enumerate(labels):
        out.append(f'<text x="{left}" y="{y + 12}" font-size="12" fill="#222">{escape(label)}</text>')
        for index, (_, values) in enumerate(series):
            value = values[row] if row < len(values) else 0
            w = round(span * value / top, 1)
            by = y + label_h + index * bar
            colour = PALETTE[index % len(PALETTE)]
            out.append(f'<rect x="{left}" y="{by}" width="{w}" height="{bar - 2}" fill="{colour}"/>')
            text = f"{value:g}{unit}"
            out.append(f'<text x="{left + w + 4}" y="{by + bar - 3}" font-size="10" fill="#333">{escape(text)}</text>')
        y += group_h
    out.append("</svg>")
    return "".join(out)
