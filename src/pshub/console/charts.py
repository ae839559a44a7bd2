"""Charts as inline SVG, rendered on the server: no chart library, no script, no CDN.

Values are plain numbers; labels are escaped. Each chart has a ``<title>`` for screen readers
and hover tooltips.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


def bar_chart(
    items: Sequence[tuple[str, float]], *, title: str, unit: str = "", width: int = 640
) -> Markup:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    if not items:
        return Markup('<p class="muted">No data yet.</p>')
    row, label_w = 26, 180
    height = row * len(items) + 10
    top = max(v for _, v in items) or 1.0
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}">'
        f"<title>{escape(title)}</title>"
    ]
    for i, (label, value) in enumerate(items):
        y = 5 + i * row
        w = max(1.0, (width - label_w - 90) * value / top)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" class="bar">'
            f"<title>{escape(label)}: {_fmt(value)}{escape(unit)}</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{y + 16}">{_fmt(value)}{escape(unit)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label passed escape()


def column_chart(
    values: Sequence[float],
    labels: Sequence[str],
    *,
    title: str,
    unit: str = "",
    width: int = 640,
    height: int = 160,
) -> Markup:
    """Vertical columns over time (e.g. runs per hour), with the first and last label."""
    if not values:
        return Markup('<p class="muted">No data yet.</p>')
    top = max(values) or 1.0
    step = width / len(values)
    plot = height - 20
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}">'
        f"<title>{escape(title)}</title>"
    ]
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        h = plot * value / top
        parts.append(
            f'<rect x="{i * step + 1:.1f}" y="{plot - h:.1f}" width="{max(1.0, step - 2):.1f}" '
            f'height="{h:.1f}" class="bar"><title>{escape(label)}: {_fmt(value)}{escape(unit)}'
            "</title></rect>"
        )
    parts.append(
        f'<text x="0" y="{height - 4}">{escape(labels[0])}</text>'
        f'<text x="{width}" y="{height - 4}" text-anchor="end">{escape(labels[-1])}</text>'
        f'<text x="{width}" y="12" text-anchor="end">max {_fmt(top)}{escape(unit)}</text>'
        "</svg>"
    )
    return Markup("".join(parts))  # noqa: S704 - every label passed escape()


def sparkline(values: Sequence[float], *, title: str, width: int = 120, height: int = 24) -> Markup:
    """A tiny line for table cells."""
    if not values or max(values) == 0:
        return Markup(f'<svg class="spark" width="{width}" height="{height}"></svg>')  # noqa: S704
    top = max(values)
    step = width / max(1, len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (height - 4) * v / top:.1f}" for i, v in enumerate(values)
    )
    return Markup(  # noqa: S704 - the title passed escape(), the rest are numbers
        f'<svg class="spark" role="img" width="{width}" height="{height}">'
        f'<title>{escape(title)}</title><polyline points="{points}"/></svg>'
    )
