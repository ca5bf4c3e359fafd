"""The dashboard's charts: a table of the clinic's numbers in, an accessible SVG to put inline in the page out.

Drawn on the server with matplotlib (its SVG backend, no pyplot, no browser
script): every bar, point and heat-map cell has its value written beside or in
it, so the chart reads without hover and on paper. The palette is Okabe and
Ito's, the heat map's colours viridis: both stay apart for colour-blind readers.

matplotlib's SVG styles every element with a ``style`` attribute and a
``<style>`` element; the pages' Content-Security-Policy is to allow neither in
the HTML, so the markup is rebuilt from an allow-list (``_clean``): styles
become SVG presentation attributes, ids are prefixed per chart (several charts
share one page), references stay inside the chart, and nothing that can run
(scripts, event attributes, outside links) survives. A rendered chart is kept
in Django's cache under a hash of what it shows, so a reload does not redraw.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import textwrap
import threading
import xml.etree.ElementTree as ET
from decimal import Decimal
from html import escape

import matplotlib
from django.core.cache import cache
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

# The backend reads these at draw time from the process-wide settings (there is no per-figure form): text
# stays text (a screen reader and the page's search find it), and the same data draws the same markup.
matplotlib.rcParams.update({
    "svg.fonttype": "none",
    "svg.hashsalt": "clinic-numbers",
    "font.family": "DejaVu Sans",
    "font.size": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
})

logger = logging.getLogger(__name__)
# Okabe & Ito (2008), "Color Universal Design": blue, orange, bluish green, reddish purple, sky blue, vermilion.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
HEAT_MAP = "viridis"
CHARTS = ("bar", "grouped_bar", "line", "heatmap")
WIDTH = 8.0  # inches; the page scales the SVG to its column, so this fixes the text's size against the marks
CACHE_SECONDS = 24 * 60 * 60
CACHE_VERSION = 3  # raise when the drawing changes, so no chart drawn the old way is served
UNIT_SUFFIX = {"percent": "%", "rate": "%", "hours": " h"}
UNIT_WORDS = {"percent": "%", "rate": "%", "hours": "hours", "count": "number"}
# matplotlib is not thread-safe (its font cache and text layout are shared): one chart is drawn at a time.
_DRAWING = threading.Lock()


def format_value(value, unit: str | None) -> str:
    """A figure's value as the page, the charts and the CSV's readers see it ("61.4%", "12", "3,048.0 h", "–")."""
    if value is None:
        return "–"
    value = _number(value)
    if unit in ("percent", "rate", "hours"):
        return f"{value:,.1f}{UNIT_SUFFIX[unit]}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    if isinstance(value, int | float):
        return f"{int(value):,}"
    return str(value)


def format_category(value, column: dict) -> str:
    """A category (a site, a weekday, an hour) as words: an hour of the day is written "09:00"."""
    if column.get("key") == "hour" and isinstance(value, int):
        return f"{value:02d}:00"
    return "–" if value is None else str(value)


def chart_svg(table: dict, *, chart_id: str, title: str) -> str | None:
    """The SVG markup of ``table``'s chart (safe to put in the page as it is), or None when it has none to draw.

    ``chart_id`` prefixes every id in the markup (unique on the page); ``title``
    becomes the SVG's ``<title>``. None for ``chart: "none"``, an unknown chart
    kind, or a table without a single value.
    """
    if table.get("chart") not in CHARTS or not _has_values(table):
        return None
    key = "numbers-chart:" + hashlib.sha256(json.dumps(
        [CACHE_VERSION, chart_id, title, table], sort_keys=True, default=str).encode()).hexdigest()
    markup = cache.get(key)
    if markup is None:
        try:
            with _DRAWING:
                raw = _draw(table)
            markup = _clean(raw, chart_id=chart_id, title=title, description=describe(table), kind=table["chart"])
        except Exception:
            # The table under the chart holds every value: a chart that cannot be drawn must not cost the page.
            logger.exception("The chart %s could not be drawn", chart_id)
            return None
        cache.set(key, markup, CACHE_SECONDS)
    return markup


def describe(table: dict) -> str:
    """The chart in words for its ``<desc>``: what is drawn against what, and its values."""
    columns = {column["key"]: column for column in table["columns"]}
    x = columns[table["x"]]
    if table["chart"] == "heatmap":
        y, value = columns[table["y"]], columns[table["series"][0]]
        cells = [row for row in table["rows"] if row.get(value["key"]) is not None]
        top = max(cells, key=lambda row: row[value["key"]])
        low = min(cells, key=lambda row: row[value["key"]])
        return (f"Heat map of {value['label']} by {y['label'].lower()} and {x['label'].lower()}, "
                f"{len(cells)} cells with a value. Highest: {format_category(top[y['key']], y)} "
                f"{format_category(top[x['key']], x)}, {format_value(top[value['key']], value.get('unit'))}. "
                f"Lowest: {format_category(low[y['key']], y)} {format_category(low[x['key']], x)}, "
                f"{format_value(low[value['key']], value.get('unit'))}. Every value is in the table below.")
    kind = {"bar": "Bar chart", "grouped_bar": "Grouped bar chart", "line": "Line chart"}[table["chart"]]
    parts = []
    for key in table["series"]:
        column = columns[key]
        values = ", ".join(f"{format_category(row.get(x['key']), x)} {format_value(row.get(key), column.get('unit'))}"
                           for row in table["rows"])
        parts.append(f"{column['label']}: {values}.")
    return f"{kind} by {x['label'].lower()}. " + " ".join(parts)


def _has_values(table: dict) -> bool:
    series = table.get("series") or []
    return any(row.get(key) is not None for row in table.get("rows", []) for key in series)


def _unit(columns: dict, series: list[str]) -> str | None:
    units = {columns[key].get("unit") for key in series}
    return units.pop() if len(units) == 1 else None


def _value_axis_label(columns: dict, series: list[str]) -> str:
    unit = _unit(columns, series)
    words = UNIT_WORDS.get(unit, "")
    if len(series) == 1:
        label = columns[series[0]]["label"]
        return f"{label} ({words})" if words and words.lower() not in label.lower() else label
    return {"percent": "Percent", "rate": "Percent", "hours": "Hours", "count": "Number"}.get(unit, "Value")


def _draw(table: dict) -> str:
    """matplotlib's own SVG of ``table`` (marks carry a ``mark`` gid: ``_clean`` makes them a class)."""
    columns = {column["key"]: column for column in table["columns"]}
    if table["chart"] == "heatmap":
        figure = _heat_map(table, columns)
    else:
        figure = _bars_or_lines(table, columns)
    out = io.StringIO()
    FigureCanvasSVG(figure).print_svg(out, metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return out.getvalue()


def _bars_or_lines(table: dict, columns: dict) -> Figure:
    x = columns[table["x"]]
    series = list(table["series"])
    labels = [format_category(row.get(x["key"]), x) for row in table["rows"]]
    values = {key: [_number(row.get(key)) for row in table["rows"]] for key in series}
    highest = max((value or 0 for key in series for value in values[key]), default=0)
    # Headroom for the values written past the longest bar; a rate never looks above 100%.
    unit = _unit(columns, series)
    top = (min(highest * 1.18, 110.0) if unit in ("percent", "rate") and highest <= 100 else highest * 1.18) or 1
    # Names too long for their place under a column (protocols and phases) are read better down the side.
    across = table["chart"] == "line" or max(map(len, labels), default=0) <= _slot(len(labels))
    rows = len(labels) * (1 if table["chart"] == "line" else len(series))
    figure = Figure(figsize=(WIDTH, 3.0 if across else max(2.4, 0.3 * rows + 1.1)), layout="constrained")
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    for index, key in enumerate(series):
        colour, unit_of = PALETTE[index % len(PALETTE)], columns[key].get("unit")
        if table["chart"] == "line":
            drawn = [(position, value) for position, value in zip(positions, values[key], strict=True)
                     if value is not None]
            axes.plot([p for p, _ in drawn], [v for _, v in drawn], color=colour, linewidth=2,
                      label=columns[key]["label"])
            for position, value in drawn:
                axes.plot([position], [value], marker="o", markersize=6, color=colour, gid="mark")
                axes.annotate(format_value(value, unit_of), (position, value), textcoords="offset points",
                              xytext=(0, 7), ha="center", fontsize=10)
            continue
        size = 0.8 / len(series)
        offsets = [position - 0.4 + size * (index + 0.5) for position in positions]
        heights = [value or 0 for value in values[key]]
        draw = axes.bar if across else axes.barh
        bars = draw(offsets, heights, size * 0.92, color=colour, label=columns[key]["label"])
        for bar in bars:
            bar.set_gid("mark")
        axes.bar_label(bars, labels=[_mark_words(value, unit_of) for value in values[key]], padding=3,
                       fontsize=10 if not across or len(series) * len(labels) <= 24 else 8.5)
    value_label = _value_axis_label(columns, series)
    if across:
        axes.set_ylim(0, top)
        axes.set_xticks(positions, _fitted(labels))
        # Two or three categories still take a quarter of the width each, not the whole chart between them.
        spare = max(0.0, (4 - len(labels)) / 2)
        axes.set_xlim(-0.5 - spare, len(labels) - 0.5 + spare)
        axes.set_xlabel(x["label"])
        axes.set_ylabel(value_label)
        axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    else:
        axes.set_xlim(0, top)
        axes.set_yticks(positions, [textwrap.fill(label, 34, max_lines=2, placeholder="…") for label in labels])
        axes.set_ylim(len(labels) - 0.5, -0.5)  # the table's first row on top
        axes.set_ylabel(x["label"])
        axes.set_xlabel(value_label)
        axes.grid(axis="x", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    if len(series) > 1:
        axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=len(series), frameon=False)
    return figure


def _heat_map(table: dict, columns: dict) -> Figure:
    x, y, value = columns[table["x"]], columns[table["y"]], columns[table["series"][0]]
    across = list(dict.fromkeys(row[x["key"]] for row in table["rows"]))
    down = list(dict.fromkeys(row[y["key"]] for row in table["rows"]))
    cells = {(row[x["key"]], row[y["key"]]): _number(row.get(value["key"])) for row in table["rows"]}
    known = [v for v in cells.values() if v is not None]
    # The colours span 0 to the highest cell, not to 100%: a quiet month's 2% and 8% hours should look apart.
    norm = Normalize(vmin=0, vmax=max(known) or 1)
    colours = matplotlib.colormaps[HEAT_MAP]
    figure = Figure(figsize=(WIDTH, 0.36 * len(down) + 1.1), layout="constrained")
    axes = figure.add_subplot()
    size = 10 if len(across) <= 12 else 8.5 if len(across) <= 16 else 7
    for column_index, across_value in enumerate(across):
        for row_index, down_value in enumerate(down):
            cell = cells.get((across_value, down_value))
            fill = "#eeeeee" if cell is None else colours(norm(cell))
            axes.add_patch(Rectangle((column_index, row_index), 1, 1, facecolor=fill, edgecolor="#ffffff",
                                     linewidth=1, gid="mark"))
            ink = "#000000" if cell is None or _luminance(fill) > 0.45 else "#ffffff"
            words = format_value(cell, value.get("unit")).removesuffix("%")
            axes.text(column_index + 0.5, row_index + 0.5, words, ha="center", va="center", fontsize=size, color=ink)
    axes.set_xlim(0, len(across))
    axes.set_ylim(len(down), 0)
    axes.set_xticks([i + 0.5 for i in range(len(across))], [format_category(v, x) for v in across],
                    fontsize=size + 0.5)
    axes.set_yticks([i + 0.5 for i in range(len(down))], [format_category(v, y) for v in down])
    axes.tick_params(length=0)
    for side in axes.spines.values():
        side.set_visible(False)
    axes.set_xlabel(x["label"])
    axes.set_ylabel(y["label"])
    bar = figure.colorbar(ScalarMappable(norm=norm, cmap=colours), ax=axes, fraction=0.04, pad=0.01)
    bar.set_label(_value_axis_label(columns, [value["key"]]))
    return figure


def _slot(categories: int) -> int:
    """How many letters fit under one column of a chart of ``categories`` (11 pt DejaVu Sans: ~6.5 pt a letter),
    on one of at most three lines."""
    return 3 * max(8, int(WIDTH * 72 * 0.85 / max(categories, 4) / 6.5))


def _fitted(labels: list[str]) -> list[str]:
    """Category names wrapped to the width each has under the chart, so neighbours never run into each other."""
    characters = _slot(len(labels)) // 3
    return [textwrap.fill(label, characters, max_lines=3, placeholder="…") for label in labels]


def _number(value) -> float | int | None:
    # Figures may arrive as Decimal (PostgreSQL's sums and averages): matplotlib wants a float.
    return float(value) if isinstance(value, Decimal) else value


def _mark_words(value, unit: str | None) -> str:
    return "no data" if value is None else format_value(value, unit)


def _luminance(colour) -> float:
    red, green, blue = matplotlib.colors.to_rgb(colour)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


# --- the markup: matplotlib's SVG rebuilt from an allow-list ---------------------------------------

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
ELEMENTS = {"svg", "g", "defs", "clipPath", "path", "use", "text", "tspan", "rect", "circle", "line", "polyline",
            "polygon", "ellipse", "title", "desc", "image"}
# The one raster matplotlib writes (the heat map's colour key) is an inline PNG; nothing else may be an image.
INLINE_PNG = "data:image/png;base64,"
ATTRIBUTES = {"d", "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "rx", "ry", "width", "height", "points",
              "transform", "viewBox", "clip-path", "href", "id", "preserveAspectRatio"}
# What a ``style`` may say, kept as the presentation attribute of the same name (SVG 1.1, "Property index").
PRESENTATION = {"fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity", "stroke-linejoin",
                "stroke-linecap", "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset", "opacity",
                "font-size", "font-family", "font-weight", "font-style", "text-anchor", "dominant-baseline",
                "clip-path"}
REFERENCE = re.compile(r"url\(#([^)]+)\)")


def _clean(raw: str, *, chart_id: str, title: str, description: str, kind: str) -> str:
    """``raw`` matplotlib SVG as inline-HTML SVG: attributes for styles, ids prefixed, marks classed, titled."""
    root = ET.fromstring(raw)
    referenced = set()
    for element in root.iter():
        for name, value in element.attrib.items():
            if name in ("href", f"{{{XLINK}}}href") and value.startswith("#"):
                referenced.add(value[1:])
            referenced.update(REFERENCE.findall(value))
    view_box = root.get("viewBox", "0 0 576 244")
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    head = (f'<svg xmlns="{SVG}" viewBox="{escape(view_box)}" role="img" class="chart chart-{escape(kind)}" '
            f'aria-labelledby="{title_id} {desc_id}" stroke-linejoin="round" stroke-linecap="butt">'
            f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape(description)}</desc>')
    body = "".join(_element(child, chart_id, referenced) for child in root)
    return head + body + "</svg>"


def _element(element: ET.Element, chart_id: str, referenced: set[str]) -> str:
    tag = element.tag.rpartition("}")[2]
    if tag not in ELEMENTS or tag in ("svg", "title", "desc"):
        return ""  # <style>, <metadata>, scripts and anything else matplotlib or a name could bring
    attributes = {}
    for name, value in element.attrib.items():
        name = "href" if name == f"{{{XLINK}}}href" else name
        if name == "style":
            for declaration in value.split(";"):
                prop, _, setting = declaration.partition(":")
                if prop.strip() in PRESENTATION and setting.strip():
                    attributes[prop.strip()] = setting.strip()
        elif name in ATTRIBUTES:
            attributes[name] = value
    mark = attributes.pop("id", None)
    if mark == "mark":
        attributes["class"] = "mark"
    elif mark in referenced:
        attributes["id"] = f"{chart_id}-{mark}"
    if tag == "image" and not attributes.get("href", "").startswith(INLINE_PNG):
        return ""
    if "href" in attributes and tag != "image":
        target = attributes["href"]
        if not target.startswith("#") or target[1:] not in referenced:
            return ""  # only this chart's own definitions, never an address outside it
        attributes["href"] = f"#{chart_id}-{target[1:]}"
    for name in ("clip-path",):
        if name in attributes:
            attributes[name] = REFERENCE.sub(lambda match: f"url(#{chart_id}-{match.group(1)})", attributes[name])
    if attributes.get("font-family", "").startswith("'DejaVu Sans'"):
        attributes["font-family"] += ", sans-serif"  # where DejaVu Sans is missing, a sans face all the same
    opening = "".join(f' {name}="{escape(str(value))}"' for name, value in attributes.items())
    inner = escape((element.text or "") if tag in ("text", "tspan") else (element.text or "").strip(), quote=False)
    inner += "".join(_element(child, chart_id, referenced) + escape((child.tail or "").strip(), quote=False)
                     for child in element)
    return f"<{tag}{opening}>{inner}</{tag}>"
