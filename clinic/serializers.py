"""Serializer helpers shared by the apps' APIs."""

from __future__ import annotations

import copy

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from rest_framework import relations, serializers

from clinic.constraints import constraint_errors


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


class ConstraintsChecked:
    """A writable ``ModelSerializer`` that checks the model's check constraints before saving.

    DRF does not run a model's ``full_clean``, so a value the database's check
    constraint refuses would otherwise reach the INSERT or UPDATE and fail
    there (a 500). The constraints run on the values the save would write (the
    instance's, overlaid with the request's) and answer 400 naming the field
    under the serializer's own name for it.
    """

    def run_validation(self, data=serializers.empty):
        # After the serializer's own field and object checks, whose messages are more precise where they
        # overlap a constraint; the constraints are what is left.
        attrs = super().run_validation(data)
        model = self.Meta.model
        instance = copy.copy(self.instance) if self.instance is not None else model()
        for name, value in attrs.items():
            field = _model_field(model, name)
            if field is not None and not field.many_to_many:
                setattr(instance, field.attname if field.is_relation and not isinstance(value, models.Model)
                        else field.name, value)
        errors = constraint_errors(instance)
        if errors:
            by_source = {field.source: name for name, field in self.fields.items()}
            raise serializers.ValidationError({by_source.get(name, name): messages
                                               for name, messages in errors.items()})
        return attrs


def _model_field(model, name: str):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
