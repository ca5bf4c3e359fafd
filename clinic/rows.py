"""Model instances from hand-written SQL, for the few hot paths written in SQL rather than the ORM.

Building a queryset costs more Python than the database takes to answer it
(issue 9's profile of a booking: two thirds of its time went to composing and
compiling SQL). A hot path can instead write its statement once, select each
model's columns with ``columns`` and turn each group of values back into an
instance with ``RowModel.build``, exactly as the ORM's ``from_db`` would.

This is the one module that touches Django's private API (``Model.__new__`` with
``ModelState``, the related-object caches, a queryset's result cache): a Django
upgrade is checked here, and each place says what it mirrors. Checked against
Django 5.2. The contract tests (tests/scheduling/booking/test_fast_reads_contract.py,
tests/clinic/test_rows.py) hold every statement built on it equal to its ORM twin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache, cached_property

from django.db import connection, models
from django.db.models import signals
from django.db.models.base import ModelState


def literals(values) -> str:
    """``('a', 'b')`` of code constants (choice values), written into a statement's text so that partial
    indexes whose condition names them still apply."""
    for value in values:
        if not str(value).isidentifier():
            raise ValueError(f"not a plain constant: {value!r}")
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


def columns(alias: str, names: Sequence[str]) -> str:
    """``alias."name", ...`` for a SELECT list."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(name)}" for name in names)


class RowModel:
    """One model's concrete columns in a hand-written SELECT, and the instance built from their values."""

    def __init__(self, model: type[models.Model]):
        self.model = model

    @staticmethod
    @cache
    def of(model: type[models.Model]) -> RowModel:
        """The one ``RowModel`` of ``model`` (its column lists and converters are worked out once)."""
        return RowModel(model)

    @cached_property
    def _fields(self) -> list[models.Field]:
        return list(self.model._meta.concrete_fields)

    @cached_property
    def _attnames(self) -> list[str]:
        return [field.attname for field in self._fields]

    @cached_property
    def _pk_position(self) -> int:
        return self._fields.index(self.model._meta.pk)

    @cached_property
    def _converters(self) -> list[tuple[int, list]]:
        """(position, converters) of the columns whose database value needs converting (JSON, for example)."""
        found = []
        for position, field in enumerate(self._fields):
            expression = field.get_col(self.model._meta.db_table)
            converters = connection.ops.get_db_converters(expression) + field.get_db_converters(connection)
            if converters:
                found.append((position, [(converter, expression) for converter in converters]))
        return found

    @property
    def width(self) -> int:
        return len(self._fields)

    def columns(self, alias: str) -> str:
        """``alias."col", alias."col2", ...``: every concrete column, in the order ``build`` reads them."""
        return columns(alias, [field.column for field in self._fields])

    @cached_property
    def _make(self) -> Callable[[Sequence], models.Model]:
        return builder(self.model, self._attnames)

    def build(self, values) -> models.Model | None:
        """The instance of one row's values (as ``columns`` listed them), or None for a LEFT JOIN's missing row.

        What ``from_db`` builds, without ``Model.__init__`` (see ``builder``): a booking builds a dozen
        instances this way (the course, its patient, protocol and phases, the site, the chair, the
        clinicians), and ``__init__`` was most of the cost of each."""
        values = list(values)
        if values[self._pk_position] is None:
            return None
        for position, converters in self._converters:
            for converter, expression in converters:
                values[position] = converter(values[position], expression, connection)
        return self._make(values)

    def take(self, row, start: int) -> tuple[models.Model | None, int]:
        """The instance of ``row[start:start + width]`` and the position after it."""
        end = start + self.width
        return self.build(row[start:end]), end


def builder(model: type[models.Model], names: Sequence[str]) -> Callable[[Sequence], models.Model]:
    """A function from one ``values_list`` row to an instance of ``model``: ``names`` are field attnames (any
    other field is deferred, as with ``only``) and annotation names, set as attributes.

    It builds what ``from_db`` builds, without ``Model.__init__``'s work for every field, which cost a
    sweep over thousands of courses more than reading them. ``__init__`` also sends pre_init and
    post_init; a model with receivers for them is built the ORM's way, so none is skipped.
    """
    alias = connection.alias
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        fields = {field.attname for field in model._meta.concrete_fields}
        field_names = [name for name in names if name in fields]

        def through_init(values: Sequence) -> models.Model:
            row = dict(zip(names, values, strict=True))
            instance = model.from_db(alias, field_names, [row[name] for name in field_names])
            for name in names:
                if name not in fields:
                    setattr(instance, name, row[name])
            return instance

        return through_init

    def direct(values: Sequence) -> models.Model:
        instance = model.__new__(model)
        instance.__dict__.update(zip(names, values, strict=True))
        state = instance._state = ModelState()
        state.adding, state.db = False, alias
        return instance

    return direct


def attach_related(instance: models.Model, name: str, related: models.Model | None) -> None:
    """Make ``instance.<name>`` answer ``related`` without a query, as ``select_related(name)`` leaves it.

    ``name`` is a forward foreign key or one-to-one, or a reverse one-to-one; ``related`` None for a reverse
    one-to-one means there is none, and reading it raises ``DoesNotExist`` as after ``select_related``. The
    id column is not touched: ``related`` must be the row the instance points to (the statement joined it).

    Safe because it is what ``select_related`` itself does: in Django 5.2 ``SQLCompiler.get_related_selections``
    gives ``RelatedPopulator`` the field's (for a reverse one-to-one, the relation's) ``set_cached_value`` to
    store the joined instance with, a dict entry in ``instance._state.fields_cache`` under its ``cache_name``.
    Unlike assigning through the descriptor, it skips the descriptor's type and router checks, which a
    sweep over thousands of rows paid for nothing.
    """
    instance._meta.get_field(name).set_cached_value(instance, related)


def attach_prefetched(instance: models.Model, name: str, objects: list[models.Model]) -> None:
    """Make ``instance.<name>.all()`` answer ``objects`` without a query, as ``prefetch_related(name)`` leaves it.

    ``name`` is a reverse foreign key or a many-to-many; ``objects`` are the related rows, in the order
    ``all()`` is to give them. A filtered or ordered manager (``.filter()``, ``.order_by()``) still queries.

    Safe because it is what ``prefetch_related`` itself does: Django 5.2's ``prefetch_one_level`` sets the
    manager's queryset's ``_result_cache`` to the rows and ``_prefetch_done`` to True, and keeps that
    queryset in ``instance._prefetched_objects_cache`` under the relation's name, which the related
    manager's ``get_queryset`` answers from.
    """
    queryset = getattr(instance, name).all()
    queryset._result_cache, queryset._prefetch_done = list(objects), True
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[name] = queryset
