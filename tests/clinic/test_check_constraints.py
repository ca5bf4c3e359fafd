"""Every check constraint in the database has validation in front of it that answers 400 and names the field.

A check constraint is the last guarantee, never the message a user sees: a
value it would refuse is refused first with the field named, and a write path
that forgot to validate still gets a 400 from the API's error handler.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from clinic.constraints import check_constraints, condition_fields, constraint_errors, errors_for_violation
from clinic.errors import api_exception_handler
from scheduling.models import Location
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

CONSTRAINTS = [(model, constraint) for model in apps.get_models() for constraint in check_constraints(model)]


def test_the_walk_finds_the_constraints_of_every_app():
    apps_with_constraints = {model._meta.app_label for model, _ in CONSTRAINTS}
    assert {"patients", "protocols", "scheduling"} <= apps_with_constraints


@pytest.mark.parametrize(("model", "constraint"), CONSTRAINTS, ids=[c.name for _, c in CONSTRAINTS])
def test_each_check_constraint_names_the_fields_its_refusal_is_about(model, constraint):
    assert condition_fields(model, constraint), f"{constraint.name} names no field of {model.__name__}"


@pytest.mark.parametrize(("model", "constraint"), CONSTRAINTS, ids=[c.name for _, c in CONSTRAINTS])
def test_each_check_constraint_refused_by_the_database_becomes_a_field_error(model, constraint):
    # given PostgreSQL reporting a violation of this constraint, as it would for a row that breaks it
    # (raised by name: one statement for every constraint, inside a savepoint so the test goes on)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "DO $$ BEGIN RAISE check_violation USING CONSTRAINT = %s, TABLE = %s; END $$",
                [constraint.name, model._meta.db_table],
            )
    # then the API's translation names the constraint's fields
    fields = errors_for_violation(refused.value)
    assert fields is not None
    assert set(fields) == set(condition_fields(model, constraint))


def test_constraint_errors_names_the_field_of_an_unsaved_value():
    location = Location(name="North", time_zone="America/New_York", max_in_treatment_per_clinician=0)
    assert constraint_errors(location) == {
        "max_in_treatment_per_clinician": ["A clinician can look after at least 1 patient at once."]}


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_location_with_a_capacity_of_zero_is_a_400_naming_the_field(manager_api, method, site):
    # given
    location = site
    body = {"name": "North", "time_zone": "America/New_York", "max_in_treatment_per_clinician": 0}
    # when
    response = getattr(manager_api, method)(f"/api/locations/{location.pk}/", body, format="json")
    # then
    assert response.status_code == 400, response.content
    assert "max_in_treatment_per_clinician" in response.json()["fields"]
    location.refresh_from_db()
    assert location.max_in_treatment_per_clinician == 4


def test_a_check_violation_that_reaches_the_api_handler_is_a_400_naming_the_field(site):
    # given a write that went around every validation and was refused by the database
    location = site
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Location.objects.filter(pk=location.pk).update(max_in_treatment_per_clinician=0)
    # when the API's error handler answers for it
    response = api_exception_handler(refused.value, {"view": None})
    # then
    assert response.status_code == 400
    assert response.data["fields"] == {
        "max_in_treatment_per_clinician": ["A clinician can look after at least 1 patient at once."]}


def test_a_patient_without_a_name_is_a_400_naming_the_field(desk_api):
    patient = PatientFactory()
    response = desk_api.patch(f"/api/patients/{patient.pk}/", {"first_name": ""}, format="json")
    assert response.status_code == 400
    assert "first_name" in response.json()["fields"]
