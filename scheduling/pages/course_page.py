"""The course's page: its plan and history, and the actions on it (pause, resume, discontinue, ...).

The page reads what the API's course and ``plan`` give (the outlook, ``course_plan``) and
takes each action through ``course_actions.take``, the same services with the same roles
as the API. A refusal re-draws the page with the service's words inside the form that was
sent, beside the field it names, with the API's status (400, 403, 409); a change goes back
to the page with what changed said at the top. Dates are the patient's home site's.
"""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinic.errors import ClinicError
from clinic.roles import role_required
from protocols import due
from protocols.models import MaintenanceFrequency, TreatmentCourse
from protocols.selectors import course_flags, course_outlook, course_plan, shown_next_due, shown_timing
from scheduling.booking import selectors as booking_selectors
from scheduling.models import Session, SessionStatus
from scheduling.pages import course_or_404, next_due_words, record_patient_access
from scheduling.pages.authorisations import course_authorisations
from scheduling.pages.course_actions import ACTIONS, available, course_history, may, take
from scheduling.pages.patient_page import FLAG_WORDS, PLAN_STATUS_WORDS, TIMING_WORDS, home_location

PAGE = "scheduling/pages/course.html"


def _context(request, course: TreatmentCourse, *, error: ClinicError | None = None, acted: str = "",
             done: str = "") -> dict:
    home = home_location(course.patient_id, request.user)
    today = home.local_date(timezone.now()) if home else timezone.localdate()
    outlook = course_outlook(course, today)
    timing = shown_timing(course, outlook)
    window = shown_next_due(course, outlook)
    sessions = list(booking_selectors.sessions_for_lists(Session.objects.filter(course=course)).order_by("start"))
    plan = course_plan(course, today)
    for row in plan:
        row["status_words"] = PLAN_STATUS_WORDS.get(row["status"], row["status"])
    data = request.POST if acted else {}
    frequencies = MaintenanceFrequency.choices
    names = available(request.user, course, lapsed=timing == due.Timing.LAPSED)
    if acted in ACTIONS and may(request.user, acted) and acted not in names:
        # Refused by the course's state (a stale page): the refusal stays in the form that was sent.
        names.insert(0, acted)
    actions = [{"name": name, "label": ACTIONS[name].label, "url": reverse(f"course-{name}", args=[course.pk])}
               for name in names]
    return {
        "course": course,
        "patient": course.patient,
        "home": home,
        "phase": outlook.phase if course.is_open else None,
        "timing": timing,
        "timing_words": TIMING_WORDS.get(timing, "") if timing else course.get_status_display(),
        "next_due_words": next_due_words(window, outlook.plan),
        "flags": [FLAG_WORDS.get(flag, flag) for flag in course_flags(course, outlook)],
        "completed_count": sum(1 for s in sessions if s.status == SessionStatus.DISCHARGED),
        "sessions": sessions,
        "plan": plan,
        "history": course_history(course),
        "overridden_sessions": [s for s in sessions if s.override_reason],
        "authorisation_overrides": [s for s in sessions if s.authorisation_override_reason],
        "authorisation_uses": course_authorisations(course),
        "actions": actions,
        # A refusal of an action the page does not offer (a role's, a stale page's) is said above the actions.
        "action_names": [action["name"] for action in actions],
        # The other frequency first: it is the one a clinician comes to switch to.
        "frequencies": sorted(frequencies, key=lambda choice: choice[0] == course.maintenance_frequency),
        "acted": acted,
        "done": done,
        "values": {"reason": data.get("reason", ""), "frequency": data.get("frequency", "")},
        "error": error,
        "field_errors": error.fields if error else {},
    }


def _render(request, course: TreatmentCourse, *, status: int = 200, **kwargs):
    home = home_location(course.patient_id, request.user)
    # Times in the history read on the home site's clock (Django's date filter reads the current zone).
    with timezone.override(home.zone if home else timezone.get_default_timezone()):
        return render(request, PAGE, _context(request, course, **kwargs), status=status)


@require_GET
@role_required()
def course_page(request, course_id: int):
    """The course: protocol, phase, status, plan, sessions so far, history, and the actions the user may take."""
    course = course_or_404(course_id)
    record_patient_access(request, course.patient)
    done = ACTIONS.get(request.GET.get("done", ""))
    return _render(request, course, done=done.done.format(
        frequency=course.get_maintenance_frequency_display().lower()) if done else "")


@require_POST
@role_required()
def course_action(request, course_id: int, action: str):
    """Take one action; a refusal re-draws the page with it beside the form that was sent."""
    course = course_or_404(course_id)
    try:
        take(action, by=request.user, course=course, data=request.POST)
    except ClinicError as error:
        return _render(request, course_or_404(course_id), status=error.status, error=error, acted=action)
    # What changed is said by the page itself (``done``), not the messages list: base.html's list carries
    # role="status", which axe reads as a list item outside a list.
    return redirect(f"{reverse('course-page', args=[course.pk])}?done={action}")


urlpatterns = [
    path("courses/<int:course_id>/", course_page, name="course-page"),
    *[path(f"courses/<int:course_id>/{name}/", course_action, {"action": name},
           name=f"course-{name}") for name in ACTIONS],
]
