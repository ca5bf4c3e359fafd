"""The front desk's and the board's hot paths: free slots, a booking, the day board, a course's plan."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from protocols.models import CourseStatus, TreatmentCourse
from protocols.selectors import course_plan
from scheduling.benchmark.copying import column_list, other_columns
from scheduling.benchmark.hot_path import STANDING_SQL, Case, fetch
from scheduling.benchmark.inputs import bookable_courses, local_day
from scheduling.booking import selectors as booking_selectors
from scheduling.booking import services as booking
from scheduling.booking.availability import find_slots
from scheduling.charting.observation import observation_states
from scheduling.models import (
    KIND_PRIORITY,
    Chair,
    Location,
    Reminder,
    ReminderKind,
    ReminderState,
    Session,
    SessionStatus,
)


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
        fetch(f"""
            SELECT s.chair_id, s.patient_id, s.clinician_id, s.start, s.occupied_until
            FROM scheduling_session s
            WHERE {STANDING_SQL} AND s.start < %s AND s.occupied_until > %s
              AND (s.chair_id = ANY(%s) OR s.patient_id = %s)
        """, [day_end, day_start, self.chairs[location.pk], course.patient_id])


class Booking(Case):
    name = "booking"
    description = "book one session through the service: every check, the constraints, reminders, commit"

    def setup(self, count):
        self.desk = get_user_model().objects.get(pk=self.network.desk_user_id)
        # Twice as many as needed: a course whose window has no free chair is skipped.
        self.inputs = bookable_courses(self.network, count * 2)
        self.cursor = 0
        self.slot = None
        # The floor's statements, written once: their text is no part of what the database must do.
        now = timezone.now()
        self.inserts = (_insert(Session, SESSION_COLUMNS, now), _insert(Reminder, REMINDER_COLUMNS, now, rows=2))

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
        session_sql, reminder_sql = self.inserts
        with transaction.atomic():
            rows = fetch(session_sql, [course.pk, course.patient_id, chair.location_id, chair.pk, slot.start, end,
                                       occupied, chair.location.local_date(slot.start), SessionStatus.BOOKED,
                                       self.desk.pk, now])
            session_id = rows[0][0]
            fetch(reminder_sql, [
                session_id, ReminderKind.DAY_BEFORE, KIND_PRIORITY[ReminderKind.DAY_BEFORE],
                slot.start - timedelta(hours=20), slot.start, ReminderState.PENDING,
                session_id, ReminderKind.SAME_DAY, KIND_PRIORITY[ReminderKind.SAME_DAY],
                slot.start - timedelta(hours=2), slot.start, ReminderState.PENDING])
            transaction.set_rollback(True)


# What the booking's floor writes; every other column gets its default (``copying.other_columns``), written
# into the statement, so a column added to the model is written without the floor being told.
SESSION_COLUMNS = ("course_id", "patient_id", "location_id", "chair_id", "start", "end", "occupied_until",
                   "local_date", "status", "booked_by_id", "booked_at")
REMINDER_COLUMNS = ("session_id", "kind", "priority", "send_at", "session_start", "state")


def _insert(model, columns: tuple[str, ...], now, *, rows: int = 1) -> str:
    """``INSERT`` of ``rows`` rows of ``model``, ``RETURNING id``: a parameter for each of ``columns`` in each
    row, and every other column's default as a literal."""
    rest, defaults = other_columns(model, (*columns, model._meta.pk.column), now)  # the database numbers the row
    literals = [connection.ops.compose_sql("%s", [value]).replace("%", "%%") for value in defaults]
    row = "(" + ", ".join(["%s"] * len(columns) + literals) + ")"
    return (f"INSERT INTO {model._meta.db_table} ({column_list((*columns, *rest))}) "
            f"VALUES {', '.join([row] * rows)} RETURNING id")


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
        fetch("SELECT id, name, active FROM scheduling_chair WHERE location_id = %s ORDER BY name", [location_id])
        fetch("""
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
        fetch("""
            SELECT c.*, ph.* FROM protocols_treatmentcourse c JOIN protocols_phase ph ON ph.protocol_id = c.protocol_id
            WHERE c.id = %s ORDER BY ph."order"
        """, [self.course_ids[index % len(self.course_ids)]])
        fetch(f"""
            SELECT s.id, s.status, s.local_date FROM scheduling_session s
            WHERE s.course_id = %s AND {STANDING_SQL} ORDER BY s.start
        """, [self.course_ids[index % len(self.course_ids)]])
