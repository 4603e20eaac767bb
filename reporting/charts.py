"""Charts as inline SVG drawn on the server (no JavaScript, no CDN, nothing
to download): stock over time, one line per category or site."""

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from core import display

# The legend's swatches take the same colours from reporting.css (.swatch-0 …):
# the Content-Security-Policy allows no style="" attribute.
PALETTE = ("#1f5f8b", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#2c3e50")
# The chart is as wide as its box, HEIGHT pixels high, and never scaled: its
# text is FONT_PX real pixels at 1366 px and on a phone alike. The lines are
# drawn in an inner SVG stretched to the width (PLOT_UNITS across), with
# strokes that keep their width; the labels sit in the outer SVG, placed in
# percent of the width, so nothing is squeezed or clipped.
HEIGHT, TOP, BOTTOM = 260, 22, 26
PLOT_UNITS = 1000
FONT_PX = 12
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
    plot_h = HEIGHT - TOP - BOTTOM
    last_index = max(len(months) - 1, 1)

    def x(i):  # in plot units
        return i * PLOT_UNITS / last_index

    def y(v):  # in pixels from the plot's top
        return plot_h - (float(v) / top) * plot_h

    unit = "kg" if metric == "weight_kg" else ""
    parts = [
        f'<svg class="chart" width="100%" height="{HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<svg x="0" y="{TOP}" width="100%" height="{plot_h}" overflow="visible" '
        f'viewBox="0 0 {PLOT_UNITS} {plot_h}" preserveAspectRatio="none">',
    ]
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        yy = y(top * fraction)
        parts.append(
            f'<line x1="0" y1="{yy:.1f}" x2="{PLOT_UNITS}" y2="{yy:.1f}" '
            f'stroke="#dde" stroke-width="1" vector-effect="non-scaling-stroke"/>'
        )
    for n, (key, points) in enumerate(lines):
        color = PALETTE[n % len(PALETTE)]
        path = " ".join(f"{x(i):.1f},{y(getattr(m, metric)):.1f}" for i, m in enumerate(points))
        name = escape(label_of(key))
        last = getattr(points[-1], metric)
        shown = display.weight(last) if metric == "weight_kg" else display.count(last)
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2" '
            f'vector-effect="non-scaling-stroke" points="{path}">'
            f"<title>{name}: {escape(shown)}</title></polyline>"
        )
    parts.append("</svg>")
    # The scale's values sit just above their grid line, at the left edge.
    for fraction in (0.25, 0.5, 0.75, 1):
        value = top * fraction
        parts.append(
            f'<text x="2" y="{TOP + y(value) - 4:.1f}" font-size="{FONT_PX}" fill="#444" '
            f'stroke="#fff" stroke-width="3" paint-order="stroke">'
            f"{display.count(round(value))}{(' ' + unit) if unit else ''}</text>"
        )
    # Month labels: the first starts at the left edge, the last ends at the
    # right one (never clipped); every other one is "minor", hidden when the
    # chart is narrow (a container query in reporting.css: two charts side by
    # side), and half the rest "minor2", hidden on a phone, so that they never
    # run into each other.
    every = max(1, len(months) // 8)
    shown_months = [i for i in range(len(months)) if i % every == 0]
    if shown_months[-1] != len(months) - 1:
        if len(months) - 1 - shown_months[-1] < every:
            shown_months.pop()
        shown_months.append(len(months) - 1)
    for rank, i in enumerate(shown_months):
        percent = 100 * i / last_index if len(months) > 1 else 0
        anchor = "start" if i == 0 else "end" if i == len(months) - 1 else "middle"
        last = i == len(months) - 1
        before_last = rank == len(shown_months) - 2
        if last or not rank:
            minor = ""
        elif rank % 2 or before_last:
            minor = ' class="minor"'
        elif rank % 4:
            minor = ' class="minor2"'  # hidden on a phone too: 3 labels left
        else:
            minor = ""
        parts.append(
            f'<text x="{percent:.2f}%" y="{HEIGHT - 8}" font-size="{FONT_PX}" '
            f'text-anchor="{anchor}" fill="#444"{minor}>{escape(display.month(months[i]))}</text>'
        )
    parts.append("</svg>")
    legend = "".join(
        f'<li><span class="swatch swatch-{n % len(PALETTE)}"></span>{escape(label_of(key))}</li>'
        for n, (key, _points) in enumerate(lines)
    )
    return mark_safe(
        '<div class="chart-box">' + "".join(parts) + f'</div><ul class="chart-legend">{legend}</ul>'
    )
