"""A month of the clinic's numbers in the dashboard's contract shape, made by hand: the page and its charts are
tested against known figures, whatever the figures' own queries count (those have tests of their own)."""

from __future__ import annotations

import copy

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HOURS = tuple(range(8, 18))


def _column(key: str, label: str, unit: str | None = None) -> dict:
    return {"key": key, "label": label, "unit": unit}


def _table(key, title, chart, columns, rows, x=None, series=(), y=None) -> dict:
    return {"key": key, "title": title, "chart": chart, "columns": columns, "rows": rows, "x": x,
            "series": list(series), "y": y}


# As long as the figures' own definitions (three or four lines on the page), so the print test meets their length.
COUNTED = (" The rest of the definition says which sessions count, in whose local days and hours, which are left out "
           "(recorded from before the system, cancelled ahead) and what the figure is divided by, as the real ones do.")


def _figure(key, title, unit, value, previous, tables, numerator=None, denominator=None) -> dict:
    return {"key": key, "title": title, "definition": f"How {title.lower()} is counted, in one sentence.{COUNTED}",
            "unit": unit, "value": value, "previous": previous, "numerator": numerator,
            "denominator": denominator, "tables": tables}


def _rate_by(key_name: str, label: str, keys, counted: str) -> dict:
    rows = [{key_name: value, "sessions": 20, counted: index % 4, "rate": round(100 * (index % 4) / 20, 1)}
            for index, value in enumerate(keys)]
    return _table(f"by_{key_name}", f"By {label.lower()}", "bar",
                  [_column(key_name, label), _column("sessions", "Sessions due", "count"),
                   _column(counted, counted.replace("_", " ").capitalize(), "count"),
                   _column("rate", "Rate", "percent")],
                  rows, x=key_name, series=["rate"])


HEAT = [{"weekday": day, "hour": hour, "booked_hours": 2.0 + index, "open_hours": 10.0,
         "utilisation": round(10.0 * (2.0 + index) % 100, 1)}
        for index, day in enumerate(WEEKDAYS[:5]) for hour in HOURS]
FREED_COLUMNS = [_column("freed_hours", "Freed chair hours", "hours"),
                 _column("refilled_hours", "Refilled by offers", "hours"),
                 _column("refill_rate", "Refill rate", "percent"), _column("offers_sent", "Offers sent", "count"),
                 _column("taken", "Offers taken", "count"),
                 _column("median_minutes", "Median minutes to take", "minutes")]
HOURS_COLUMNS = [_column("booked_hours", "Booked chair hours", "hours"),
                 _column("open_hours", "Open chair hours", "hours"), _column("utilisation", "Utilisation", "percent")]

