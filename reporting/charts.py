"""Charts as inline SVG drawn on the server (no JavaScript, no CDN, nothing
to download): stock over time, one line per category or site."""

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from core import display

# The legend's swatches take the same colours from reporting.css (.swatch-0 …):
# the Content-Security-Policy allows no style="" attribute.
PALETTE = ("#1f5f8b", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#2c3e50")
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 28
MAX_LINES = 8


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def line_chart(
    *, months, series: dict, label_of, metric: str = "weight_kg", title: str = ""
) -> str:
    """``series``: {key: [Measure per month]}; ``label_of(key)`` names a line."""
    lines = sorted(
        series.items(), key=lambda kv: -float(getattr(kv[1][-1], metric) if kv[1] else 0)
    )[:MAX_LINES]
    lines = [(k, v) for k, v in lines if any(getattr(m, metric) for m in v)]
    if not months or not lines:
        # Outside the f-string: xgettext does not look inside f-strings.
        empty = _("No stock to draw yet.")
        return mark_safe(f'<p class="hint">{escape(empty)}</p>')
    values = [float(getattr(m, metric)) for _k, v in lines for m in v]
    top = _nice_max(max(values + [0]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(months) - 1, 1)

    def x(i):
        return LEFT + i * step

    def y(v):
        return TOP + plot_h - (float(v) / top) * plot_h

    unit = "kg" if metric == "weight_kg" else ""
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        value = top * fraction
        yy = y(value)
        parts.append(
            f'<line x1="{LEFT}" y1="{yy:.1f}" x2="{WIDTH - RIGHT}" y2="{yy:.1f}" '
            f'stroke="#dde" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#555">{display.count(round(value))}{(" " + unit) if unit and fraction == 1 else ""}</text>'
        )
    every = max(1, len(months) // 8)
    for i, month in enumerate(months):
        if i % every == 0 or i == len(months) - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{HEIGHT - 8}" font-size="11" text-anchor="middle" '
                f'fill="#555">{month:%Y-%m}</text>'
            )
    for n, (key, points) in enumerate(lines):
        color = PALETTE[n % len(PALETTE)]
        path = " ".join(f"{x(i):.1f},{y(getattr(m, metric)):.1f}" for i, m in enumerate(points))
        name = escape(label_of(key))
        last = getattr(points[-1], metric)
        shown = display.weight(last) if metric == "weight_kg" else display.count(last)
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}">'
            f"<title>{name}: {escape(shown)}</title></polyline>"
        )
    parts.append("</svg>")
    legend = "".join(
        f'<li><span class="swatch swatch-{n % len(PALETTE)}"></span>{escape(label_of(key))}</li>'
        for n, (key, _points) in enumerate(lines)
    )
    return mark_safe("".join(parts) + f'<ul class="chart-legend">{legend}</ul>')
