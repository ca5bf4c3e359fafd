"""Rows built by hand (``clinic.rows``) behave as the ORM's, and so does the API token read built on them.

``clinic.rows`` is the one module that uses Django's private API; these tests hold each of its helpers
to what the ORM does in its place, so a Django upgrade that changes the internals fails here first.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework import exceptions
from rest_framework.authtoken.models import Token

from clinic.roles import CLINICIAN, FRONT_DESK, roles_of
from clinic.rows import attach_prefetched, attach_related, builder
from clinic.token_auth import TokenWithRolesAuthentication
from patients.models import Patient
from protocols.models import Phase, Protocol
from scheduling.models import Chair, Location, ReminderPolicy
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def columns(instance) -> dict[str, tuple[type, object]]:
    """Every concrete column of ``instance`` by attname, with its type."""
    return {field.attname: (type(value := getattr(instance, field.attname)), value)
            for field in instance._meta.concrete_fields}


@pytest.fixture
def location(db):
    return Location.objects.create(name="Midtown", time_zone="America/New_York")


# --- attach_prefetched, attach_related ---------------------------------------------------------------


def test_attached_rows_answer_all_without_a_query_as_prefetch_related_leaves_them(django_assert_num_queries):
    # given a protocol read alone, and its phases read apart
    protocol = Protocol.objects.get(slug="esketamine-trd")
    phases = list(Phase.objects.filter(protocol=protocol).order_by("order"))
    # when
    attach_prefetched(protocol, "phases", phases)
    # then
    with django_assert_num_queries(0):
        attached = list(protocol.phases.all())
    prefetched = list(Protocol.objects.prefetch_related("phases").get(pk=protocol.pk).phases.all())
    assert attached == phases and [phase.pk for phase in attached] == [phase.pk for phase in prefetched]


def test_a_filtered_manager_of_attached_rows_still_reads_the_database(django_assert_num_queries):
    # given
    protocol = Protocol.objects.get(slug="esketamine-trd")
    attach_prefetched(protocol, "phases", [])
    # when / then
    with django_assert_num_queries(1):
        found = list(protocol.phases.filter(order=1))
    assert [phase.order for phase in found] == [1]


def test_an_attached_foreign_key_answers_without_a_query(location, django_assert_num_queries):
    # given a chair read alone
    chair = Chair.objects.get(pk=Chair.objects.create(location=location, name="Chair 1").pk)
    # when
    attach_related(chair, "location", location)
    # then
    with django_assert_num_queries(0):
        assert chair.location is location


def test_an_attached_missing_reverse_one_to_one_raises_as_select_related_leaves_it(location,
                                                                                   django_assert_num_queries):
    # given a site without a reminder policy, read alone
    site = Location.objects.get(pk=location.pk)
    # when
    attach_related(site, "reminder_policy", None)
    # then it raises without a query, as the ORM's reading does
    with django_assert_num_queries(0), pytest.raises(ReminderPolicy.DoesNotExist):
        _ = site.reminder_policy
    with pytest.raises(ReminderPolicy.DoesNotExist):
        _ = Location.objects.select_related("reminder_policy").get(pk=location.pk).reminder_policy


# --- builder -----------------------------------------------------------------------------------------


def test_a_row_built_from_some_columns_defers_the_others_as_only_does(django_assert_num_queries):
    # given
    patient = PatientFactory(preferred_name="Lex")
    names = ("id", "phone", "archived_at")
    # when
    built = builder(Patient, names)(Patient.objects.filter(pk=patient.pk).values_list(*names).get())
    # then
    read = Patient.objects.only(*names).get(pk=patient.pk)
    assert built.get_deferred_fields() == read.get_deferred_fields() != set()
    assert {name: getattr(built, name) for name in names} == {name: getattr(read, name) for name in names}
    # and a deferred column is read when asked for, as the ORM reads it
    with django_assert_num_queries(1):
        assert built.preferred_name == "Lex"


# --- the API token, read with its user and roles in one statement -----------------------------------


def test_a_token_is_read_with_its_user_and_roles_as_the_orm_reads_them(django_assert_num_queries):
    # given a clinician who also works the desk, and a token
    token = Token.objects.create(user=UserFactory(roles=[CLINICIAN, FRONT_DESK]))
    read = Token.objects.select_related("user").get(key=token.key)
    # when
    with django_assert_num_queries(1):
        user, built = TokenWithRolesAuthentication().authenticate_credentials(token.key)
        roles = roles_of(user)
    # then
    assert columns(built) == columns(read)
    assert columns(user) == columns(read.user)
    assert built.user is user
    assert roles == roles_of(get_user_model().objects.get(pk=user.pk)) == {CLINICIAN, FRONT_DESK}


def test_a_token_of_an_inactive_user_or_no_token_is_refused():
    # given
    token = Token.objects.create(user=UserFactory(is_active=False))
    # when / then
    with pytest.raises(exceptions.AuthenticationFailed, match="inactive"):
        TokenWithRolesAuthentication().authenticate_credentials(token.key)
    with pytest.raises(exceptions.AuthenticationFailed, match="Invalid token"):
        TokenWithRolesAuthentication().authenticate_credentials("0" * 40)