NOVEMBER = {
    "period": {"kind": "month", "start": "2026-11-01", "end": "2026-11-30", "label": "November 2026"},
    "previous_period": {"kind": "month", "start": "2026-10-01", "end": "2026-10-31", "label": "October 2026"},
    "location": None,
    "figures": [
        _figure("chair_utilisation", "Chair utilisation", "percent", 61.4, 58.0, numerator=1234, denominator=2010,
                tables=[
                    _table("by_site", "By site", "bar", [_column("site", "Site"), *HOURS_COLUMNS],
                           [{"site": "Midtown", "booked_hours": 123.4, "open_hours": 201.0, "utilisation": 61.4},
                            {"site": "=Westside", "booked_hours": 0.0, "open_hours": 0.0, "utilisation": None}],
                           x="site", series=["utilisation"]),
                    _table("by_chair_kind", "By chair kind", "bar", [_column("kind", "Chair kind"), *HOURS_COLUMNS],
                           [{"kind": "Esketamine", "booked_hours": 100.0, "open_hours": 150.0, "utilisation": 66.7},
                            {"kind": "Infusion", "booked_hours": 23.4, "open_hours": 51.0, "utilisation": 45.9}],
                           x="kind", series=["utilisation"]),
                    _table("by_weekday_hour", "By weekday and hour", "heatmap",
                           [_column("weekday", "Weekday"), _column("hour", "Hour"), *HOURS_COLUMNS], HEAT,
                           x="hour", series=["utilisation"], y="weekday"),
                ]),
        _figure("no_shows", "No-shows", "rate", 7.5, 10.0, numerator=3, denominator=40,
                tables=[_rate_by("weekday", "Weekday", WEEKDAYS, "no_shows"),
                        _rate_by("hour", "Hour", HOURS, "no_shows")]),
        _figure("late_cancels", "Late cancels", "rate", 5.0, None, numerator=2, denominator=40,
                tables=[_rate_by("weekday", "Weekday", WEEKDAYS, "late_cancels"),
                        _rate_by("hour", "Hour", HOURS, "late_cancels")]),
        _figure("rems_on_time", "REMS forms on time", "rate", 90.0, 85.0, numerator=18, denominator=20,
                tables=[
                    _table("by_site", "By site", "bar",
                           [_column("site", "Site"), _column("forms", "Forms due", "count"),
                            _column("on_time", "On time", "count"), _column("rate", "On time", "percent")],
                           [{"site": "Midtown", "forms": 20, "on_time": 18, "rate": 90.0}], x="site", series=["rate"]),
                    _table("overdue_now", "Overdue now", "none",
                           [_column("site", "Site"), _column("overdue_now", "Overdue now", "count")],
                           [{"site": "Midtown", "overdue_now": 2}]),
                ]),
        _figure("outcomes", "PHQ-9 response and remission", "percent", None, None, tables=[
            _table("response_remission", "Response and remission by protocol, weeks 4 and 8", "grouped_bar",
                   [_column("group", "Protocol and week"), _column("patients", "Patients", "count"),
                    _column("response", "Response", "percent"), _column("remission", "Remission", "percent")],
                   [{"group": "Esketamine for treatment-resistant depression, week 4", "patients": 12,
                     "response": 41.7, "remission": 16.7},
                    {"group": "Esketamine for treatment-resistant depression, week 8", "patients": 10,
                     "response": 50.0, "remission": 30.0},
                    {"group": "IV ketamine: six infusions over 2-3 weeks, then monthly boosters, week 4",
                     "patients": 0, "response": None, "remission": None}],
                   x="group", series=["response", "remission"])]),
        _figure("sessions_by_phase", "Sessions by phase", "count", 57, 49, tables=[
            _table("by_phase", "By protocol phase", "bar",
                   [_column("phase", "Protocol and phase"), _column("sessions", "Sessions", "count")],
                   [{"phase": "Esketamine for treatment-resistant depression: Induction", "sessions": 40},
                    {"phase": "Esketamine for treatment-resistant depression: Maintenance weeks 5-8", "sessions": 17},
                    {"phase": "IV ketamine: six infusions over 2-3 weeks, then monthly boosters: Induction",
                     "sessions": 9}],
                   x="phase", series=["sessions"])]),
        _figure("courses", "Courses started", "count", 6, 4, tables=[
            _table("courses", "Courses", "bar",
                   [_column("measure", "Courses"), _column("count", "Count", "count"),
                    _column("previous", "Previous period", "count")],
                   [{"measure": "Started", "count": 6, "previous": 4},
                    {"measure": "Completed", "count": 3, "previous": 2},
                    {"measure": "Lapsed", "count": 1, "previous": 0}], x="measure", series=["count", "previous"])]),
        _figure("texts", "Texts sent", "count", 310, 298, tables=[
            _table("texts", "Texts", "bar",
                   [_column("measure", "Texts"), _column("count", "Count", "count"),
                    _column("previous", "Previous period", "count")],
                   [{"measure": "Sent", "count": 310, "previous": 298},
                    {"measure": "Delivered", "count": 301, "previous": 290},
                    {"measure": "Failed", "count": 9, "previous": 8},
                    {"measure": "Opt-outs", "count": 1, "previous": 0}],
                   x="measure", series=["count", "previous"]),
            _table("replies", "Replies by kind", "bar",
                   [_column("kind", "Reply"), _column("count", "Count", "count"),
                    _column("previous", "Previous period", "count")],
                   [{"kind": "Confirm", "count": 120, "previous": 111}, {"kind": "Cancel", "count": 7, "previous": 9},
                    {"kind": "Stop", "count": 1, "previous": 0}], x="kind", series=["count", "previous"]),
        ]),
        _figure("freed_chairs", "Freed chair hours refilled by offers", "percent", 61.9, 50.0, numerator=6.5,
                denominator=10.5, tables=[
                    _table("by_site", "By site", "bar", [_column("site", "Site"), *FREED_COLUMNS],
                           [{"site": "Midtown", "freed_hours": 9.0, "refilled_hours": 5.0, "refill_rate": 55.6,
                             "offers_sent": 6, "taken": 2, "median_minutes": 26.0},
                            {"site": "Westside", "freed_hours": 1.5, "refilled_hours": 1.5, "refill_rate": 100.0,
                             "offers_sent": 2, "taken": 1, "median_minutes": 5.0}],
                           x="site", series=["freed_hours", "refilled_hours"]),
                    _table("by_week", "By week (local)", "bar", [_column("week", "Week"), *FREED_COLUMNS],
                           [{"week": f"2026-W{45 + index} ({day} Nov)", "freed_hours": 2.5 * index,
                             "refilled_hours": 1.5 * index, "refill_rate": 60.0 if index else None,
                             "offers_sent": 3 * index, "taken": index,
                             "median_minutes": 10.0 + index if index else None}
                            for index, day in enumerate((2, 9, 16, 23, 30))],
                           x="week", series=["freed_hours", "refilled_hours"]),
                ]),
    ],
}


def november(*, location: dict | None = None) -> dict:
    """A fresh copy of the November numbers (for ``location``, or all sites)."""
    numbers = copy.deepcopy(NOVEMBER)
    numbers["location"] = location
    return numbers


def tables_with_charts(numbers: dict) -> list[tuple[str, str]]:
    """Every (figure, table) the dashboard draws a chart for."""
    return [(figure["key"], table["key"]) for figure in numbers["figures"] for table in figure["tables"]
            if table["chart"] != "none"]
