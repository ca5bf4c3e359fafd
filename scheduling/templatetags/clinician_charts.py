"""``{% outcome_charts patient %}``: the outcomes charts of each of the patient's courses, for the patient page.

A tag rather than view context so the patient page needs only one include
line; it costs one query for the courses and one for their measures.
"""

from __future__ import annotations

import json

from django import template

from patients import measures
from protocols.models import TreatmentCourse
from scheduling.charting.outcomes import outcomes_by_course
from scheduling.pages.outcomes_chart import outcome_chart

register = template.Library()

# PHQ-9 first: it drives response and remission; then GAD-7 and MADRS.
INSTRUMENT_ORDER = (measures.PHQ9, measures.GAD7, measures.MADRS)


def _with_json(chart: dict) -> dict:
    # The chart's data rides on its canvas as a data- attribute (escaped by the template) rather than in a
    # json_script block: the CSP would allow that block, but the pages' guard against inline scripts
    # (tests/clinic/test_security_headers.py) rightly counts every <script> without a src.
    return {**chart, "data_json": json.dumps(chart["data"], separators=(",", ":"))}


@register.inclusion_tag("scheduling/clinician/_outcomes_charts.html")
def outcome_charts(patient) -> dict:
    """A card per course with a measure: its charts in ``INSTRUMENT_ORDER``, and the instruments not recorded."""
    courses = list(TreatmentCourse.objects.filter(patient=patient).select_related("protocol")
                   .order_by("-start_date", "-id"))
    found = outcomes_by_course(courses)
    cards = []
    for course in courses:
        series = found.get(course.pk, {})
        charts = [_with_json(outcome_chart(instrument, series[instrument]["points"]))
                  for instrument in INSTRUMENT_ORDER if instrument in series]
        if charts:
            not_recorded = [measures.INSTRUMENTS[instrument].label for instrument in INSTRUMENT_ORDER
                            if instrument not in series]
            cards.append({"course": course, "charts": charts, "not_recorded": not_recorded})
    return {"cards": cards}
