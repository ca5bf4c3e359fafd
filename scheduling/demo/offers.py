"""Demo patients a freed chair can be offered to: at each site, two courses of each treatment.

The demo's stories book most courses ahead, so a cancel of tomorrow's visit would
find nobody to offer it to (docs/OFFERS.md, "Candidates"). These courses make the
freed-chair flow visible in ``make run``, whatever visit the desk cancels:

- **booked later, wanting earlier**: session 1 was given two (or three) days ago, so
  session 2's window is open today; it is booked on the window's last open day and the patient
  asked for an earlier time. A time freed today or tomorrow is offered to them, and
  their YES moves that booking (its reminders follow).
- **due from tomorrow, not booked**: session 1 was given yesterday, so session 2's
  window opens tomorrow. A time freed tomorrow is offered to them. (None when the site
  was closed yesterday: recorded history lies inside the site's hours.)

Neither is sent the due-visit text on the demo's first morning (one is booked, the
other not yet due), so the one-text-a-day limit leaves room for the offer. The patients
have SMS consent (as every demo patient does) and, for esketamine, REMS enrolment and
an approval, so their YES books through the same checks as the desk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta

from clinic.errors import ClinicError
from clinic.roles import CLINICIAN, FRONT_DESK
from patients.models import Patient
from protocols import eligibility, services
from protocols.models import Modality, Protocol, TreatmentCourse
from scheduling.booking.selectors import due_window_for_booking
from scheduling.booking.services import book_session, record_past_session
from scheduling.demo.authorisations import create_demo_authorisations
from scheduling.demo.courses import eligibility_override_reason, fits_protocol
from scheduling.models import Closure, Location, OpeningHours, Session

# One course of each treatment per site and kind; the IV series is the one whose second visit follows soonest.
SLUGS = ("esketamine-trd", "ketamine-iv-series")
# Session 1's day, days before today: the first of these the site was open for it (the due-tomorrow kind has
# only yesterday; on a day after a closed one the demo has no patient of that kind).
BOOKED_LATER_DAYS_AGO, DUE_TOMORROW_DAYS_AGO = (2, 3), (1,)
# Recorded history sits at noon (``record_past_session``).
HISTORY_AT = time(12)
# The booked-later patient asked for an earlier time this long before the demo's moment.
ASKED_EARLIER_BEFORE = timedelta(hours=20)


def _book_late_in_window(course: TreatmentCourse, site: Location, booker, *, now: datetime) -> Session | None:
    """Session 2 on the latest open day of its window after tomorrow, on the first chair and hour free."""
    window = due_window_for_booking(course)
    today = site.local_date(now)
    day = window.latest
    while day > today + timedelta(days=1):
        for chair in site.chairs.filter(active=True).order_by("name"):
            for hour in range(8, 18):
                try:
                    return book_session(by=booker, course=course, chair=chair, start=site.at(day, time(hour)),
                                        now=now)
                except ClinicError:
                    continue
        day -= timedelta(days=1)
    return None


def _history_fits(site: Location, day: date, minutes: int) -> bool:
    """Session 1 recorded at noon on ``day`` lies inside the site's opening hours."""
    if Closure.objects.filter(location=site, date=day).exists():
        return False
    hours = OpeningHours.objects.filter(location=site, weekday=day.weekday()).first()
    noon = datetime.combine(day, HISTORY_AT)
    return hours is not None and hours.opens <= HISTORY_AT \
        and noon + timedelta(minutes=minutes) <= datetime.combine(day, hours.closes)


def create_offer_candidates(patients: Sequence[Patient], sites: Sequence[Location], users: Mapping[str, object], *,
                            now: datetime) -> list[TreatmentCourse]:
    """Start the courses (for patients with no course yet, on their own site: MRN parity), record session 1,
    and book the booked-later patients' session 2."""
    with_course = set(TreatmentCourse.objects.filter(patient__in=patients).values_list("patient_id", flat=True))
    free = [(index, p) for index, p in enumerate(patients) if p.pk not in with_course and p.can_receive_texts]
    protocols = {p.slug: p for p in Protocol.objects.filter(version=1, slug__in=SLUGS)}
    made, booked_later = [], []
    for site_index, site in enumerate(sites):
        today = site.local_date(now)
        for slug, kind in ((slug, kind) for kind in (BOOKED_LATER_DAYS_AGO, DUE_TOMORROW_DAYS_AGO) for slug in SLUGS):
            protocol = protocols[slug]
            start = next((today - timedelta(days=days) for days in kind
                          if _history_fits(site, today - timedelta(days=days), protocol.chair_minutes)), None)
            found = next(((i, p) for i, p in free if i % 2 == site_index and fits_protocol(p, protocol)), None)
            if found is None or start is None:
                continue
            free.remove(found)
            patient = found[1]
            if protocol.modality == Modality.ESKETAMINE_NASAL:
                patient.rems_enrolled_on = start - timedelta(days=7)
                patient.rems_patient_id = f"REMS-{700000 + patient.pk}"
                patient.save(update_fields=["rems_enrolled_on", "rems_patient_id", "updated_at"])
            findings = eligibility.needs_override(eligibility.check(protocol.modality, patient.diagnosis,
                                                                    patient.screening()))
            reason = eligibility_override_reason(patient, findings)
            course = services.start_course(by=users[CLINICIAN] if reason else users[FRONT_DESK], patient=patient,
                                           protocol=protocol, start_date=start, override_reason=reason)
            record_past_session(by=users[CLINICIAN], course=course, day=start, location=site)
            made.append(course)
            if kind == BOOKED_LATER_DAYS_AGO:
                booked_later.append((course, site))
    create_demo_authorisations([c for c in made if c.modality == Modality.ESKETAMINE_NASAL],
                               by=users[FRONT_DESK], today=sites[0].local_date(now))
    for course, site in booked_later:
        session = _book_late_in_window(course, site, users[FRONT_DESK], now=now)
        if session is not None:
            Session.objects.filter(pk=session.pk).update(earlier_wanted_at=now - ASKED_EARLIER_BEFORE)
    return made
