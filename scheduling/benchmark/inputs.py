"""The courses the cases book and search for: bookable ones from the generated history, and new ones."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from patients.models import Patient
from protocols.models import AuthorisationStatus, CourseStatus, Modality, PriorAuthorisation, Protocol, TreatmentCourse
from scheduling.benchmark.synthetic import Network
from scheduling.booking import selectors as booking_selectors
from scheduling.models import UPCOMING_STATUSES, Location, Session


def _home_locations(course_ids: list[int]) -> dict[int, int]:
    """Each course's site: the location of its latest session (courses have no location of their own)."""
    rows = (Session.objects.filter(course_id__in=course_ids).order_by("course_id", "-start")
            .distinct("course_id").values_list("course_id", "location_id"))
    return dict(rows)


def new_courses(network: Network, start_date: date, modalities: list[str]) -> list[TreatmentCourse]:
    """A fresh patient and course per modality given (esketamine-trd or ketamine-iv-series), session 1 due from
    ``start_date``. Created untimed, so every run has as many bookable courses as it needs."""
    protocols = {Modality.ESKETAMINE_NASAL: Protocol.objects.get(slug="esketamine-trd"),
                 Modality.KETAMINE_IV: Protocol.objects.get(slug="ketamine-iv-series")}
    base = Patient.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    patients = Patient.objects.bulk_create([
        Patient(mrn=f"N{base + n:07d}", first_name="New", last_name=f"Patient{base + n}",
                date_of_birth=date(1980, 1, 1), phone=f"+1556{base + n:07d}", rems_enrolled_on=network.today,
                rems_patient_id=f"R{base + n}")
        for n in range(len(modalities))])
    courses = TreatmentCourse.objects.bulk_create([
        TreatmentCourse(patient=patient, protocol=protocols[modality], modality=modality, start_date=start_date,
                        created_by_id=network.desk_user_id)
        for patient, modality in zip(patients, modalities, strict=True)])
    # A course a payer must approve comes with its approval, as in the generated network.
    PriorAuthorisation.objects.bulk_create([
        PriorAuthorisation(course=course, payer="Aetna", number=f"PA-N{course.pk}", status=AuthorisationStatus.APPROVED,
                           units_approved=60, first_day=start_date, last_day=start_date + timedelta(days=365),
                           submitted_on=start_date - timedelta(days=7), decided_on=start_date - timedelta(days=2))
        for course in courses if protocols[course.modality].requires_authorisation])
    return list(TreatmentCourse.objects.filter(pk__in=[course.pk for course in courses])
                .select_related("patient", "protocol").order_by("pk"))


def bookable_courses(network: Network, count: int) -> list[tuple]:
    """``count`` active courses with nothing booked whose next window is still open after today, each with
    its site and the window clipped to start tomorrow: (course, location, first day, last day).

    Taken from the generated history where there are enough, topped up with new courses starting
    tomorrow, spread over the sites.
    """
    tomorrow = network.today + timedelta(days=1)
    booked = Session.objects.filter(status__in=UPCOMING_STATUSES, start__gte=timezone.now()).values("course_id")
    candidates = list(TreatmentCourse.objects.filter(status=CourseStatus.ACTIVE, patient__archived_at__isnull=True)
                      .exclude(pk__in=booked).select_related("patient", "protocol").order_by("pk")[: count * 10])
    homes = _home_locations([course.pk for course in candidates])
    locations = Location.objects.in_bulk(network.location_ids)
    found = []
    for course in candidates:
        if len(found) == count:
            break
        if course.pk not in homes:
            continue
        window = booking_selectors.due_window_for_booking(course)
        if window is None or window.latest < tomorrow:
            continue
        found.append((course, locations[homes[course.pk]], max(window.earliest, tomorrow), window.latest))
    missing = count - len(found)
    if missing > 0:
        modalities = [(Modality.ESKETAMINE_NASAL, Modality.KETAMINE_IV)[n % 2] for n in range(missing)]
        for n, course in enumerate(new_courses(network, tomorrow, modalities)):
            location = locations[network.location_ids[n % len(network.location_ids)]]
            found.append((course, location, tomorrow, tomorrow + timedelta(days=7)))
    return found


def local_day(location: Location) -> date:
    return location.local_date(timezone.now())
