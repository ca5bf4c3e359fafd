"""The database's check constraints, as validation that names the field.

A check constraint is the last guarantee; a request that breaks one must still
get a 400 with the field named, never a 500. Two layers do that for every
model without a rule written twice:

- ``constraint_errors(instance)`` runs each check constraint of the instance's
  model against its values (Django's ``Constraint.validate``) and answers
  ``{field: [message]}``, the fields being those the constraint's condition
  names; writable API serializers call it (``clinic.serializers.ConstraintsChecked``)
  and the admin's model forms get the same through ``full_clean``.
- ``errors_for_violation(error)`` turns an ``IntegrityError`` for a check
  constraint that slipped past (a write path without a serializer) into the
  same answer, by the constraint's name.

A model may give a constraint a message in the clinic's words with a class
attribute ``constraint_messages = {name: message}``; otherwise the message says
which rule the value breaks.
"""

from __future__ import annotations

from functools import cache

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models
from django.db.models import CheckConstraint, F, Q

NON_FIELD = "non_field_errors"


def _names_in(node) -> set[str]:
    """Field names a Q condition (or an expression inside it) refers to."""
    found: set[str] = set()
    if isinstance(node, Q):
        for child in node.children:
            found |= _names_in(child)
    elif isinstance(node, tuple) and len(node) == 2:
        lookup, value = node
        found.add(lookup.split("__")[0])
        found |= _names_in(value)
    elif isinstance(node, F):
        found.add(node.name.split("__")[0])
    elif hasattr(node, "get_source_expressions"):
        for source in node.get_source_expressions():
            found |= _names_in(source)
    return found


def condition_fields(model: type[models.Model], constraint: CheckConstraint) -> list[str]:
    """The model's concrete fields the constraint's condition names, in the model's order."""
    named = _names_in(constraint.condition)
    return [field.name for field in model._meta.concrete_fields if field.name in named or field.attname in named]


def message_for(model: type[models.Model], constraint: CheckConstraint) -> str:
    custom = getattr(model, "constraint_messages", {}).get(constraint.name)
    if custom:
        return custom
    rule = constraint.name.replace("_", " ")
    return f"This value breaks the rule “{rule}”."


def check_constraints(model: type[models.Model]) -> list[CheckConstraint]:
    return [constraint for constraint in model._meta.constraints if isinstance(constraint, CheckConstraint)]


def constraint_errors(instance: models.Model) -> dict[str, list[str]]:
    """``{field: [message]}`` for each check constraint the unsaved values of ``instance`` break."""
    model = type(instance)
    errors: dict[str, list[str]] = {}
    for constraint in check_constraints(model):
        try:
            constraint.validate(model, instance)
        except ValidationError:
            message = message_for(model, constraint)
            for name in condition_fields(model, constraint) or [NON_FIELD]:
                errors.setdefault(name, []).append(message)
    return errors


@cache
def _by_name() -> dict[str, tuple[type[models.Model], CheckConstraint]]:
    return {constraint.name: (model, constraint) for model in apps.get_models()
            for constraint in check_constraints(model)}


def errors_for_violation(error: IntegrityError) -> dict[str, list[str]] | None:
    """``{field: [message]}`` for an IntegrityError raised by one of the project's check constraints, else None."""
    name = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    if name is None or name not in _by_name():
        return None
    model, constraint = _by_name()[name]
    message = message_for(model, constraint)
    return {field: [message] for field in condition_fields(model, constraint) or [NON_FIELD]}
