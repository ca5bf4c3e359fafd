"""The outcomes chart's data: one instrument's totals over a course, ready for Chart.js and for a table.

Why Chart.js (vendored under ``scheduling/static/vendor/``) rather than the
SVG this module used to draw by hand: the hand-drawn chart had a fixed
720-pixel canvas whose words were placed by arithmetic, so at the patient
page's narrower column its text shrank, the band labels ran off the right
edge ("Moderately severe (15" clipped) and the response and remission words
landed on the last point. Chart.js measures its own axis labels (the bands
are written on a right-hand axis, which takes the room its words need),
redraws at the width it is given, and skips x-axis dates that would
overprint; its annotation plugin draws the bands and the threshold lines.
What a canvas cannot give, the page gives in HTML beside it: the values in a
table under each chart (read by screen readers, printed, there without
JavaScript), the response and remission verdicts as words, and a key.

This module stays pure (points in, plain data out, no ORM), so what the chart
is given is tested without a browser. Bands come from ``patients.measures``;
response and remission are judged by ``measures.is_response`` and
``measures.is_remission``, never re-derived here (docs/DOMAIN.md "Outcome
measures").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from patients import measures

# Shades light to dark (minimal to severe), as ``--band-N`` in outcomes.css; four-band instruments skip
# the middle shade so "severe" is always the darkest.
SHADES_OF = {5: (0, 1, 2, 3, 4), 4: (0, 1, 3, 4)}


def _day_words(day: date) -> str:
    return f"{day:%a %b} {day.day}, {day.year}"


def _short_day(day: date) -> str:
    return f"{day:%b} {day.day}"


def outcome_chart(instrument: str, points: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What the page shows of ``points`` (each with ``date`` and ``total``, in time order) for ``instrument``.

    Returns ``instrument``, ``label``, ``count``, ``baseline`` and ``latest``
    totals (None without points), ``change`` (latest minus baseline),
    ``response`` and ``remission`` (False until there is a measure after the
    baseline), ``response_at`` (the highest total that is a response: half the
    baseline; None for a baseline of 0) and ``remission_at`` (the instrument's
    cut-off), ``bands`` (each with ``label``, ``low``, ``high`` and ``shade``),
    ``rows`` for the table, and ``data``: the same as plain JSON for the script
    that draws the chart.
    """
    spec = measures.spec_for(instrument)
    baseline = points[0]["total"] if points else None
    latest = points[-1]["total"] if points else None
    followed_up = len(points) > 1
    response_at = baseline / 2 if baseline else None
    first_day = points[0]["date"] if points else None
    shades = SHADES_OF.get(len(spec.bands), tuple(range(len(spec.bands))))
    bands = [{"slug": band.slug, "label": band.label, "low": band.low, "high": band.high, "shade": shade}
             for band, shade in zip(spec.bands, shades, strict=False)]
    rows = []
    for index, point in enumerate(points):
        total = point["total"]
        is_baseline = index == 0
        reached = [] if is_baseline else [
            word for word, met in (("response", measures.is_response(baseline, total)),
                                   ("remission", measures.is_remission(instrument, total))) if met
        ]
        rows.append({
            "date": point["date"],
            "date_words": _day_words(point["date"]),
            "total": total,
            "band": measures.band_for(instrument, total).label,
            "kind": "baseline" if is_baseline else "follow-up",
            "change": None if is_baseline else total - baseline,
            "reached": reached,
        })
    data = {
        "instrument": spec.slug,
        "label": spec.label,
        "max": spec.total_max,
        "bands": bands,
        "response_at": response_at,
        "remission_at": spec.remission_max,
        "points": [{"day": (row["date"] - first_day).days, "date": row["date"].isoformat(),
                    "short": _short_day(row["date"]), "total": row["total"], "band": row["band"],
                    "kind": row["kind"], "reached": row["reached"]} for row in rows],
    }
    summary = ", ".join(f"{_short_day(row['date'])}: {row['total']}" for row in rows)
    return {
        "instrument": spec.slug,
        "label": spec.label,
        "count": len(points),
        "baseline": baseline,
        "latest": latest,
        "change": None if baseline is None else latest - baseline,
        "response": followed_up and measures.is_response(baseline, latest),
        "remission": followed_up and measures.is_remission(instrument, latest),
        "response_at": response_at,
        "remission_at": spec.remission_max,
        "bands": bands,
        "rows": rows,
        "summary": f"{spec.label} over the course: {summary}" if rows else f"No {spec.label} recorded.",
        "data": data,
    }
