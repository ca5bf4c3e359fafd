"""Outcomes: PHQ-9 response and remission at week 4 and week 8 of the course, by protocol."""

from __future__ import annotations

from scheduling.reports.layout import column, figure, table
from scheduling.reports.scope import Scope


def outcomes(scope: Scope) -> dict:
    return figure(
        "outcomes", "PHQ-9 response and remission", "Response and remission at week 4 and week 8.", unit="percent",
        value=None, previous=None,
        tables=[table("response_remission", "Response and remission by protocol", chart="grouped_bar",
                      columns=[column("group", "Protocol and week"), column("protocol", "Protocol"),
                               column("week", "Week", "count"), column("patients", "Patients", "count"),
                               column("responders", "Responders", "count"), column("response", "Response", "percent"),
                               column("remitters", "In remission", "count"),
                               column("remission", "Remission", "percent")],
                      rows=[], x="group", series=["response", "remission"])])
