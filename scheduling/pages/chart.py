"""The session chart: one page that walks a session in the order of docs/DOMAIN.md "A session, step by step".

Each step is a form posting to ``chart_step``, which reads the fields and
calls the one workflow service for that step. Posted with htmx, the answer is
the chart's body (``_chart_body.html``), swapped in place with what the step
did said in its section; without script it redirects back to the chart
(post/redirect/get, so a reload never doses twice). A refusal re-renders the
chart with the service's own words beside the step and, where the rules
allow one, the way through: an "Acknowledge and continue" form for a high
blood pressure, the item-9 assessment for clinicians, a written reason for a
dose outside the protocol. An early discharge shows the minutes left and no
override, because there is none.

Times may be entered after the fact: every step has an optional "time"
input read as wall-clock time at the session's location, and a reason for a
late entry (more than 15 minutes after the fact). The form handlers are in
``chart_steps``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from clinic.errors import ClinicError, Invalid
from clinic.roles import CLINICIAN, PRESCRIBER, has_role, is_prescriber, role_required
from patients import measures
from patients.models import OutcomeMeasure, PatientAccess
from patients.services import record_access
from protocols.models import Modality
from scheduling.charting import outcomes, rems
from scheduling.charting import services as charting
from scheduling.charting.observation import observation_states
from scheduling.models import (
    Dose,
    EntryKind,
    LedgerEntry,
    LeftBeforeDischarge,
    RemsFormStatus,
    Respiratory,
    Session,
    SessionStatus,
    Severity,
    VitalsKind,
)
from scheduling.pages.chart_steps import CHECKLIST, LATER_DEVICES, STEPS, section_of, session_now
from scheduling.pages.clinician import ALERT_WORDS, CHECKPOINT_WORDS, STAGE_WORDS
from scheduling.stock import selectors as stock_selectors

PHQ9 = measures.INSTRUMENTS[measures.PHQ9]
PHQ9_QUESTIONS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself, or that you are a failure or have let yourself or your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed, or the opposite: being so fidgety "
    "or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead, or of hurting yourself in some way",
)
PHQ9_ANSWERS = ((0, "Not at all"), (1, "Several days"), (2, "More than half the days"), (3, "Nearly every day"))


# --- the page -----------------------------------------------------------------------------------------


def _session(session_id: int) -> Session:
    return get_object_or_404(
        Session.objects.select_related("patient", "course__protocol", "location", "chair", "clinician",
                                       "checked_in_by", "discharged_by", "high_bp_acknowledged_by"),
        pk=session_id,
    )


# A step's state in words, read out after its name: the stepper says it, not only its colour or a tick.
STEP_STATE_WORDS = {"done": "done", "current": "next", "open": "open", "todo": "to do"}


def _step(key: str, title: str, done: bool, active: bool) -> dict:
    state = "done" if done else ("current" if active else "todo")
    return {"key": key, "title": title, "state": state, "state_words": STEP_STATE_WORDS[state]}


def chart_context(request, session: Session, *, error: ClinicError | None = None, error_section: str = "",
                  values=None, done: str = "", done_section: str = "") -> dict:
    """Everything recorded for the session, its live observation state, and which step comes next.

    ``?reading=<kind>`` (from a REMS form's missing item) starts the late vital-signs form on that reading.
    """
    reading = request.GET.get("reading", "")
    reading = reading if reading in VitalsKind.values and reading != VitalsKind.PRE_DOSE else ""
    protocol = session.course.protocol
    esketamine = session.course.modality == Modality.ESKETAMINE_NASAL
    vitals = list(session.vitals.order_by("taken_at", "id"))
    dose = Dose.objects.filter(session=session).first()
    devices = list(dose.devices_given.order_by("number")) if dose else []
    assessments = list(session.assessments.order_by("assessed_at", "id"))
    state = observation_states([session])[session.pk]
    taken = list(OutcomeMeasure.objects.filter(session_link__session=session).order_by("taken_at", "id"))
    open_alert = outcomes.unacknowledged_item9_alert(session.patient)
    pre_dose = [v for v in vitals if v.kind == VitalsKind.PRE_DOSE]
    latest_pre = pre_dose[-1] if pre_dose else None
    acknowledged = (session.high_bp_acknowledged_at is not None and latest_pre is not None
                    and session.high_bp_acknowledged_at >= latest_pre.recorded_at)
    high_bp_pending = bool(latest_pre and charting.bp_is_high(latest_pre, protocol) and not acknowledged)
    status = session.status
    arrived = status in (SessionStatus.CHECKED_IN, SessionStatus.IN_TREATMENT, SessionStatus.DISCHARGED)
    # A patient is checked in only on the session's day at its site (the service refuses ``not_today``): late in
    # the evening tomorrow's chart, or a past day's booking never checked in, shows when instead of a form.
    site_today = session.location.local_date(session_now()) if session.location else session.local_date
    waiting = status in (SessionStatus.BOOKED, SessionStatus.CONFIRMED)
    check_in_on = session.local_date if waiting and session.local_date != site_today else None
    # Due by the cadence and not yet taken at this session: once one is recorded, it is no longer due.
    cadence_due = session.is_standing and outcomes.measure_due(session)
    measure_due = cadence_due and not taken
    steps = [
        _step("check-in", "Check-in", arrived, waiting and check_in_on is None),
        _step("pre-dose", "Pre-dose vitals", bool(pre_dose), status == SessionStatus.CHECKED_IN and not pre_dose),
        _step("measure", "PHQ-9" + (" (due)" if measure_due else ""), bool(taken) and open_alert is None,
              status == SessionStatus.CHECKED_IN and cadence_due and (not taken or open_alert is not None)),
        _step("dose", "Dose", dose is not None, status == SessionStatus.CHECKED_IN and bool(pre_dose)),
        _step("observation", "40-minute vitals", any(v.kind == VitalsKind.POST_DOSE_40 for v in vitals),
              state.bp_checkpoint in ("upcoming", "due")),
        _step("assessment", "Assessment", bool(assessments), status == SessionStatus.IN_TREATMENT and not assessments),
        _step("discharge", "Discharge", status == SessionStatus.DISCHARGED, state.ready_to_discharge),
    ]
    # Several steps may be open at once (pre-dose vitals and the PHQ-9): the first is the current step, the
    # one the stepper marks; the others read "open".
    open_steps = [step for step in steps if step["state"] == "current"]
    for step in open_steps[1:]:
        step.update(state="open", state_words=STEP_STATE_WORDS["open"])
    if check_in_on is not None:
        steps[0]["state_words"] = (f"on {check_in_on:%a %b} {check_in_on.day}" if check_in_on > site_today
                                   else "not checked in")
    dose_choices = [int(mg) for mg in (protocol.allowed_doses_mg or [56, 84])]
    location = session.location
    typed = values or {}
    return {
        "session": session,
        "location": location,
        "site_today": site_today,
        "check_in_on": check_in_on,
        "protocol": protocol,
        "esketamine": esketamine,
        "vitals": vitals,
        # Each section's table lists its own readings, and says "None yet." when it has none.
        "pre_dose_vitals": pre_dose,
        "after_vitals": [v for v in vitals if v.kind != VitalsKind.PRE_DOSE],
        "dose": dose,
        "assessments": assessments,
        "state": state,
        "stage_words": STAGE_WORDS.get(state.stage, state.stage),
        "checkpoint_words": CHECKPOINT_WORDS.get(state.bp_checkpoint or "", ""),
        "alert_words": [ALERT_WORDS.get(alert, alert) for alert in state.alerts],
        "measures_taken": taken,
        "measure_due": measure_due,
        "open_alert": open_alert,
        "latest_pre": latest_pre,
        "high_bp_pending": high_bp_pending,
        "steps": steps,
        "is_clinician": has_role(request.user, CLINICIAN),
        "may_record_measure": has_role(request.user, *outcomes.MEASURE_RECORDERS),
        "checklist": [(name, label, getattr(session, name)) for name, label in CHECKLIST],
        "phq9_items": [(number, question, typed.get(f"item{number}") if error_section == "measure" else None)
                       for number, question in enumerate(PHQ9_QUESTIONS, start=1)],
        "phq9_answers": PHQ9_ANSWERS,
        "dose_choices": dose_choices,
        "default_dose": protocol.first_dose_mg or dose_choices[0],
        "severities": Severity.choices,
        "respiratory_choices": Respiratory.choices,
        "observation_kinds": [(k, label) for k, label in VitalsKind.choices if k != VitalsKind.PRE_DOSE],
        "default_observation_kind": reading or (VitalsKind.POST_DOSE_40 if state.bp_checkpoint in ("upcoming", "due")
                                                else VitalsKind.DISCHARGE),
        "rems_missing": missing_from_rems_form(session) if status == SessionStatus.DISCHARGED or session.left_at
        else [],
        "error": error,
        "error_section": error_section,
        # What a step posted in place did, said in its own section (the full page uses the messages instead).
        "done": done,
        "done_section": done_section,
        # A refused step comes back as the whole chart: focus its refusal, or it sits below the fold, unseen.
        "focus_error": error is not None,
        # Field errors and typed values belong to the step that was refused, not to same-named fields elsewhere.
        "errors_for": {error_section: error.fields} if error else {},
        "values_for": {error_section: values} if values is not None else {},
        "statuses": SessionStatus,
        "prescribers": _prescribers(session) if esketamine else [],
        **_dose_lots(session, dose),
        "default_prescriber": request.user.pk if is_prescriber(request.user) else None,
        "devices_given": devices,
        "later_devices": [number for number in LATER_DEVICES if number <= max(dose_choices) // 28],
        "next_device": (len(devices) + 1 if dose and dose.devices and len(devices) < dose.devices
                        and status == SessionStatus.IN_TREATMENT else None),
        "late_entries": rems.late_entries(session, dose, vitals, assessments, devices),
        "leave_kinds": LeftBeforeDischarge.choices,
        # An ended chart still takes late vital signs and assessments (for a draft REMS form).
        "late_charting": status == SessionStatus.DISCHARGED and dose is not None,
    }


# The REMS form's missing items (scheduling/charting/rems.py) and where on the chart each is recorded: the section,
# and for vital signs the reading the late-entry form starts on. Items not charted here go to the patient's details.
MISSING_RECORDED_AT = {
    "Blood pressure at about 40 minutes": ("observation", VitalsKind.POST_DOSE_40),
    "Blood pressure before discharge": ("observation", VitalsKind.DISCHARGE),
    "Blood pressure before dosing": ("pre-dose", ""),
    "Sedation assessment": ("assessment", ""),
    "Dissociation assessment": ("assessment", ""),
    "Dose": ("dose", ""),
    "Lot number": ("dose", ""),
    "“Could have left after” minutes": ("discharge", ""),
    "Time from first device to end of monitoring": ("discharge", ""),
    "Monitoring of at least 120 minutes": ("discharge", ""),
}


def missing_from_rems_form(session: Session) -> list[dict]:
    """What the session's draft REMS form still lacks, each with the chart address of the form that records it."""
    form = getattr(session, "rems_form", None) if session.course.modality == Modality.ESKETAMINE_NASAL else None
    if form is None or form.status != RemsFormStatus.DRAFT:
        return []
    return [{"label": label, "href": where_recorded(session, label),
             "section": MISSING_RECORDED_AT.get(label, ("", ""))[0]} for label in form.missing]


def where_recorded(session: Session, label: str) -> str:
    """The address of the form that records a REMS form's missing ``label`` (the chart's step, or the patient)."""
    section, reading = MISSING_RECORDED_AT.get(label, ("", ""))
    if section:
        chart = reverse("session-chart", args=[session.pk])
        return chart + (f"?reading={reading}" if reading else "") + f"#step-{section}"
    return reverse("patients:edit", args=[session.patient_id])  # the patient's sex, the concomitant medicines


def stock_words(entry) -> str:
    """A ledger entry of a dose in words: "2 devices from lot L-1 (exp. Jan 31, 2027), witnessed by ..."."""
    amount, unit = -entry.quantity, entry.lot.product.unit
    words = f"{amount} {unit}{'s' if unit == 'device' and amount != 1 else ''} from lot {entry.lot.lot_number} " \
            f"(exp. {entry.lot.expiry:%b} {entry.lot.expiry.day}, {entry.lot.expiry.year})"
    if entry.witness is not None:
        words += f", witnessed by {entry.witness.get_full_name() or entry.witness.get_username()}"
    return words


def _dose_lots(session: Session, dose) -> dict:
    """The lots the dose may draw from (the session's site, its product, in date, with stock), earliest expiry first.

    The first is the one suggested: using the earliest-expiring lot first is what keeps stock from expiring.
    """
    if dose is not None:
        entries = (LedgerEntry.objects.filter(session=session, kind__in=(EntryKind.DISPENSE, EntryKind.WASTE))
                   .select_related("lot__product", "witness").order_by("at", "id"))
        return {"dose_stock_entries": [{"kind": entry.kind, "label": entry.get_kind_display(),
                                        "words": stock_words(entry)} for entry in entries]}
    if session.status != SessionStatus.CHECKED_IN:
        return {"dose_lots": [], "suggested_lot": None}
    lots = stock_selectors.lots_for_dose(session)
    return {"dose_lots": lots, "suggested_lot": lots[0].pk if lots else None}


def _prescribers(session: Session) -> list:
    """Clinicians marked as prescribers, the session's site's staff first."""
    users = (get_user_model().objects.filter(groups__name=PRESCRIBER, is_active=True)
             .filter(groups__name=CLINICIAN).distinct().order_by("last_name", "first_name"))
    return [(user.pk, user.get_full_name() or user.get_username()) for user in users]


def _access(request, session: Session) -> None:
    record_access(patient=session.patient, user=request.user, channel=PatientAccess.Channel.WEB, path=request.path)


@require_GET
@role_required()
def session_chart(request, session_id: int):
    """The chart of one session, every step in order, the next one open."""
    session = _session(session_id)
    _access(request, session)
    return render(request, "scheduling/clinician/chart.html", chart_context(request, session))


@require_POST
@role_required()
def chart_step(request, session_id: int, step: str):
    """Run one step of the workflow through its service; a refusal comes back at the step, in the same words."""
    if step not in STEPS:
        raise Http404("No such step.")
    roles, handler, _section = STEPS[step]
    if not has_role(request.user, *roles):
        raise PermissionDenied("Your role does not allow this step.")
    session = _session(session_id)
    _access(request, session)
    section = section_of(step, request.POST)
    # Posted with htmx, the answer is the chart's body alone, swapped in place (base.html swaps 4xx too).
    template = "scheduling/clinician/_chart_body.html" if request.htmx else "scheduling/clinician/chart.html"
    try:
        done = handler(request, session)
    except ClinicError as error:
        context = chart_context(request, _session(session_id), error=error, error_section=section,
                                values=request.POST)
        return render(request, template, context, status=error.status)
    if request.htmx:
        context = chart_context(request, _session(session_id), done=done, done_section=section)
        if step == "acknowledge-bp" and "lot" in request.POST:
            # Acknowledged from the dose's refusal, which sent the dose form along: the dose stays as typed.
            context["values_for"]["dose"] = request.POST
        return render(request, template, context)
    messages.success(request, done)
    return redirect(reverse("session-chart", args=[session.pk]) + f"#step-{section}")


@require_POST
@role_required()
def phq9_score(request, session_id: int):
    """The PHQ-9 total and band as items are ticked (htmx); says how many are left until all are answered."""
    answers = []
    for number in range(1, PHQ9.item_count + 1):
        value = (request.POST.get(f"item{number}") or "").strip()
        answers.append(int(value) if value.isdigit() else None)
    answered = [value for value in answers if value is not None]
    context = {"answered": len(answered), "count": PHQ9.item_count, "total": None}
    if len(answered) == PHQ9.item_count:
        try:
            result = measures.score(measures.PHQ9, answers)
        except Invalid as error:
            context["problem"] = error.detail
        else:
            context.update(total=result.total, band=measures.BAND_LABELS[result.band],
                           item9_positive=result.item9_positive)
    else:
        context["partial_total"] = sum(answered)
    return render(request, "scheduling/clinician/_phq9_score.html", context)
