"""Serializer helpers shared by the apps' APIs."""

from __future__ import annotations

import copy

from django.core.exceptions import ImproperlyConfigured
from rest_framework import relations, serializers


class FieldsBuiltOnce:
    """A read-only ``ModelSerializer`` whose fields are worked out once per class, not once per instance.

    DRF builds a model serializer's fields afresh for every instance: it copies
    the declared ones deeply and maps every model field to a serializer field
    again. For a session that was a sixth of a booking's Python time (issue 9's
    profile), for an answer that is the same every time. Here the first
    instance builds them and every later one takes a shallow copy of each,
    which the serializer then binds to itself as usual (a field's parent, name
    and source live on the copy). Only plain read-only fields may be shared
    so: a writable one carries validators and querysets that must not be, and
    a nested serializer or a to-many field holds fields of its own, bound to
    the first instance (a shallow copy would answer through that instance).
    """

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_fields_built_once")
        if built is None:
            built = super().get_fields()
            unshareable = sorted(name for name, field in built.items() if not field.read_only
                                 or isinstance(field, serializers.BaseSerializer | relations.ManyRelatedField))
            if unshareable:
                raise ImproperlyConfigured(f"{cls.__name__}: FieldsBuiltOnce is for plain read-only fields; "
                                           f"not: {', '.join(unshareable)}")
            cls._fields_built_once = built
        return {name: copy.copy(field) for name, field in built.items()}
