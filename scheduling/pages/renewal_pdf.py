"""The renewal summary on paper: a PDF a payer can file, drawn with ReportLab's platypus.

ReportLab because it installs from PyPI alone (no system libraries, no browser),
so ``make run`` still needs nothing but Python. The PDF says what the page says:
both draw ``scheduling.charting.renewal.RenewalSummary``. Text goes through
``Paragraph``, which reads a small markup, so every value from the record is
escaped first: a payer's name with "&" or "<" must print as typed.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from scheduling.charting.renewal import RenewalSummary

MARGIN = 16 * mm
_STYLES = getSampleStyleSheet()
BODY = ParagraphStyle("body", parent=_STYLES["BodyText"], fontSize=9.5, leading=12)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=9, leading=11, spaceBefore=0, spaceAfter=0)
FRAME_PADDING = 6
HEADING = ParagraphStyle("heading", parent=_STYLES["Heading2"], fontSize=12.5, spaceBefore=10, spaceAfter=4)
TITLE = ParagraphStyle("title", parent=_STYLES["Title"], fontSize=17, alignment=0, spaceAfter=2)
GRID = TableStyle([
    ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f6")),
    ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#b9c0cc")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 4),
    ("RIGHTPADDING", (0, 0), (-1, -1), 4),
])
FACTS = TableStyle([
    ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 0),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ("TOPPADDING", (0, 0), (-1, -1), 1),
])


def long_day(day: date | None) -> str:
    """``Mar 3, 2026``: dates on the summary carry the year, since a payer files it for years."""
    return f"{day:%b} {day.day}, {day.year}" if day else ""


def _cell(text) -> Paragraph:
    return Paragraph(escape(str(text)), CELL)


def _table(header: list[str], rows: list[list], widths: list[float]) -> Table:
    table = Table([[_cell(text) for text in header], *[[_cell(text) for text in row] for row in rows]],
                  colWidths=widths, repeatRows=1)
    table.setStyle(GRID)
    return table


def _facts(pairs: list[tuple[str, str]], width: float) -> Table:
    table = Table([[_cell(label), _cell(value)] for label, value in pairs], colWidths=[38 * mm, width - 38 * mm])
    table.setStyle(FACTS)
    return table


def _note(text: str) -> Paragraph:
    return Paragraph(escape(text), BODY)


def _yes_no(value: bool, taken: int) -> str:
    if taken < 2:
        return "Not yet judged"
    return "Yes" if value else "No"


def _authorisation_rows(summary: RenewalSummary) -> list[list]:
    rows = []
    for use in summary.authorisations:
        authorisation = use.authorisation
        covers = (f"{long_day(authorisation.first_day)} – {long_day(authorisation.last_day)}"
                  if authorisation.first_day and authorisation.last_day else "")
        rows.append([authorisation.payer, authorisation.number or "—", authorisation.get_status_display(), covers,
                     use.label or ""])
    return rows


def _outcome_rows(summary: RenewalSummary) -> list[list]:
    rows = []
    for outcome in summary.outcomes:
        if not outcome.taken:
            rows.append([outcome.label, "Not measured", "", "", "", ""])
            continue
        rows.append([
            outcome.label,
            f"{outcome.baseline['total']} on {long_day(outcome.baseline['date'])}",
            f"{outcome.latest['total']} on {long_day(outcome.latest['date'])}",
            f"{outcome.change:+d}" if outcome.taken > 1 else "",
            _yes_no(outcome.response, outcome.taken),
            _yes_no(outcome.remission, outcome.taken),
        ])
    return rows


def renewal_pdf(summary: RenewalSummary, *, prepared_by: str) -> bytes:
    """The summary as a PDF (US letter): patient, course, authorisations, sessions given, outcomes, adverse events."""
    buffer = BytesIO()
    patient, course = summary.patient, summary.course
    document = SimpleDocTemplate(
        buffer, pagesize=LETTER, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN,
        title=f"Renewal summary: {summary.protocol.name}", author=prepared_by, subject="Prior authorisation renewal")
    # The page's frame keeps 6 pt inside each margin (ReportLab's default padding): a table as wide as the
    # margins would hang past it and sit 6 pt left of the headings.
    width = document.width - 2 * FRAME_PADDING

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(colors.HexColor("#5b6475"))
        canvas.drawString(MARGIN, 9 * mm, f"{patient.display_name} · MRN {patient.mrn} · "
                                          f"prepared {long_day(summary.prepared_on)} by {prepared_by}")
        canvas.drawRightString(LETTER[0] - MARGIN, 9 * mm, f"Page {doc.page}")
        canvas.restoreState()

    story = [
        Paragraph(escape(f"Renewal summary: {summary.protocol.name}"), TITLE),
        _note(f"Prepared {long_day(summary.prepared_on)} by {prepared_by}."),
        Paragraph("Patient", HEADING),
        _facts([("Name", patient.display_name), ("Date of birth", long_day(patient.date_of_birth)),
                ("MRN", patient.mrn), ("Diagnosis", summary.diagnosis)], width),
        Paragraph("Course", HEADING),
        _facts([("Protocol", f"{summary.protocol.name} (version {summary.protocol.version})"),
                ("Treatment", summary.modality), ("Started", long_day(course.start_date)),
                ("Status", course.get_status_display()), ("Sessions given", str(len(summary.sessions)))], width),
        Paragraph("Prior authorisations", HEADING),
    ]
    if summary.authorisations:
        story.append(_table(["Payer", "Number", "Status", "Dates covered", "Sessions"],
                            _authorisation_rows(summary), [w * width for w in (.24, .16, .12, .26, .22)]))
    else:
        story.append(_note("None recorded."))
    story.append(Paragraph("Sessions given", HEADING))
    if summary.sessions:
        story.append(_table(["#", "Date", "Site", "Dose"],
                            [[row.number, long_day(row.day), row.site, row.dose] for row in summary.sessions],
                            [w * width for w in (.07, .2, .28, .45)]))
    else:
        story.append(_note("No session given yet."))
    story += [
        Paragraph("Outcome measures", HEADING),
        _table(["Measure", "Baseline", "Latest", "Change", "Response", "Remission"], _outcome_rows(summary),
               [w * width for w in (.12, .22, .22, .1, .15, .19)]),
        Spacer(1, 3),
        _note("Response: a drop of 50% or more from baseline. Remission: PHQ-9 below 5, MADRS 10 or below. "
              "Neither is judged before a measure after the baseline."),
        Paragraph("Adverse events", HEADING),
    ]
    if summary.adverse_events:
        story.append(_table(["Date", "Session", "Serious", "What happened"],
                            [[long_day(event.day), event.session_number or "", "Yes" if event.serious else "No",
                              event.description] for event in summary.adverse_events],
                            [w * width for w in (.18, .1, .1, .62)]))
    else:
        story.append(_note("None recorded."))
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
