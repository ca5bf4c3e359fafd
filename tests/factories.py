"""factory-boy factories for every model the tests create: one way to make each thing.

A session comes in two kinds: ``SessionFactory`` books it through the booking
service, with every rule and side effect of a real booking (reminders planned,
the worklist refreshed); ``SessionRowFactory`` writes the row straight to the
table, for history, past no-shows and the many rows of a query-count test.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time, timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from clinic.models import OutboxMessage
from patients import measures
from patients.models import Diagnosis, OutcomeMeasure, Patient
from protocols.models import Protocol
from scheduling.booking.services import book_session
from scheduling.models import (
    URGENCY,
    Chair,
    Closure,
    Direction,
    Location,
    MessagePurpose,
    Offer,
    OfferState,
    OpeningHours,
    Outreach,
    ReminderPolicy,
    RemsForm,
    Session,
    SessionStatus,
    TextMessage,
    WorkItem,
    WorkKind,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = "Sam"
    last_name = factory.Sequence(lambda n: f"Staff{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or ():
            self.groups.add(Group.objects.get(name=role))
        if create:
            self.save()


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    mrn = factory.Sequence(lambda n: f"T{n:06d}")
    first_name = factory.Sequence(lambda n: f"Alex{n}")
    last_name = "Rivera"
    date_of_birth = date(1980, 5, 17)
    phone = factory.Sequence(lambda n: f"+1415555{2000 + n % 8000:04d}")
    sms_consent = True
    sms_consent_method = "verbal"
    sms_consent_at = factory.LazyFunction(timezone.now)
    diagnosis = Diagnosis.MDD
    rems_enrolled_on = date(2026, 1, 5)
    rems_patient_id = factory.Sequence(lambda n: f"REMS-{n:06d}")


def standard_protocol(slug: str = "esketamine-trd") -> Protocol:
    """One of the four protocols the data migration installs."""
    return Protocol.objects.get(slug=slug)


class TreatmentCourseFactory(factory.django.DjangoModelFactory):
    """A course saved directly, without the eligibility checks of ``start_course``: for reads and transitions."""

    class Meta:
        model = "protocols.TreatmentCourse"

    patient = factory.SubFactory(PatientFactory)
    protocol = factory.LazyFunction(standard_protocol)
    modality = factory.LazyAttribute(lambda course: course.protocol.modality)
    start_date = factory.LazyFunction(timezone.localdate)
    created_by = factory.SubFactory(UserFactory)


# --- where treatment happens --------------------------------------------------------------------------


def opening_hours(weekdays: Iterable[int], opens: time, closes: time) -> dict[int, tuple[time, time]]:
    """``{weekday: (opens, closes)}`` for ``LocationFactory(hours=...)``; Monday is 0."""
    return {weekday: (opens, closes) for weekday in weekdays}


MONDAY_TO_SATURDAY_8_TO_6 = opening_hours(range(6), time(8), time(18))
EVERY_DAY_ALL_DAY = opening_hours(range(7), time(0), time(23, 59))


class LocationFactory(factory.django.DjangoModelFactory):
    """A REMS-certified site in New York, open Monday to Saturday 08:00-18:00 unless ``hours`` says otherwise."""

    class Meta:
        model = Location
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Site {n}")
    time_zone = "America/New_York"
    rems_certified = True
    turnover_minutes = 15
    max_in_treatment_per_clinician = 4

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        """``hours={weekday: (opens, closes)}`` (see ``opening_hours``); ``hours={}`` for none."""
        if create:
            hours = MONDAY_TO_SATURDAY_8_TO_6 if extracted is None else extracted
            OpeningHours.objects.bulk_create([OpeningHours(location=self, weekday=weekday, opens=opens, closes=closes)
                                              for weekday, (opens, closes) in hours.items()])


class ClosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Closure

    location = factory.SubFactory(LocationFactory)
    date = date(2026, 3, 4)
    reason = "Staff training"


class ChairFactory(factory.django.DjangoModelFactory):
    """An esketamine chair without an infusion pump."""

    class Meta:
        model = Chair

    location = factory.SubFactory(LocationFactory)
    name = factory.Sequence(lambda n: f"Chair {n + 1}")
    serves_esketamine = True
    has_infusion_pump = False


class ReminderPolicyFactory(factory.django.DjangoModelFactory):
    """A site's texting policy: the model's defaults unless told otherwise."""

    class Meta:
        model = ReminderPolicy

    location = factory.SubFactory(LocationFactory)


# --- sessions --------------------------------------------------------------------------------------------


def _first_course_of(session) -> object:
    """A new course whose session 1 is due on the session's local day, for ``patient`` or a new patient."""
    return TreatmentCourseFactory(patient=session.patient or PatientFactory(), protocol=standard_protocol(session.slug),
                                  start_date=session.chair.location.local_date(session.start))


