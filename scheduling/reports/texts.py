"""Texts: sent, delivered, failed, opt-outs, and patients' replies by kind."""

from __future__ import annotations

from scheduling.reports.layout import column, figure, table
from scheduling.reports.scope import Scope


def texts(scope: Scope) -> dict:
    return figure(
        "texts", "Texts sent", "Texts sent to patients in the period.", unit="count", value=0, previous=0,
        tables=[
            table("texts", "Texts", chart="bar",
                  columns=[column("measure", "Texts"), column("count", "Count", "count"),
                           column("previous", "Previous period", "count")],
                  rows=[], x="measure", series=["count", "previous"]),
            table("replies", "Replies by kind", chart="bar",
                  columns=[column("kind", "Reply"), column("count", "Count", "count"),
                           column("previous", "Previous period", "count")],
                  rows=[], x="kind", series=["count", "previous"]),
        ])
