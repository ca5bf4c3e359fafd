"""Patient records: identity, contact, SMS consent, diagnosis, screening, medicines, REMS enrolment."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils import timezone

from clinic.errors import Conflict, Invalid
from clinic.phones import InvalidPhone, for_display, to_e164
from patients import measures


class Diagnosis(models.TextChoices):
    MDD = "mdd", "Major depressive disorder"
    MDD_SI = "mdd_si", "MDD with acute suicidal ideation"
    BIPOLAR = "bipolar", "Bipolar depression"
    PTSD = "ptsd", "PTSD"
    OTHER = "other", "Other"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Not recorded"


class ConsentMethod(models.TextChoices):
    VERBAL = "verbal", "Verbal, recorded by staff"
    WRITTEN = "written", "Signed form"
    ELECTRONIC = "electronic", "Electronic form"
    TEXT_REPLY = "text_reply", "Replied START by text"


# Only for consents recorded before a method was required (migration 0007), never chosen anew; kept out of
# ConsentMethod so that nothing offering "a method" (forms, demo data) offers this one.
CONSENT_NOT_RECORDED = "not_recorded"
CONSENT_METHOD_CHOICES = [*ConsentMethod.choices,
                          (CONSENT_NOT_RECORDED, "Not recorded: consent given before the method was asked")]


# Screening items of docs/DOMAIN.md "Eligibility". The eligibility rules read them by
# these names, so renaming one is a change to the rules too.
SCREENING_FIELDS = (
    "aneurysmal_vascular_disease",
    "arteriovenous_malformation",
    "intracerebral_hemorrhage_history",
    "ketamine_hypersensitivity",
    "pregnant",
    "breastfeeding",
    "uncontrolled_hypertension",
    "psychosis_or_mania_history",
    "active_substance_use",
    "raised_intracranial_pressure",
    "uncontrolled_seizures",
)

# Concomitant medicines the REMS monitoring form asks about.
MEDICINE_FIELDS = (
    "takes_benzodiazepines",
    "takes_sedative_hypnotics",
    "takes_psychostimulants",
    "takes_maois",
    "takes_opioids",
)


class MedicineAnswer(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    NOT_ASKED = "not_asked", "Not asked"  # the REMS form is incomplete until someone asks


CONSENT_METHOD_NEEDED = "Record how the patient gave consent to text messages."


class PatientQuerySet(models.QuerySet):
    def current(self) -> PatientQuerySet:
        """Patients not archived."""
        return self.filter(archived_at__isnull=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Patient(models.Model):
    mrn = models.CharField(
        "MRN", max_length=32, unique=True, help_text="Medical record number; generated when not given."
    )
    # blank=True: clean() gives the clinic's own "is required" message; the
    # database constraint patient_has_name still refuses an empty name.
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +15555550123")
    email = models.EmailField(blank=True)

    sms_consent = models.BooleanField(default=False)
    sms_consent_at = models.DateTimeField(null=True, blank=True)
    sms_consent_method = models.CharField(max_length=20, choices=CONSENT_METHOD_CHOICES, blank=True)
    # Set by a STOP reply and cleared by START; never edited by staff, because an
    # opt-out is the patient's own instruction and the law says it holds.
    sms_opted_out_at = models.DateTimeField(null=True, blank=True, editable=False)

    diagnosis = models.CharField(max_length=10, choices=Diagnosis.choices, default=Diagnosis.MDD)

    aneurysmal_vascular_disease = models.BooleanField(default=False)
    arteriovenous_malformation = models.BooleanField(default=False)
    intracerebral_hemorrhage_history = models.BooleanField("history of intracerebral haemorrhage", default=False)
    ketamine_hypersensitivity = models.BooleanField("hypersensitivity to esketamine or ketamine", default=False)
    pregnant = models.BooleanField(default=False)
    breastfeeding = models.BooleanField(default=False)
    uncontrolled_hypertension = models.BooleanField(default=False)
    psychosis_or_mania_history = models.BooleanField("history of psychosis or mania", default=False)
    active_substance_use = models.BooleanField(default=False)
    raised_intracranial_pressure = models.BooleanField(default=False)
    uncontrolled_seizures = models.BooleanField(default=False)

    # Yes / no / not asked: a "no" is an answer, and the REMS form must not confuse it with a question never put.
    takes_benzodiazepines = models.CharField(max_length=10, choices=MedicineAnswer.choices,
                                             default=MedicineAnswer.NOT_ASKED)
    takes_sedative_hypnotics = models.CharField("takes non-benzodiazepine sedative hypnotics", max_length=10,
                                                choices=MedicineAnswer.choices, default=MedicineAnswer.NOT_ASKED)
    takes_psychostimulants = models.CharField(max_length=10, choices=MedicineAnswer.choices,
                                              default=MedicineAnswer.NOT_ASKED)
    takes_maois = models.CharField("takes MAOIs", max_length=10, choices=MedicineAnswer.choices,
                                   default=MedicineAnswer.NOT_ASKED)
    takes_opioids = models.CharField(max_length=10, choices=MedicineAnswer.choices, default=MedicineAnswer.NOT_ASKED)

    rems_enrolled_on = models.DateField("REMS enrolment date", null=True, blank=True)
    rems_patient_id = models.CharField("REMS patient ID", max_length=40, blank=True)

    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_phone = models.CharField(max_length=20, blank=True)
    notes = models.TextField(blank=True)

    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )

    objects = PatientQuerySet.as_manager()
    constraint_messages = {"patient_consent_has_method": CONSENT_METHOD_NEEDED}

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            # Search as you type matches part of a name; a trigram index keeps that fast at any size.
            GinIndex(
                OpClass(Lower("last_name"), name="gin_trgm_ops"),
                OpClass(Lower("first_name"), name="gin_trgm_ops"),
                name="patient_name_trgm",
            ),
            # An MRN typed whole or by its start: pattern order, so a prefix is a range of the index
            # (a trigram index only narrows it down, and rechecked a thousand rows for "B00001").
            models.Index(OpClass(Upper("mrn"), name="text_pattern_ops"), name="patient_mrn_prefix"),
            # The rest of the search (preferred name, phone digits), so no arm of it falls back to
            # reading every record.
            GinIndex(OpClass(Upper("preferred_name"), name="gin_trgm_ops"), name="patient_preferred_trgm"),
            GinIndex(OpClass("phone", name="gin_trgm_ops"), name="patient_phone_trgm"),
            models.Index(fields=["phone"], name="patient_phone"),
            models.Index(Lower("last_name"), Lower("first_name"), "date_of_birth", name="patient_identity"),
            # Search by date of birth alone ("Mar 4, 1985" or "1985-03-04").
            models.Index(fields=["date_of_birth"], name="patient_date_of_birth"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(first_name="") & ~models.Q(last_name=""), name="patient_has_name"
            ),
            # Consent to texts is only as good as the record of how it was given.
            models.CheckConstraint(
                condition=models.Q(sms_consent=False) | ~models.Q(sms_consent_method=""),
                name="patient_consent_has_method",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.mrn})"

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.first_name
        return f"{first} {self.last_name}"

    @property
    def phone_display(self) -> str:
        """The mobile number as a desk dials it: ``(312) 555-2000`` (the country code only when foreign)."""
        return for_display(self.phone)

    @property
    def emergency_contact_phone_display(self) -> str:
        return for_display(self.emergency_contact_phone)

    @property
    def initials(self) -> str:
        return f"{self.first_name[:1]}{self.last_name[:1]}".upper()

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def is_rems_enrolled(self) -> bool:
        return self.rems_enrolled_on is not None and bool(self.rems_patient_id)

    @property
    def can_receive_texts(self) -> bool:
        """True when a reminder may go out: consent recorded, not opted out, a phone on file."""
        return self.sms_consent and self.sms_opted_out_at is None and bool(self.phone)

    def clean(self) -> None:
        """The rules every write of a patient obeys, API and web page alike."""
        errors: dict[str, list[str]] = {}
        self.first_name = (self.first_name or "").strip()
        self.last_name = (self.last_name or "").strip()
        self.preferred_name = (self.preferred_name or "").strip()
        if not self.first_name:
            errors.setdefault("first_name", []).append("First name is required.")
        if not self.last_name:
            errors.setdefault("last_name", []).append("Last name is required.")
        today = timezone.localdate()
        if self.date_of_birth:
            if self.date_of_birth > today:
                errors.setdefault("date_of_birth", []).append("Date of birth cannot be in the future.")
            elif self.age_on(today) < settings.MIN_PATIENT_AGE:
                errors.setdefault("date_of_birth", []).append(
                    f"The patient must be at least {settings.MIN_PATIENT_AGE} years old."
                )
        for field in ("phone", "emergency_contact_phone"):
            try:
                setattr(self, field, to_e164(getattr(self, field)))
            except InvalidPhone as exc:
                errors.setdefault(field, []).append(str(exc))
        if self.sms_consent and not self.phone and "phone" not in errors:
            errors.setdefault("phone", []).append("A mobile number is needed to record text-message consent.")
        if self.sms_consent and not self.sms_consent_method:
            errors.setdefault("sms_consent_method", []).append(CONSENT_METHOD_NEEDED)
        if self.sms_consent and self.sms_consent_at is None:
            self.sms_consent_at = timezone.now()
        if bool(self.rems_enrolled_on) != bool(self.rems_patient_id):
            errors.setdefault("rems_patient_id", []).append(
                "REMS enrolment needs both the enrolment date and the REMS patient ID."
            )
        if self.rems_enrolled_on and self.rems_enrolled_on > today:
            errors.setdefault("rems_enrolled_on", []).append("The REMS enrolment date cannot be in the future.")
        if errors:
            raise ValidationError(errors)

    def findings_in_words(self) -> list[str]:
        """The screening items present and the medicines taken, then the medicines nobody has asked about."""
        present = [self._meta.get_field(name).verbose_name.capitalize() for name in SCREENING_FIELDS
                   if getattr(self, name)]
        present += [self._meta.get_field(name).verbose_name.capitalize() for name in MEDICINE_FIELDS
                    if getattr(self, name) == MedicineAnswer.YES]
        not_asked = [self._meta.get_field(name).verbose_name.removeprefix("takes ") for name in MEDICINE_FIELDS
                     if getattr(self, name) == MedicineAnswer.NOT_ASKED]
        if not_asked:
            present.append("Not asked yet (REMS form): " + ", ".join(not_asked))
        return present

    def screening(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in SCREENING_FIELDS}

    @property
    def age_today(self) -> int:
        """Age on today's date in the current time zone (pages draw a patient in their home location's)."""
        return self.age_on(timezone.localdate())

    def age_on(self, day) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def archive(self, *, by) -> None:
        """Mark the record archived (records are never deleted); archiving twice keeps the first date."""
        if self.archived_at is None:
            self.archived_at = timezone.now()
            self.archived_by = by
            self.save(update_fields=["archived_at", "archived_by", "updated_at"])


class PatientAccess(models.Model):
    """One row per opening of a patient's record: who, when, and through which door."""

    class Channel(models.TextChoices):
        API = "api", "API"
        WEB = "web", "Web page"
        EXPORT = "export", "Export"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    path = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "access log entry"
        verbose_name_plural = "access log entries"
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["patient", "-at"], name="access_patient_at"),
            models.Index(fields=["user", "-at"], name="access_user_at"),
            # The whole log newest first (the access log page, unfiltered) and the days the
            # unusual-access check looks back over, without reading the table.
            models.Index(fields=["-at", "-id"], name="access_at"),
        ]

    def __str__(self) -> str:
        return f"{self.user} opened {self.patient_id} at {self.at:%Y-%m-%d %H:%M}"