class SessionFactory(factory.django.DjangoModelFactory):
    """A session booked through ``scheduling.booking.services.book_session``, every rule checked.

    Without ``course``, it is session 1 of a new ``slug`` course (esketamine-trd unless
    told) for ``patient`` or a new patient, starting on ``start``'s local day. ``by`` is
    who books (a new user unless told); ``clinician`` and ``override_reason`` are passed on.
    """

    class Meta:
        model = Session

    class Params:
        patient = None
        slug = "esketamine-trd"

    chair = factory.SubFactory(ChairFactory)
    start = factory.LazyAttribute(
        lambda session: session.chair.location.at(session.chair.location.local_date(timezone.now()) + timedelta(days=1),
                                                  time(9)))
    course = factory.LazyAttribute(_first_course_of)
    by = factory.SubFactory(UserFactory)
    clinician = None
    override_reason = ""

    @classmethod
    def _create(cls, model_class, *, by, course, chair, start, clinician, override_reason):
        return book_session(by=by, course=course, chair=chair, start=start, clinician=clinician,
                            override_reason=override_reason)


class SessionRowFactory(factory.django.DjangoModelFactory):
    """A session saved straight to the table, no booking rule checked: history, no-shows, many rows at once.

    It occupies the chair for the protocol's chair minutes plus the site's turnover from
    ``start`` (09:00 on Tuesday 3 March at the chair's site unless told). ``chair=None`` is
    history recorded on adoption (``recorded_history``), at ``location`` or at none.
    """

    class Meta:
        model = Session

    class Params:
        patient = None
        slug = "esketamine-trd"

    chair = factory.SubFactory(ChairFactory)
    location = factory.LazyAttribute(lambda session: session.chair.location if session.chair else None)
    start = factory.LazyAttribute(lambda session: session.location.at(date(2026, 3, 3), time(9)))
    local_date = factory.LazyAttribute(
        lambda session: session.location.local_date(session.start) if session.location else session.start.date())
    course = factory.LazyAttribute(
        lambda session: TreatmentCourseFactory(patient=session.patient or PatientFactory(),
                                               protocol=standard_protocol(session.slug), start_date=session.local_date))
    end = factory.LazyAttribute(
        lambda session: session.start + timedelta(minutes=session.course.protocol.chair_minutes))
    occupied_until = factory.LazyAttribute(
        lambda session: session.end + timedelta(minutes=session.location.turnover_minutes if session.location else 0))
    status = SessionStatus.BOOKED
    recorded_history = factory.LazyAttribute(lambda session: session.chair is None)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs["patient"] = kwargs["course"].patient
        return super()._create(model_class, *args, **kwargs)


class RemsFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RemsForm

    session = factory.SubFactory(SessionRowFactory, status=SessionStatus.DISCHARGED)


# --- outcome measures --------------------------------------------------------------------------------------

PHQ9_CLEAR = [1, 1, 1, 1, 1, 1, 1, 1, 0]  # total 8, item 9 at 0


class OutcomeMeasureFactory(factory.django.DjangoModelFactory):
    """A completed measure saved directly, scored by ``patients.measures`` (a clear PHQ-9 unless told)."""

    class Meta:
        model = OutcomeMeasure

    class Params:
        scored = factory.LazyAttribute(lambda measure: measures.score(measure.instrument, measure.items))

    patient = factory.SubFactory(PatientFactory)
    instrument = measures.PHQ9
    items = factory.LazyFunction(lambda: list(PHQ9_CLEAR))
    total = factory.LazyAttribute(lambda measure: measure.scored.total)
    band = factory.LazyAttribute(lambda measure: measure.scored.band)
    item9_positive = factory.LazyAttribute(lambda measure: measure.scored.item9_positive)
    taken_at = factory.LazyFunction(timezone.now)
    recorded_by = factory.SubFactory(UserFactory)


