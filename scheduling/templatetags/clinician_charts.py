"""``{% outcome_charts patient %}``: the outcomes chart of each of the patient's courses, for the patient page.

A tag rather than view context so the patient page needs only one include
line; it costs one query for the courses and one for their measures.
"""

from __future__ import annotations

from django import template

from protocols.models import TreatmentCourse
from scheduling.charting.outcomes import outcomes_by_course
from scheduling.pages.outcomes_chart import outcome_chart

register = template.Library()

# PHQ-9 first: it drives response and remission; then the others when present.
INSTRUMENT_ORDER = ("phq9", "gad7", "madrs")


@register.inclusion_tag("scheduling/clinician/_outcomes_charts.html")
def outcome_charts(patient) -> dict:
    courses = list(TreatmentCourse.objects.filter(patient=patient).select_related("protocol")
                   .order_by("-start_date", "-id"))
    found = outcomes_by_course(courses)
    cards = []
    for course in courses:
        series = found.get(course.pk, {})
        charts = [outcome_chart(instrument, series[instrument]["points"])
                  for instrument in INSTRUMENT_ORDER if instrument in series]
        if charts:
            cards.append({"course": course, "charts": charts})
    return {"cards": cards}
