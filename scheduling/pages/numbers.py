"""The manager's dashboard of the clinic's numbers (`/manage/numbers/`), and each of its tables as CSV.

The question is a GET form (site, period, a day in it or a custom first and
last day), so a dashboard is a bookmark and the previous and next periods are
plain links. Its names are the API's (``location``, ``period``, ``anchor``,
``start``, ``end``: docs/REPORTS.md), so one question reads the same on the
page, in a CSV's address and from the API. A question the period rules refuse is answered 400 with the page
and each refusal beside its field, never a guess. The figures come from
``scheduling.reports.dashboard`` (one shape for this page, the CSV and the
API); this module only words them: headline beside the previous period, the
definition, then each table's chart (server-side SVG, ``reports.charts``) and
the table itself. Managers only.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from clinic.roles import MANAGER, role_required
from patients.services import home_zone
from scheduling.models import Location
from scheduling.reports.charts import chart_svg, format_category, format_value
from scheduling.reports.dashboard import FIGURE_KEYS, Period, clinic_numbers, figure_numbers, period_from

KINDS = (("week", "Week"), ("month", "Month"), ("quarter", "Quarter"), ("custom", "Custom days"))
# ``period_from`` calls the period's kind ``kind``; the question (and the API) ``period``.
FIELD_OF = {"kind": "period"}
# A table with more columns, or longer words in a cell, goes under its chart rather than beside it.
WIDE_COLUMNS, WIDE_WORDS = 4, 30
CHANGE_UNIT = {"percent": " points", "rate": " points", "hours": " h"}
# Far enough for any clinic's history and plans; beyond it a period's neighbours would leave the calendar.
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


class NumbersQuestion(forms.Form):
    """What the manager asks: which site (or all), which period."""

    location = forms.ModelChoiceField(queryset=Location.objects.order_by("-active", "name"), required=False,
                                      empty_label="All sites", label="Site")
    period = forms.ChoiceField(choices=KINDS, initial="month", label="Period")
    anchor = forms.DateField(required=False, label="A day in it", widget=forms.DateInput(attrs={"type": "date"}),
                          help_text="Week, month or quarter: the one holding this day (empty: today).")
    start = forms.DateField(required=False, label="First day", widget=forms.DateInput(attrs={"type": "date"}),
                            help_text="Custom days only.")
    end = forms.DateField(required=False, label="Last day", widget=forms.DateInput(attrs={"type": "date"}),
                          help_text="Custom days only; at most 366 days.")

    def __init__(self, data, *, today: date):
        super().__init__(data)
        self.today = today
        self.chosen_period: Period | None = None

    def clean(self):
        cleaned = super().clean()
        for name in ("anchor", "start", "end"):
            if cleaned.get(name) and not EARLIEST <= cleaned[name] <= LATEST:
                self.add_error(name, f"Choose a day between {EARLIEST.year} and {LATEST.year}.")
        if self.errors:
            return cleaned
        try:
            self.chosen_period = period_from(kind=cleaned["period"], anchor=cleaned.get("anchor"),
                                             start=cleaned.get("start"), end=cleaned.get("end"), today=self.today)
        except ValidationError as refusal:
            for name, messages in refusal.message_dict.items():
                name = FIELD_OF.get(name, name)
                self.add_error(name if name in self.fields else None, messages)
        return cleaned

    def described(self) -> NumbersQuestion:
        """Tie each field to its hint and its refusal, so a screen reader reads them with the field."""
        for name, bound in self.fields.items():
            described = [f"id_{name}_helptext"] if bound.help_text else []
            if name in self.errors:
                bound.widget.attrs["aria-invalid"] = "true"
                described.append(f"id_{name}_error")
            if described:
                bound.widget.attrs["aria-describedby"] = " ".join(described)
        return self


@dataclass
class TableView:
    key: str
    title: str
    chart: str
    csv_href: str
    svg: str | None
    headings: list[dict]  # {"label", "numeric"}
    rows: list[list[dict]]  # each cell {"words", "numeric", "head"}
    wide: bool = False  # too many columns to sit beside its chart: under it, the page's width


@dataclass
class FigureView:
    key: str
    title: str
    definition: str
    value: str | None  # None: the figure is in its tables only
    previous: str | None
    change: str | None
    made_of: str | None  # "1,234 of 2,010" behind a rate
    tables: list[TableView] = field(default_factory=list)


def _today(site: Location | None, user) -> date:
    zone = site.zone if site is not None else home_zone(patient_id=None, user=user)
    return timezone.now().astimezone(zone).date()


def _question(request) -> NumbersQuestion:
    data = request.GET.copy()
    data.setdefault("period", "month")
    site = None
    if data.get("location", "").isdigit():
        site = Location.objects.filter(pk=int(data["location"])).first()
    form = NumbersQuestion(data, today=_today(site, request.user))
    form.is_valid()
    return form.described()


def _query(form: NumbersQuestion, period: Period, **changes) -> str:
    site = form.cleaned_data.get("location")
    params = {"location": site.pk if site else "", "period": period.kind}
    if period.kind == "custom":
        params.update(start=period.start.isoformat(), end=period.end.isoformat())
    else:
        params["anchor"] = period.start.isoformat()
    params.update(changes)
    return urlencode({name: value for name, value in params.items() if value != ""})


def _next(period: Period) -> Period:
    """The period just after ``period``: the one holding the day after it, or as many custom days again."""
    if period.kind == "custom":
        return Period("custom", period.end + timedelta(days=1), period.end + timedelta(days=period.days))
    return period_from(kind=period.kind, anchor=period.end + timedelta(days=1), today=period.end)


def _change(value, previous, unit: str) -> str | None:
    if value is None or previous is None:
        return None
    difference = value - previous
    if unit in CHANGE_UNIT:
        return f"{difference:+.1f}{CHANGE_UNIT[unit]}"
    return f"{difference:+,}"


def _headline(value, unit: str) -> str:
    return "no data" if value is None else format_value(value, unit)


def _cell(value, column: dict, *, head: bool = False) -> dict:
    numeric = column.get("unit") is not None
    words = format_value(value, column.get("unit")) if numeric else format_category(value, column)
    return {"words": words, "numeric": numeric, "head": head}


def _table_view(figure: dict, table: dict, *, chart_id: str, csv_href: str, period_label: str) -> TableView:
    columns = table["columns"]
    svg = chart_svg(table, chart_id=chart_id, title=f"{figure['title']}: {table['title']}, {period_label}")
    view = TableView(key=table["key"], title=table["title"], chart=table["chart"], csv_href=csv_href,
                     svg=mark_safe(svg) if svg else None, headings=[], rows=[])  # rebuilt from an allow-list by charts
    if table["chart"] == "heatmap" and table["rows"]:
        # Weekdays down, hours across: the heat map's own layout, 7 rows where the list would be 7 x 13.
        by = {column["key"]: column for column in columns}
        x, y, value = by[table["x"]], by[table["y"]], by[table["series"][0]]
        across = list(dict.fromkeys(row[x["key"]] for row in table["rows"]))
        down = list(dict.fromkeys(row[y["key"]] for row in table["rows"]))
        cells = {(row[x["key"]], row[y["key"]]): row.get(value["key"]) for row in table["rows"]}
        view.headings = [{"label": y["label"], "numeric": False}] + [
            {"label": format_category(item, x), "numeric": True} for item in across]
        view.rows = [[_cell(item, y, head=True)] + [_cell(cells.get((column, item)), value) for column in across]
                     for item in down]
        view.wide = True
        return view
    view.headings = [{"label": column["label"], "numeric": column.get("unit") is not None} for column in columns]
    view.rows = [[_cell(row.get(column["key"]), column, head=index == 0) for index, column in enumerate(columns)]
                 for row in table["rows"]]
    longest = max((len(cell["words"]) for row in view.rows for cell in row), default=0)
    view.wide = len(columns) > WIDE_COLUMNS or longest > WIDE_WORDS
    return view


# The figures whose rate is made of hours (booked of open chair hours, refilled of freed chair hours): their parts
# are written as hours, not as if they were counts of something.
MADE_OF_HOURS = frozenset({"chair_utilisation", "freed_chairs"})


def _figure_view(figure: dict, *, query: str, period_label: str) -> FigureView:
    unit = figure["unit"]
    shown = not (figure["value"] is None and figure["previous"] is None and figure["denominator"] is None)
    made_of = None
    if unit in ("percent", "rate") and figure["denominator"]:
        if figure["key"] in MADE_OF_HOURS:
            made_of = f"{float(figure['numerator']):,.1f} of {float(figure['denominator']):,.1f} hours"
        else:
            made_of = f"{format_value(figure['numerator'], 'count')} of {format_value(figure['denominator'], 'count')}"
    view = FigureView(
        key=figure["key"], title=figure["title"], definition=figure["definition"],
        value=_headline(figure["value"], unit) if shown else None,
        previous=_headline(figure["previous"], unit) if shown else None,
        change=_change(figure["value"], figure["previous"], unit), made_of=made_of)
    for table in figure["tables"]:
        href = reverse("numbers-csv", args=[figure["key"], table["key"]]) + f"?{query}"
        view.tables.append(_table_view(figure, table, chart_id=f"chart-{figure['key']}-{table['key']}",
                                       csv_href=href, period_label=period_label))
    return view


@require_GET
@role_required(MANAGER)
def numbers_page(request):
    """The clinic's numbers for the asked site and period, each beside the period before; 400 for a bad period."""
    form = _question(request)
    if not form.is_valid() or form.chosen_period is None:
        return render(request, "scheduling/numbers/dashboard.html", {"form": form}, status=400)
    period, site = form.chosen_period, form.cleaned_data.get("location")
    numbers = clinic_numbers(period=period, location_id=site.pk if site else None)
    query = _query(form, period)
    return render(request, "scheduling/numbers/dashboard.html", {
        "form": form,
        "site": site,
        "numbers": numbers,
        "period": period,
        "previous": period.previous(),
        "figures": [_figure_view(figure, query=query, period_label=numbers["period"]["label"])
                    for figure in numbers["figures"]],
        "previous_href": f"{reverse('numbers')}?{_query(form, period.previous())}",
        "next_href": f"{reverse('numbers')}?{_query(form, _next(period))}",
        "next_label": _next(period).label,
        "api_href": f"{reverse('reports-dashboard')}?{query}",
    })


