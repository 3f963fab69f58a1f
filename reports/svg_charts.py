"""The audit PDF's charts, written as SVG directly.

The PDF used to have Plotly draw them through kaleido, i.e. a headless Chromium started for
every PDF: seconds of the PDF's time and a browser on every worker. Four plain charts (grouped
columns with a line, grouped horizontal bars, one stacked share bar) are a few rectangles, lines
and labels; writing them here keeps them vector, fast and dependency-free. Colours are SVG
attributes, not CSS, which is what WeasyPrint's SVG renderer reads; they come from the
palette the pages use (reports.palette), passed per series by the caller (`colours`).
"""

import math
from collections.abc import Sequence
from html import escape

from reports.palette import CATEGORICAL

WIDTH = 720
FONT = 'font-family="DejaVu Sans, sans-serif"'
INK, MUTED, GRID = "#1d2327", "#5a6570", "#dde3e8"

Series = tuple[str, Sequence[float]]


def _colours(count: int, colours: Sequence[str] | None) -> list[str]:
    """The series' colours: as given, else the palette's categorical ones in order."""
    chosen = list(colours or ())
    return chosen + [CATEGORICAL[i % len(CATEGORICAL)] for i in range(len(chosen), count)]


def _text_width(text: str, size: float) -> float:
    # DejaVu Sans averages a little over half its size per character.
    return len(text) * size * 0.6


