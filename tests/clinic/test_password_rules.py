"""Staff passwords: at least 12 characters, not a common password, not all digits, not like the user's name."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from scheduling.demo.users import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("password, code", [
    ("short-pass1", "password_too_short"),  # 11 characters
    ("password1234", "password_too_common"),
    ("739204816352", "password_entirely_numeric"),
    ("margaret.okafor", "password_too_similar"),
])
def test_a_weak_password_is_refused_with_the_reason(password, code):
    user = get_user_model()(username="mokafor", first_name="Margaret", last_name="Okafor",
                            email="margaret.okafor@example.org")
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    assert code in {error.code for error in refused.value.error_list}


@pytest.mark.parametrize("password", ["violet-harbour-42", DEMO_PASSWORD])
def test_a_long_uncommon_password_is_accepted(password):
    validate_password(password, get_user_model()(username="mokafor", first_name="Margaret", last_name="Okafor"))


def test_a_manager_adding_staff_in_the_admin_meets_the_same_rules():
    form = AdminUserCreationForm(data={"username": "newdesk", "password1": "desk12345", "password2": "desk12345",
                                       "usable_password": "true"})
    assert not form.is_valid()
    assert "password2" in form.errors
    assert any("at least 12 characters" in message for message in form.errors["password2"])
