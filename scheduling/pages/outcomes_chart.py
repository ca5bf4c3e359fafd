"""The outcomes chart: one instrument's totals over a course as a server-rendered SVG line chart.

A pure function (points in, SVG and a summary out, no ORM), so it can be
tested without a database and drawn the same on any page. The severity bands
come from ``patients.measures``; response and remission are judged by
``measures.is_response`` / ``measures.is_remission``, never re-derived here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.utils.html import escape
from django.utils.safestring import mark_safe

from patients import measures

WIDTH, HEIGHT = 720, 250
LEFT, RIGHT, TOP, BOTTOM = 34, 130, 10, 34
MIN_LABEL_GAP = 44  # px between x-axis date labels, so dates never overprint
# Light to dark, minimal to severe; bands are shaded, not coloured loudly, so the line reads first.
BAND_FILLS = ("#e8f5ec", "#f4f8de", "#fdf3d8", "#fde4cf", "#f9d3d3")


def _fill(index: int, count: int) -> str:
    # Instruments with four bands skip the middle shade so "severe" is always the darkest.
    if count == len(BAND_FILLS):
        return BAND_FILLS[index]
    return (BAND_FILLS[0], BAND_FILLS[1], BAND_FILLS[3], BAND_FILLS[4])[index] if count == 4 else BAND_FILLS[0]


def outcome_chart(instrument: str, points: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The chart of ``points`` (each with ``date`` and ``total``, in time order) for ``instrument``.

    Returns ``label``, ``baseline`` and ``latest`` totals, ``response`` and
    ``remission`` (both False until there is a measure after the baseline),
    and ``svg``: one ``<circle data-testid="outcome-point">`` per point, one
    shaded rectangle per severity band, the baseline and the response and
    remission thresholds as dashed lines, dates on the x-axis.
    """
    spec = measures.spec_for(instrument)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_value = spec.total_max

    def y(total: float) -> float:
        return round(TOP + plot_h * (1 - total / top_value), 1)

    days = [point["date"] for point in points]
    first, last = (min(days), max(days)) if days else (date.today(), date.today())
    span = (last - first).days

    def x(day: date) -> float:
        if span == 0:
            return round(LEFT + plot_w / 2, 1)
        return round(LEFT + plot_w * (day - first).days / span, 1)

    parts: list[str] = []
    for index, band in enumerate(spec.bands):
        upper = band.high + 1 if band.high < top_value else top_value
        parts.append(
            f'<rect data-testid="outcome-band" data-band="{band.slug}" x="{LEFT}" y="{y(upper)}" width="{plot_w}" '
            f'height="{round(y(band.low) - y(upper), 1)}" fill="{_fill(index, len(spec.bands))}"/>'
            f'<text x="{LEFT + plot_w + 6}" y="{round((y(band.low) + y(upper)) / 2 + 4, 1)}" font-size="11" '
            f'fill="#5b6475">{escape(band.label)} ({band.low}–{band.high})</text>'
        )
    for tick in range(0, top_value + 1, 5 if top_value <= 30 else 10):
        parts.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4}" font-size="11" text-anchor="end" fill="#5b6475">'
                     f'{tick}</text>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#8a93a5"/>')

    baseline = points[0]["total"] if points else None
    latest = points[-1]["total"] if points else None
    followed_up = len(points) > 1
    response = followed_up and measures.is_response(baseline, latest)
    remission = followed_up and measures.is_remission(instrument, latest)
    if baseline is not None:
        parts.append(_threshold("outcome-remission-line", y(spec.remission_max), plot_w,
                                f"Remission ≤ {spec.remission_max}", "#1e7b3a"))
        if baseline > 0:
            parts.append(_threshold("outcome-response-line", y(baseline / 2), plot_w,
                                    f"Response ≤ {baseline / 2:g}", "#1f5fbf"))
        parts.append(_threshold("outcome-baseline", y(baseline), plot_w, f"Baseline {baseline}", "#1d2330"))

    if len(points) > 1:
        path = " ".join(f"{x(point['date'])},{y(point['total'])}" for point in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1f5fbf" stroke-width="2"/>')
    last_label_x = None
    for index, point in enumerate(points):
        cx, cy = x(point["date"]), y(point["total"])
        band = measures.band_for(instrument, point["total"])
        kind = "baseline" if index == 0 else "follow-up"
        parts.append(
            f'<circle data-testid="outcome-point" data-total="{point["total"]}" data-date="{point["date"]:%Y-%m-%d}" '
            f'data-kind="{kind}" cx="{cx}" cy="{cy}" r="{6 if index == 0 else 4}" '
            f'fill="{"#fff" if index == 0 else "#1f5fbf"}" stroke="#1f5fbf" stroke-width="2">'
            f'<title>{point["date"]:%b} {point["date"].day}: {point["total"]} ({escape(band.label)})'
            f'{" · baseline" if index == 0 else ""}</title></circle>'
        )
        if last_label_x is None or cx - last_label_x >= MIN_LABEL_GAP:
            parts.append(f'<text x="{cx}" y="{TOP + plot_h + 16}" font-size="11" text-anchor="middle" '
                         f'fill="#1d2330">{point["date"]:%b} {point["date"].day}</text>')
            last_label_x = cx
    if points and (response or remission):
        cx, cy = x(points[-1]["date"]), y(points[-1]["total"])
        if remission:
            parts.append(f'<text data-testid="outcome-remission" x="{cx}" y="{cy - 10}" font-size="11" '
                         f'text-anchor="end" font-weight="700" fill="#1e7b3a">Remission</text>')
        if response:
            parts.append(f'<text data-testid="outcome-response" x="{cx}" y="{cy - (22 if remission else 10)}" '
                         f'font-size="11" text-anchor="end" font-weight="700" fill="#1f5fbf">Response</text>')

    title = f"{spec.label} over the course"
    summary = ", ".join(f"{point['date']:%b} {point['date'].day}: {point['total']}" for point in points)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'data-testid="outcome-chart" data-instrument="{spec.slug}" aria-label="{escape(title)}: '
           f'{escape(summary)}"><title>{escape(title)}</title>{"".join(parts)}</svg>')
    return {
        "instrument": spec.slug,
        "label": spec.label,
        "baseline": baseline,
        "latest": latest,
        "response": response,
        "remission": remission,
        "count": len(points),
        "svg": mark_safe(svg),  # built above from numbers and escaped text only
    }


def _threshold(testid: str, at_y: float, plot_w: int, label: str, colour: str) -> str:
    return (f'<g data-testid="{testid}"><line x1="{LEFT}" y1="{at_y}" x2="{LEFT + plot_w}" y2="{at_y}" '
            f'stroke="{colour}" stroke-dasharray="5 4" stroke-width="1"/>'
            f'<text x="{LEFT + 4}" y="{at_y - 3}" font-size="10" fill="{colour}">{escape(label)}</text></g>')
