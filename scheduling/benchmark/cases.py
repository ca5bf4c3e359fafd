"""The hot paths, each beside its raw-SQL floor.

A case picks its inputs once (untimed), then ``call(i)`` runs the system's
own code for the i-th input and ``floor(i)`` runs the least SQL that could
answer the same question: what the database must do however the Python is
written. ``prepare(i)`` runs untimed before each timed call (a sweep puts back
what the previous run claimed; booking finds a free slot). The ratio of the
two medians says how much the system adds on top of the database.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from patients.models import Patient
from protocols.models import CourseStatus, Modality, Protocol, TreatmentCourse
from protocols.selectors import course_plan
from scheduling.benchmark.synthetic import Network
from scheduling.booking import selectors as booking_selectors
from scheduling.booking import services as booking
from scheduling.booking.availability import find_slots
from scheduling.charting.observation import observation_states
from scheduling.messaging import reminders
from scheduling.models import UPCOMING_STATUSES, Chair, Location, Reminder, ReminderState, Session
from scheduling.worklist import course_views, sweep

STANDING_SQL = "s.status NOT IN ('cancelled', 'no_show')"


def _fetch(sql: str, params: list | tuple | dict = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _api_client(network: Network) -> APIClient:
    """A client that passes host validation and the HTTPS redirect of whatever settings are in force."""
    from django.conf import settings

    host = next((host.lstrip(".") for host in settings.ALLOWED_HOSTS if host not in ("*", "")), "localhost")
    client = APIClient(SERVER_NAME=host, HTTP_HOST=host, HTTP_AUTHORIZATION=f"Token {network.token}")
    client.secure = settings.SECURE_SSL_REDIRECT
    return client


def _get(client: APIClient, path: str, params: dict) -> dict:
    response = client.get(path, params, secure=client.secure)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} {params} answered {response.status_code}: {response.content[:300]!r}")
    return response.json()


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


class Case:
    """One hot path and its floor."""

    name = ""
    description = ""
    # Sweeps run fewer times; their query count is checked against a fixed ceiling, not "under 8".
    sweep = False

    def __init__(self, network: Network) -> None:
        self.network = network

    def setup(self, count: int) -> None:
        """Pick ``count`` inputs (untimed)."""

    def prepare(self, index: int) -> None:
        """Untimed, before each timed call of ``call`` or ``floor``."""

    def call(self, index: int) -> None:
        raise NotImplementedError

    def floor(self, index: int) -> None:
        raise NotImplementedError

    def extra(self) -> dict:
        """Anything worth reporting beside the timings."""
        return {}


class Availability(Case):
    name = "availability"
    description = "free slots for one course at its site over 7 days (find_slots, as GET /api/availability/)"

    def setup(self, count):
        self.inputs = bookable_courses(self.network, min(count, 40))
        self.chairs = {}
        for location_id, chair_id in Chair.objects.filter(active=True).values_list("location_id", "id"):
            self.chairs.setdefault(location_id, []).append(chair_id)

    def _input(self, index):
        return self.inputs[index % len(self.inputs)]

    def call(self, index):
        course, location, first, _ = self._input(index)
        # The API's serializer loads the course with its protocol and patient.
        course = TreatmentCourse.objects.select_related("protocol", "patient").get(pk=course.pk)
        find_slots(course=course, location=location, date_from=first, date_to=first + timedelta(days=6), limit=20)

    def floor(self, index):
        course, location, first, _ = self._input(index)
        day_start, _ = location.day_bounds(first)
        _, day_end = location.day_bounds(first + timedelta(days=6))
        _fetch(f"""
            SELECT s.chair_id, s.patient_id, s.clinician_id, s.start, s.occupied_until
            FROM scheduling_session s
            WHERE {STANDING_SQL} AND s.start < %s AND s.occupied_until > %s
              AND (s.chair_id = ANY(%s) OR s.patient_id = %s)
        """, [day_end, day_start, self.chairs[location.pk], course.patient_id])


class Booking(Case):
    name = "booking"
    description = "book one session through the service: every check, the constraints, reminders, commit"

    def setup(self, count):
        from django.contrib.auth import get_user_model

        self.desk = get_user_model().objects.get(pk=self.network.desk_user_id)
        # Twice as many as needed: a course whose window has no free chair is skipped.
        self.inputs = bookable_courses(self.network, count * 2)
        self.cursor = 0
        self.slot = None

    def prepare(self, index):
        # A free slot for the next course, found the way the booking screen finds it.
        while self.cursor < len(self.inputs):
            course, location, first, last = self.inputs[self.cursor]
            self.cursor += 1
            slots = find_slots(course=course, location=location, date_from=first, date_to=last, limit=1)
            if slots:
                self.slot = (course, slots[0])
                return
        raise RuntimeError("ran out of bookable courses for the booking case")

    def call(self, index):
        course, slot = self.slot
        booking.book_session(by=self.desk, course=course, chair=slot.chair, start=slot.start)

    def floor(self, index):
        # The rows a booking must write, with every constraint checked, then rolled back so the slot stays free.
        course, slot = self.slot
        chair = slot.chair
        end = slot.start + timedelta(minutes=course.protocol.chair_minutes)
        occupied = end + timedelta(minutes=chair.location.turnover_minutes)
        now = timezone.now()
        with transaction.atomic():
            rows = _fetch("""
                INSERT INTO scheduling_session (course_id, patient_id, location_id, chair_id, clinician_id, start,
                    "end", occupied_until, local_date, status, recorded_history, notes, booked_by_id, booked_at,
                    override_reason, cancel_reason, late_cancel, revision, high_bp_acknowledgement,
                    resolution_attested, driver)
                VALUES (%s, %s, %s, %s, NULL, %s, %s, %s, %s, 'booked', false, '', %s, %s, '', '', false, 0, '',
                    false, '')
                RETURNING id
            """, [course.pk, course.patient_id, chair.location_id, chair.pk, slot.start, end, occupied,
                  chair.location.local_date(slot.start), self.desk.pk, now])
            _fetch("""
                INSERT INTO scheduling_reminder (session_id, kind, priority, send_at, session_start, revision, state,
                    attempts, provider_id, body, reason, created_at, updated_at)
                VALUES (%s, 'day_before', 2, %s, %s, 0, 'pending', 0, '', '', '', %s, %s),
                       (%s, 'same_day', 1, %s, %s, 0, 'pending', 0, '', '', '', %s, %s)
            """, [rows[0][0], slot.start - timedelta(hours=20), slot.start, now, now,
                  rows[0][0], slot.start - timedelta(hours=2), slot.start, now, now])
            transaction.set_rollback(True)


class Board(Case):
    name = "board"
    description = ("one location-day: the site with its calendar, its chairs, the day's sessions (patient, course, "
                   "clinician, chair) and their observation state (booking_selectors.day_board, observation_states)")

    def setup(self, count):
        # Today and the next open day at every site, so every call has a day of sessions to show.
        self.inputs = []
        sites = Location.objects.filter(pk__in=self.network.location_ids).prefetch_related("hours", "closures")
        for location in sites.order_by("pk"):
            calendar, day, days = booking_selectors.site_calendar(location), local_day(location), []
            while len(days) < 2:
                if calendar.opening(day):
                    days.append(day)
                day += timedelta(days=1)
            self.inputs += [(location.pk, day) for day in days]

    def call(self, index):
        location_id, day = self.inputs[index % len(self.inputs)]
        location = booking_selectors.with_calendar(Location.objects).get(pk=location_id)
        board = booking_selectors.day_board(location, day)
        observation_states(board["sessions"])

    def floor(self, index):
        location_id, day = self.inputs[index % len(self.inputs)]
        _fetch("SELECT id, name, active FROM scheduling_chair WHERE location_id = %s ORDER BY name", [location_id])
        _fetch("""
            SELECT s.*, p.first_name, p.last_name, p.mrn, c.status, pr.slug, u.first_name, ch.name
            FROM scheduling_session s
            JOIN patients_patient p ON p.id = s.patient_id
            JOIN protocols_treatmentcourse c ON c.id = s.course_id
            JOIN protocols_protocol pr ON pr.id = c.protocol_id
            LEFT JOIN auth_user u ON u.id = s.clinician_id
            LEFT JOIN scheduling_chair ch ON ch.id = s.chair_id
            WHERE s.location_id = %s AND s.local_date = %s ORDER BY s.start
        """, [location_id, day])


class Plan(Case):
    name = "plan"
    description = "a course's projected sessions (GET /api/courses/{id}/plan/: the course, then course_plan)"

    def setup(self, count):
        self.course_ids = list(TreatmentCourse.objects.filter(status=CourseStatus.ACTIVE).order_by("pk")
                               .values_list("pk", flat=True)[: max(count, 40)])

    def call(self, index):
        course = TreatmentCourse.objects.for_lists().get(pk=self.course_ids[index % len(self.course_ids)])
        course_plan(course)

    def floor(self, index):
        _fetch("""
            SELECT c.*, ph.* FROM protocols_treatmentcourse c JOIN protocols_phase ph ON ph.protocol_id = c.protocol_id
            WHERE c.id = %s ORDER BY ph."order"
        """, [self.course_ids[index % len(self.course_ids)]])
        _fetch(f"""
            SELECT s.id, s.status, s.local_date FROM scheduling_session s
            WHERE s.course_id = %s AND {STANDING_SQL} ORDER BY s.start
        """, [self.course_ids[index % len(self.course_ids)]])


class DueVisitSweep(Case):
    name = "due_visit_sweep"
    description = ("scheduling.refresh_worklist over every active course, in the steady state the hourly sweep "
                   "keeps (the generator ran the first one)")
    sweep = True

    def call(self, index):
        self.last = sweep.refresh_worklist()

    def floor(self, index):
        # What the sweep reads, as SQL with nothing built from it. Every active course with its patient's
        # texting and REMS facts and its sessions' dates, latest and next session: the sweep's own
        # statement, which is SQL already (it was an ORM query, two and a half times this floor's first
        # version, which read only the dates). Then each protocol's phases, the sites, the sessions
        # booked for the coming days, the REMS forms past day 5, and the open items.
        now = timezone.now()
        _fetch(course_views.swept_sql(some=False), {"now": now})
        _fetch("SELECT p.id, p.slug, ph.* FROM protocols_protocol p JOIN protocols_phase ph ON ph.protocol_id = p.id")
        _fetch("SELECT l.id, l.time_zone, rp.* FROM scheduling_location l "
               "LEFT JOIN scheduling_reminderpolicy rp ON rp.location_id = l.id")
        _fetch("SELECT s.id, s.patient_id, s.course_id, s.location_id, s.local_date, s.start FROM scheduling_session s "
               "WHERE s.status = 'booked' AND s.start >= %s AND s.start < %s AND s.location_id IS NOT NULL",
               [now, now + timedelta(days=3)])
        _fetch("SELECT f.id, f.session_id, s.patient_id, s.course_id, s.location_id, s.local_date "
               "FROM scheduling_remsform f JOIN scheduling_session s ON s.id = f.session_id "
               "WHERE f.status <> 'submitted' AND s.local_date <= %s", [now.date() - timedelta(days=5)])
        _fetch("SELECT w.id, w.kind, w.subject, w.course_id, c.status, w.session_id, s.status, w.location_id, "
               "w.due_on, w.detail, w.assigned_to_id FROM scheduling_workitem w "
               "LEFT JOIN protocols_treatmentcourse c ON c.id = w.course_id "
               "LEFT JOIN scheduling_session s ON s.id = w.session_id WHERE w.closed_at IS NULL")

    def extra(self):
        return {"active_courses": self.network.counts["active_courses"], "last_run": getattr(self, "last", None)}


class ReminderSweep(Case):
    name = "reminder_sweep"
    description = ("claim every reminder of the next day's sending (24 h from the next one due), in the "
                   "sweep's batches, and enqueue the sends")
    sweep = True

    def setup(self, count):
        # From the next reminder due rather than from now: on a Saturday afternoon nothing is due for a day.
        pending = Reminder.objects.filter(state=ReminderState.PENDING)
        first = pending.order_by("send_at").values_list("send_at", flat=True).first() or timezone.now()
        self.claimed: list[int] = []
        self.until = max(first, timezone.now()) + timedelta(hours=24)
        self.due = pending.filter(send_at__lte=self.until).count()

    def prepare(self, index):
        if self.claimed:
            Reminder.objects.filter(pk__in=self.claimed).update(state=ReminderState.PENDING, claimed_at=None)
            self.claimed = []

    def call(self, index):
        while True:
            batch = reminders.claim_due_reminders(now=self.until)
            self.claimed += batch
            if len(batch) < reminders.SWEEP_BATCH:
                break

    def floor(self, index):
        with transaction.atomic():
            _fetch("""
                UPDATE scheduling_reminder SET state = 'queued', claimed_at = now()
                WHERE id IN (SELECT id FROM scheduling_reminder WHERE state = 'pending' AND send_at <= %s
                             ORDER BY priority DESC, send_at, id FOR UPDATE SKIP LOCKED)
                RETURNING id
            """, [self.until])
            transaction.set_rollback(True)

    def extra(self):
        return {"reminders_due_in_24h": self.due}


class WorklistApi(Case):
    name = "worklist_api"
    description = "GET /api/worklist/ (first page, token authentication)"

    def setup(self, count):
        self.client = _api_client(self.network)

    def call(self, index):
        _get(self.client, "/api/worklist/", {"page": 1 + index % 2})

    def floor(self, index):
        _fetch("SELECT count(*) FROM scheduling_workitem WHERE closed_at IS NULL "
               "AND (snoozed_until IS NULL OR snoozed_until <= CURRENT_DATE)")
        _fetch("""
            SELECT w.*, p.first_name, p.last_name, pr.slug, l.name, u.username
            FROM scheduling_workitem w
            JOIN patients_patient p ON p.id = w.patient_id
            LEFT JOIN protocols_treatmentcourse c ON c.id = w.course_id
            LEFT JOIN protocols_protocol pr ON pr.id = c.protocol_id
            LEFT JOIN scheduling_location l ON l.id = w.location_id
            LEFT JOIN auth_user u ON u.id = w.assigned_to_id
            WHERE w.closed_at IS NULL AND (w.snoozed_until IS NULL OR w.snoozed_until <= CURRENT_DATE)
            ORDER BY w.urgency, w.due_on, w.opened_at, w.id LIMIT 25 OFFSET %s
        """, [25 * (index % 2)])


class PatientSearch(Case):
    name = "patient_search"
    description = "GET /api/patients/?q= by part of a name, a full name, an MRN and phone digits"
    QUERIES = ("gar", "Martinez", "ana smi", "B00001", "rodri", "555000", "lee", "Okafor", "so mor", "B0000123")

    def setup(self, count):
        self.client = _api_client(self.network)

    def call(self, index):
        _get(self.client, "/api/patients/", {"q": self.QUERIES[index % len(self.QUERIES)]})

    def floor(self, index):
        text = self.QUERIES[index % len(self.QUERIES)]
        words = text.split()
        name = " AND ".join(["(lower(first_name) LIKE %s OR lower(last_name) LIKE %s "
                             "OR upper(preferred_name) LIKE upper(%s))"] * len(words))
        params = [f"%{word.lower()}%" for word in words for _ in range(3)]
        digits = "".join(ch for ch in text if ch.isdigit())
        condition = f"(({name}) OR upper(mrn) = upper(%s) OR upper(mrn) LIKE upper(%s)"
        params += [text, f"{text}%"]
        if len(digits) >= 4:
            condition += " OR phone LIKE %s"
            params.append(f"%{digits}%")
        condition += ") AND archived_at IS NULL"
        # The page and the count of every match in one statement, as the API reads them.
        _fetch(f"SELECT id, mrn, first_name, last_name, preferred_name, date_of_birth, phone, diagnosis, archived_at, "
               f"count(*) OVER () FROM patients_patient WHERE {condition} ORDER BY last_name, first_name, id LIMIT 25",
               params)


# In this order: the booking case adds sessions the later ones see, and the worklist page
# lists the items the due-visit sweep opened.
CASES = (Availability, Booking, Board, Plan, DueVisitSweep, ReminderSweep, WorklistApi, PatientSearch)


def local_day(location: Location) -> date:
    return location.local_date(timezone.now())