class Instrument(models.TextChoices):
    PHQ9 = measures.PHQ9, "PHQ-9"  # patient-rated depression, 9 items 0-3
    GAD7 = measures.GAD7, "GAD-7"  # patient-rated anxiety, 7 items 0-3
    MADRS = measures.MADRS, "MADRS"  # clinician-rated depression, 10 items 0-6


class OutcomeMeasureQuerySet(models.QuerySet):
    def open_item9_alerts(self) -> OutcomeMeasureQuerySet:
        """PHQ-9s with item 9 above 0 that no clinician has acknowledged yet."""
        return self.filter(item9_positive=True, alert_acknowledged_at__isnull=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class OutcomeMeasure(models.Model):
    """One completed PHQ-9, GAD-7 or MADRS: the answers as given, scored by ``patients.measures``.

    The link to the session it was taken at lives in scheduling (patients know
    nothing of sessions); a measure given between visits has no link.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="outcome_measures")
    instrument = models.CharField(max_length=10, choices=Instrument.choices)
    items = ArrayField(models.PositiveSmallIntegerField(), help_text="The answers in form order.")
    # Stored, not computed on read, so lists, charts and course outcomes sort and filter in SQL.
    total = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=20, choices=list(measures.BAND_LABELS.items()))
    taken_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    item9_positive = models.BooleanField(
        default=False, help_text="PHQ-9 item 9 above 0: a clinician must assess suicide risk before dosing."
    )
    alert_acknowledged_at = models.DateTimeField(null=True, blank=True)
    alert_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    alert_note = models.TextField(blank=True, help_text="The clinician's suicide-risk assessment.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OutcomeMeasureQuerySet.as_manager()

    class Meta:
        ordering = ["taken_at", "id"]
        indexes = [
            models.Index(fields=["patient", "instrument", "taken_at"], name="measure_patient_instr_taken"),
            # Checked before every dose: small, because almost every row is outside it.
            models.Index(
                fields=["patient"], condition=models.Q(item9_positive=True, alert_acknowledged_at__isnull=True),
                name="measure_open_item9_alert",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(item9_positive=False) | models.Q(instrument=measures.PHQ9),
                name="measure_item9_alert_only_on_phq9",
            ),
            # An acknowledgement is whole (when, who, the assessment) and only of a raised alert.
            models.CheckConstraint(
                condition=models.Q(alert_acknowledged_at__isnull=True, alert_acknowledged_by__isnull=True,
                                   alert_note="")
                | (models.Q(item9_positive=True, alert_acknowledged_at__isnull=False,
                            alert_acknowledged_by__isnull=False) & ~models.Q(alert_note="")),
                name="measure_alert_acknowledgement_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} {self.total} for patient {self.patient_id} on {self.taken_at:%Y-%m-%d}"

    @property
    def alert_open(self) -> bool:
        """True while an item-9 alert waits for a clinician's acknowledgement."""
        return self.item9_positive and self.alert_acknowledged_at is None

    @property
    def alerts(self) -> list[str]:
        """The alerts this measure raised (acknowledged or not), e.g. ``["item9_positive"]``."""
        return ["item9_positive"] if self.item9_positive else []

    def acknowledge_alert(self, *, by, note: str, now=None) -> None:
        """Record a clinician's suicide-risk assessment of the item-9 alert (not saved).

        Refuses with 409 ``invalid_state`` when the measure raised no alert or
        it is already acknowledged (the first assessment stands; a later one is
        a new note, not an overwrite), and with 400 when ``note`` is blank.
        The caller checks the role and saves.
        """
        if not self.item9_positive:
            raise Conflict("This measure raised no item-9 alert.", code="invalid_state",
                           extra={"alert": "none"})
        if self.alert_acknowledged_at is not None:
            raise Conflict("This item-9 alert is already acknowledged.", code="invalid_state",
                           extra={"alert": "acknowledged"})
        note = (note or "").strip()
        if not note:
            raise Invalid("Record the suicide-risk assessment.", fields={"note": ["A note is required."]})
        self.alert_acknowledged_at = now or timezone.now()
        self.alert_acknowledged_by = by
        self.alert_note = note