def _number(value: float, step: float) -> str:
    places = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return f"{value:,.{places}f}"


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """0 and round steps (1, 2 or 5 × 10^n) up to at least `top`."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


class _Canvas:
    def __init__(self, height: float) -> None:
        self.height = height
        self.parts: list[str] = []

    def rect(self, x: float, y: float, w: float, h: float, colour: str) -> None:
        self.parts.append(
            f'<rect x="{x:.2f}" y="{y:.2f}" width="{max(w, 0):.2f}" height="{max(h, 0):.2f}" '
            f'fill="{colour}"/>'
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, colour: str, width=1.0) -> None:
        self.parts.append(
            f'<line x1="{x1:.2f}" y1="{y1:.2f}" x2="{x2:.2f}" y2="{y2:.2f}" '
            f'stroke="{colour}" stroke-width="{width}"/>'
        )

    def polyline(self, points: list[tuple[float, float]], colour: str) -> None:
        path = " ".join(f"{x:.2f},{y:.2f}" for x, y in points)
        self.parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for x, y in points:
            self.parts.append(f'<circle cx="{x:.2f}" cy="{y:.2f}" r="2.5" fill="{colour}"/>')

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float = 10,
        anchor: str = "start",
        colour: str = INK,
        rotate: bool = False,
        bold: bool = False,
    ) -> None:
        turn = f' transform="rotate(-90 {x:.2f} {y:.2f})"' if rotate else ""
        weight = ' font-weight="bold"' if bold else ""
        self.parts.append(
            f'<text x="{x:.2f}" y="{y:.2f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{colour}" {FONT}{weight}{turn}>{escape(text)}</text>'
        )

    def legend(
        self, y: float, names: Sequence[str], colours: Sequence[str], left: float = 10
    ) -> float:
        """Swatches and names in rows from `y`; returns the y below the last row."""
        x = left
        for name, colour in zip(names, colours, strict=True):
            width = 16 + _text_width(name, 9) + 14
            if x + width > WIDTH - 10 and x > left:
                x, y = left, y + 15
            self.rect(x, y - 8, 10, 10, colour)
            self.text(x + 14, y, name, size=9)
            x += width
        return y + 15

    def svg(self) -> str:
        body = "".join(self.parts)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{self.height:.0f}" '
            f'viewBox="0 0 {WIDTH} {self.height:.0f}">{body}</svg>'
        )


def _runs(series: Sequence[float | None]) -> list[list[int]]:
    """Indexes of the consecutive values that are not None: a line breaks at a gap."""
    runs: list[list[int]] = []
    for index, value in enumerate(series):
        if value is None:
            continue
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def column_chart(
    categories: Sequence[str],
    bars: Sequence[Series],
    lines: Sequence[Series] = (),
    *,
    title: str,
    y_title: str,
    label_every: int = 1,
    height: float = 320,
    colours: Sequence[str] | None = None,
) -> str:
    """Grouped vertical bars per category, optional lines across them; `colours` are the
    bars' then the lines'."""
    canvas = _Canvas(height)
    colours = _colours(len(bars) + len(lines), colours)
    left, right, top, bottom = 70, WIDTH - 15, 30, height - 70
    values = [v for _, series in (*bars, *lines) for v in series if v is not None]
    ticks = nice_ticks(max(values, default=0.0))
    scale = (bottom - top) / ticks[-1]
    canvas.text(left, 16, title, size=12, bold=True)
    for tick in ticks:
        y = bottom - tick * scale
        canvas.line(left, y, right, y, GRID)
        canvas.text(left - 6, y + 3, _number(tick, ticks[1]), size=9, anchor="end", colour=MUTED)
    canvas.text(16, (top + bottom) / 2, y_title, size=9, anchor="middle", rotate=True)
    slot = (right - left) / max(len(categories), 1)
    bar = slot * 0.8 / max(len(bars), 1)
    for index, category in enumerate(categories):
        if index % label_every == 0:
            x = left + slot * (index + 0.5)
            canvas.text(x, bottom + 14, category, size=9, anchor="middle", colour=MUTED)
    for n, (_, series) in enumerate(bars):
        for index, value in enumerate(series):
            if value is None:  # no data: a gap, not a zero
                continue
            x = left + slot * index + slot * 0.1 + bar * n
            canvas.rect(x, bottom - value * scale, bar, value * scale, colours[n])
    for n, (_, series) in enumerate(lines, start=len(bars)):
        for run in _runs(series):
            points = [(left + slot * (i + 0.5), bottom - series[i] * scale) for i in run]
            canvas.polyline(points, colours[n])
    canvas.line(left, bottom, right, bottom, MUTED)
    canvas.legend(bottom + 40, [name for name, _ in (*bars, *lines)], colours)
    return canvas.svg()


def bar_chart(
    labels: Sequence[str],
    bars: Sequence[Series],
    *,
    title: str,
    x_title: str,
    colours: Sequence[str] | None = None,
) -> str:
    """Grouped horizontal bars, one group per label, the first label on top."""
    colours = _colours(len(bars), colours)
    group = 10 + 9 * len(bars)
    height = 95 + group * max(len(labels), 1)
    canvas = _Canvas(height)
    longest = max((_text_width(label, 9) for label in labels), default=0)
    left, right, top = min(max(80, longest + 16), 260), WIDTH - 20, 30
    bottom = top + group * len(labels)
    ticks = nice_ticks(max((v for _, series in bars for v in series), default=0.0))
    scale = (right - left) / ticks[-1]
    canvas.text(10, 16, title, size=12, bold=True)
    for tick in ticks:
        x = left + tick * scale
        canvas.line(x, top, x, bottom, GRID)
        canvas.text(x, bottom + 13, _number(tick, ticks[1]), size=9, anchor="middle", colour=MUTED)
    canvas.text((left + right) / 2, bottom + 28, x_title, size=9, anchor="middle")
    for index, label in enumerate(labels):
        y = top + group * index
        canvas.text(left - 6, y + group / 2 + 3, label, size=9, anchor="end")
        for n, (_, series) in enumerate(bars):
            value = series[index]
            canvas.rect(left, y + 5 + 9 * n, value * scale, 8, colours[n])
    canvas.line(left, top, left, bottom, MUTED)
    canvas.legend(bottom + 50, [name for name, _ in bars], colours)
    return canvas.svg()


def share_bar(
    parts: Sequence[tuple[str, float]],
    *,
    title: str,
    x_title: str,
    colours: Sequence[str] | None = None,
) -> str:
    """One horizontal bar 0–100 %, split into the parts' shares (0–1), in order."""
    colours = _colours(len(parts), colours)
    canvas = _Canvas(150)
    left, right, top = 20, WIDTH - 20, 30
    canvas.text(10, 16, title, size=12, bold=True)
    x = left
    for n, (_, share) in enumerate(parts):
        width = share * (right - left)
        canvas.rect(x, top, width, 34, colours[n])
        x += width
    for percent in range(0, 101, 20):
        tick = left + percent / 100 * (right - left)
        canvas.line(tick, top + 34, tick, top + 38, MUTED)
        canvas.text(tick, top + 50, f"{percent} %", size=9, anchor="middle", colour=MUTED)
    canvas.text((left + right) / 2, top + 66, x_title, size=9, anchor="middle")
    names = [f"{name}: {share * 100:.1f} %" for name, share in parts]
    canvas.legend(top + 90, names, colours, left)
    return canvas.svg()
