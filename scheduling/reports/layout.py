"""How a figure and its tables are laid out for the dashboard, the CSV export and the API (one shape for all)."""

from __future__ import annotations

from typing import Any

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def percent(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator`` as 0-100 with one decimal; None when there is nothing to divide by."""
    if not denominator or numerator is None:
        return None
    return round(100.0 * numerator / denominator, 1)


def column(key: str, label: str, unit: str | None = None) -> dict[str, Any]:
    return {"key": key, "label": label, "unit": unit}


def table(key: str, title: str, *, chart: str, columns: list[dict], rows: list[dict], x: str | None = None,
          series: list[str] | None = None, y: str | None = None) -> dict[str, Any]:
    return {"key": key, "title": title, "chart": chart, "columns": columns, "rows": rows, "x": x,
            "series": series or [], "y": y}


def figure(key: str, title: str, definition: str, *, unit: str, value: float | int | None,
           previous: float | int | None, numerator: float | int | None = None,
           denominator: float | int | None = None, tables: list[dict] | None = None) -> dict[str, Any]:
    return {"key": key, "title": title, "definition": definition, "unit": unit, "value": value,
            "previous": previous, "numerator": numerator, "denominator": denominator, "tables": tables or []}