# --- texts and the worklist ----------------------------------------------------------------------------------


class TextMessageFactory(factory.django.DjangoModelFactory):
    """A reminder sent to the patient's phone unless told otherwise; reminders and outreach count toward the caps."""

    class Meta:
        model = TextMessage

    patient = factory.SubFactory(PatientFactory)
    direction = Direction.OUTBOUND
    purpose = MessagePurpose.REMINDER
    counts_toward_caps = factory.LazyAttribute(
        lambda message: message.direction == Direction.OUTBOUND
        and message.purpose in (MessagePurpose.REMINDER, MessagePurpose.OUTREACH))
    phone = factory.LazyAttribute(lambda message: message.patient.phone)
    body = "Reminder of your visit"
    at = factory.LazyFunction(timezone.now)


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    """A text the outbox backend stored instead of sending."""

    class Meta:
        model = OutboxMessage

    to = factory.Sequence(lambda n: f"+1212555{1000 + n % 9000:04d}")
    body = "Riverside: hello"
    provider_id = factory.Sequence(lambda n: f"OB{n:030d}")
    created_at = factory.LazyFunction(timezone.now)


class OutreachFactory(factory.django.DjangoModelFactory):
    """A due-visit text waiting to be sent now, for a new course of its patient."""

    class Meta:
        model = Outreach

    patient = factory.SubFactory(PatientFactory)
    course = factory.SubFactory(TreatmentCourseFactory, patient=factory.SelfAttribute("..patient"))
    send_at = factory.LazyFunction(timezone.now)


class WorkItemFactory(factory.django.DjangoModelFactory):
    """An open worklist item of ``kind`` (due, not booked unless told) with the kind's urgency."""

    class Meta:
        model = WorkItem

    kind = WorkKind.DUE_UNBOOKED
    subject = factory.Sequence(lambda n: f"test:{n + 1}")
    urgency = factory.LazyAttribute(lambda item: URGENCY[item.kind])
    patient = factory.SubFactory(PatientFactory)


# --- prior authorisations --------------------------------------------------------------------------------------


class PriorAuthorisationFactory(factory.django.DjangoModelFactory):
    """An approved authorisation of 8 sessions from the course's start for 12 weeks, sent a week before it."""

    class Meta:
        model = "protocols.PriorAuthorisation"

    course = factory.SubFactory(TreatmentCourseFactory)
    payer = "Aetna"
    number = factory.Sequence(lambda n: f"PA-{n:05d}")
    status = "approved"
    units_approved = 8
    first_day = factory.LazyAttribute(lambda authorisation: authorisation.course.start_date)
    last_day = factory.LazyAttribute(lambda authorisation: authorisation.first_day + timedelta(weeks=12))
    submitted_on = factory.LazyAttribute(lambda authorisation: authorisation.course.start_date - timedelta(days=7))
    decided_on = factory.LazyAttribute(lambda authorisation: authorisation.submitted_on + timedelta(days=2))


# --- freed-chair offers ----------------------------------------------------------------------------------------


class OfferFactory(factory.django.DjangoModelFactory):
    """An offer of a freed chair time saved straight to the table, no planning rule checked: 150 minutes from
    ``start`` (09:00 on Tuesday 3 March at the chair's site unless told) to a new esketamine course's patient."""

    class Meta:
        model = Offer

    chair = factory.SubFactory(ChairFactory)
    location = factory.LazyAttribute(lambda offer: offer.chair.location)
    start = factory.LazyAttribute(lambda offer: offer.location.at(date(2026, 3, 3), time(9)))
    end = factory.LazyAttribute(lambda offer: offer.start + timedelta(minutes=150))
    course = factory.SubFactory(TreatmentCourseFactory)
    patient = factory.LazyAttribute(lambda offer: offer.course.patient)
    state = OfferState.PLANNED
