"""A location's name goes into texts ({location}), so one naming a treatment or diagnosis is refused
when saved: through the API (400 naming the field), the admin (a form error) and the model's clean();
a reminder template too. CLINIC_NAME is checked at start-up (tests/clinic/test_settings_from_environment.py).
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from clinic.texts import clinic_name_names_no_treatment
from scheduling.models import Location, ReminderPolicy
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_SITE = {"name": "Lakeview", "time_zone": "America/Chicago", "address": "1 Lake St", "phone": "+13125550100",
            "rems_certified": True, "turnover_minutes": 20, "max_in_treatment_per_clinician": 3}
REFUSED_NAMES = ["Ketamine Care Midtown", "ESKETAMINE Center", "Spravato Suite", "Infusion Lounge",
                 "Depression Recovery Midtown"]


def admin_form(model, data: dict, instance=None):
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(username="root", is_staff=True, is_superuser=True)
    form_class = admin.site._registry[model].get_form(request, obj=instance)
    return form_class(data=data, instance=instance)


# --- the API ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REFUSED_NAMES)
def test_the_api_refuses_a_new_location_whose_name_names_a_treatment(manager_api, name):
    # when
    response = manager_api.post("/api/locations/", {**NEW_SITE, "name": name}, format="json")
    # then
    assert response.status_code == 400, response.json()
    assert list(response.json()["fields"]) == ["name"]
    assert "treatment or diagnosis" in response.json()["fields"]["name"][0]
    assert not Location.objects.exists()


def test_the_api_refuses_renaming_a_location_to_a_name_that_names_a_treatment(manager_api, site):
    # when
    response = manager_api.patch(f"/api/locations/{site.pk}/", {"name": "Ketamine Care Midtown"}, format="json")
    # then
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["name"]
    site.refresh_from_db()
    assert site.name == "Midtown"


def test_the_api_still_accepts_a_plain_name(manager_api):
    response = manager_api.post("/api/locations/", {**NEW_SITE, "name": "Riverside Midtown"}, format="json")
    assert response.status_code == 201, response.json()


# --- the model and the admin --------------------------------------------------------------------------


def test_the_models_clean_refuses_a_name_that_names_a_treatment(site):
    # given
    site.name = "Ketamine Care Midtown"
    # when
    with pytest.raises(ValidationError) as refused:
        site.full_clean()
    # then
    assert list(refused.value.message_dict) == ["name"]


def test_the_models_clean_names_both_fields_when_both_are_wrong(site):
    site.name, site.time_zone = "Spravato Suite", "Eastern"
    with pytest.raises(ValidationError) as refused:
        site.full_clean()
    assert set(refused.value.message_dict) == {"name", "time_zone"}


def test_the_admin_refuses_a_location_name_that_names_a_treatment(db):
    # when
    form = admin_form(Location, {**NEW_SITE, "name": "Ketamine Care Midtown"})
    # then
    assert not form.is_valid()
    assert list(form.errors) == ["name"]


def test_the_admin_accepts_a_plain_location_name(db):
    form = admin_form(Location, {**NEW_SITE, "name": "Riverside Midtown"})
    assert form.is_valid(), form.errors


@pytest.mark.parametrize("field", ["day_before_template", "same_day_template", "outreach_template"])
def test_the_admin_refuses_a_reminder_template_that_names_a_treatment(site, field):
    # given the site's defaults, with one template naming a treatment
    policy = ReminderPolicy(location=site)
    data = {name: getattr(policy, name) for name in (
        "day_before_enabled", "day_before_at", "same_day_enabled", "same_day_hours_before", "quiet_from",
        "quiet_until", "daily_cap", "weekly_cap", "min_lead_minutes", "day_before_template", "same_day_template",
        "outreach_template")}
    data |= {"location": site.pk, field: "{clinic}: your Infusion is at {time}."}
    # when
    form = admin_form(ReminderPolicy, data)
    # then
    assert not form.is_valid()
    assert list(form.errors) == [field]


def test_the_model_refuses_a_reminder_template_that_names_a_treatment(site):
    policy = ReminderPolicy(location=site, same_day_template="See you at {location} for your ketamine session.")
    with pytest.raises(ValidationError) as refused:
        policy.full_clean()
    assert list(refused.value.message_dict) == ["same_day_template"]


# --- CLINIC_NAME --------------------------------------------------------------------------------------


def test_a_clinic_name_that_names_a_treatment_fails_the_system_check(settings):
    settings.CLINIC_NAME = "Midtown Ketamine Clinic"
    [error] = clinic_name_names_no_treatment()
    assert (error.id, error.is_serious()) == ("clinic.E001", True)
    assert "CLINIC_NAME" in error.msg and "ketamine" in error.msg


def test_a_plain_clinic_name_passes_the_system_check(settings):
    settings.CLINIC_NAME = "Riverside Wellness Clinic"
    assert clinic_name_names_no_treatment() == []
