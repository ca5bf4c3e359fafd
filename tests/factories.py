"""factory-boy factories for the models under test."""

from __future__ import annotations

from datetime import date

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from patients.models import Diagnosis, Patient


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


def standard_protocol(slug: str = "esketamine-trd"):
    """One of the four protocols the data migration installs."""
    from protocols.models import Protocol

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
