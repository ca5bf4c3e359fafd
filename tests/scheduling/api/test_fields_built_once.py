"""A read-only serializer whose fields are built once answers exactly as DRF's own build would."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

from clinic.serializers import FieldsBuiltOnce
from scheduling.api.serializers import SessionSerializer
from scheduling.models import Chair

pytestmark = pytest.mark.django_db


class BuiltEachTime(SessionSerializer):
    """The same serializer with DRF's own ``get_fields``: every instance builds its fields afresh."""

    def get_fields(self):
        return serializers.ModelSerializer.get_fields(self)


def test_the_answer_is_the_one_drf_builds_each_time(esk_session):
    # when
    first, second = SessionSerializer(esk_session).data, SessionSerializer(esk_session).data
    # then
    assert first == second == BuiltEachTime(esk_session).data
    assert first["start_local"] == "2026-03-03T09:00:00-05:00" and first["chair_name"] == esk_session.chair.name


def test_each_instance_has_fields_of_its_own_bound_to_itself(esk_session):
    # when
    one, other = SessionSerializer(esk_session), SessionSerializer(esk_session)
    # then
    assert one.fields["start_local"] is not other.fields["start_local"]
    assert one.fields["start_local"].parent is one and other.fields["start_local"].parent is other
    assert one.fields["patient_name"].source_attrs == ["patient", "display_name"]


def test_a_serializer_with_a_writable_field_is_refused():
    # given
    class Writable(FieldsBuiltOnce, serializers.ModelSerializer):
        class Meta:
            model = Chair
            fields = ["id", "name"]

    # when / then
    with pytest.raises(ImproperlyConfigured, match="not: name"):
        Writable().fields  # noqa: B018 (the fields are built on first access)


def test_a_serializer_with_a_nested_one_is_refused():
    # given: a nested serializer's fields would stay bound to the first instance
    class LocationName(serializers.Serializer):
        name = serializers.CharField()

    class Nested(FieldsBuiltOnce, serializers.ModelSerializer):
        location = LocationName(read_only=True)

        class Meta:
            model = Chair
            fields = ["id", "location"]
            read_only_fields = fields

    # when / then
    with pytest.raises(ImproperlyConfigured, match="not: location"):
        Nested().fields  # noqa: B018
