"""Front desks booking through the booking service while a dump runs.

Each desk is a thread with its own database connection. It books new
patients' first visits one after another on its own share of the chairs, on
days past everything the demo has booked, through
``scheduling.booking.services.book_session`` (the path the API and the pages
take: the checks, the constraints, the planned reminders, the history rows),
logs an opening of the record as the API does (``PatientAccess``), and does it
inside a ``pghistory`` context as a request would. A refusal (the clinician's
capacity, the hours) moves the desk to the next slot; anything else stops the
drill.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import pghistory
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from clinic.errors import Conflict
from patients import services as patient_services
from patients.models import Patient, PatientAccess
from protocols.models import Modality, Protocol, TreatmentCourse
from scheduling.booking import services as booking
from scheduling.models import Chair, Session

# Past the demo's furthest booking, so the desks only meet each other.
FIRST_DAY_AFTER_LAST_BOOKING = 7
SLOT_MINUTES = 30
PROTOCOLS = {Modality.ESKETAMINE_NASAL: "esketamine-trd", Modality.KETAMINE_IV: "ketamine-iv-series"}


@dataclass
class Desk:
    number: int
    chairs: list[Chair]
    booked: int = 0
    refused: int = 0
    failure: BaseException | None = None


@dataclass
class BookingLoad:
    """Start with ``start()``, stop with ``stop()``; ``booked`` counts committed bookings across the desks."""

    desks: list[Desk]
    first_day: date
    stopping: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def booked(self) -> int:
        return sum(desk.booked for desk in self.desks)

    @property
    def refused(self) -> int:
        return sum(desk.refused for desk in self.desks)

    @property
    def failures(self) -> list[BaseException]:
        return [desk.failure for desk in self.desks if desk.failure is not None]

    def start(self) -> None:
        for desk in self.desks:
            thread = threading.Thread(target=self._run, args=(desk,), name=f"desk-{desk.number}", daemon=True)
            self.threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def _run(self, desk: Desk) -> None:
        try:
            user = get_user_model().objects.get(username="frontdesk")
            for chair, start, modality in _slots(desk.chairs, self.first_day):
                if self.stopping.is_set():
                    return
                if _book_one(desk, user, chair, start, modality):
                    with self.lock:
                        desk.booked += 1
                else:
                    desk.refused += 1
        except BaseException as error:  # reported by the drill, which then fails
            desk.failure = error
        finally:
            connection.close()


def _slots(chairs: list[Chair], first_day: date) -> Iterator[tuple[Chair, object, str]]:
    for offset in range(365):
        day = first_day + timedelta(days=offset)
        for chair in chairs:
            location = chair.location
            hours = next((row for row in location.hours.all() if row.weekday == day.weekday()), None)
            if hours is None or not location.active or not chair.active:
                continue
            modality = (Modality.ESKETAMINE_NASAL if chair.serves_esketamine and location.rems_certified
                        else Modality.KETAMINE_IV if chair.has_infusion_pump else None)
            if modality is None:
                continue
            start = location.at(day, hours.opens)
            while start < location.at(day, hours.closes):
                yield chair, start, modality
                start += timedelta(minutes=SLOT_MINUTES)


def _book_one(desk: Desk, user, chair: Chair, start, modality: str) -> bool:
    day = chair.location.local_date(start)
    with pghistory.context(user=user.pk, url="/restore-drill/"), transaction.atomic():
        number = Patient.objects.count() + 1
        patient = Patient.objects.create(
            mrn=f"DRILL{desk.number:02d}{start:%y%m%d%H%M}{chair.pk:04d}", first_name="Drill",
            last_name=f"Patient{number}", date_of_birth=date(1980, 1, 1), phone=f"+1555{number:07d}"[:12],
            rems_enrolled_on=day, rems_patient_id=f"RD{desk.number}{start:%y%m%d%H%M}{chair.pk}")
        protocol = Protocol.objects.get(slug=PROTOCOLS[modality])
        course = TreatmentCourse.objects.create(patient=patient, protocol=protocol, modality=modality, start_date=day,
                                                created_by=user)
        try:
            with transaction.atomic():
                booking.book_session(by=user, course=course, chair=chair, start=start)
        except Conflict:
            transaction.set_rollback(True)
            return False
        patient_services.record_access(patient=patient, user=user, channel=PatientAccess.Channel.API,
                                       path=f"/api/patients/{patient.pk}/")
    return True


def prepare(threads: int) -> BookingLoad:
    """``threads`` desks, the chairs dealt out between them, starting a week after the last booked visit."""
    chairs = list(Chair.objects.filter(active=True).select_related("location").prefetch_related("location__hours")
                  .order_by("location__name", "name"))
    if not chairs:
        raise RuntimeError("no chairs to book: load the demo first")
    last = Session.objects.order_by("-start").values_list("start", flat=True).first() or timezone.now()
    first_day = last.date() + timedelta(days=FIRST_DAY_AFTER_LAST_BOOKING)
    desks = [Desk(number, chairs[number::threads]) for number in range(threads) if chairs[number::threads]]
    return BookingLoad(desks, first_day)