@require_GET
@role_required(MANAGER)
def numbers_csv(request, figure_key: str, table_key: str):
    """One table of one figure as CSV (header row, raw values), named for the site and period."""
    if figure_key not in FIGURE_KEYS:
        raise Http404("No such figure.")
    form = _question(request)
    if not form.is_valid() or form.chosen_period is None:
        refusals = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in form.errors.items())
        return HttpResponse(f"The period cannot be read: {refusals}\n", status=400,
                            content_type="text/plain; charset=utf-8")
    period, site = form.chosen_period, form.cleaned_data.get("location")
    figure = figure_numbers(figure_key, period=period, location_id=site.pk if site else None)
    table = next((table for table in figure["tables"] if table["key"] == table_key), None)
    if table is None:
        raise Http404("No such table.")
    place = slugify(site.name) if site else "all-sites"
    filename = f"{figure_key}-{table_key}-{place}-{period.start.isoformat()}-to-{period.end.isoformat()}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([_heading(column) for column in table["columns"]])
    for row in table["rows"]:
        writer.writerow([_csv_cell(row.get(column["key"])) for column in table["columns"]])
    return response


def _csv_cell(value) -> object:
    if value is None:
        return ""
    # A site or protocol named "=..." must open in a spreadsheet as words, not run as a formula.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _heading(column: dict) -> str:
    suffix = {"percent": " (%)", "rate": " (%)", "hours": " (hours)"}.get(column.get("unit"), "")
    return column["label"] + suffix


urlpatterns = [
    path("manage/numbers/", numbers_page, name="numbers"),
    path("manage/numbers/<str:figure_key>/<str:table_key>.csv", numbers_csv, name="numbers-csv"),
]
