"""A search's answer from a queryset: the page asked for, its total, the Bundle, and the reads logged."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet
from django.http import HttpResponse
from fhir.resources.R4B.resource import Resource

from scheduling.fhir import search_params as params
from scheduling.fhir.access import log_patient_reads
from scheduling.fhir.bundles import searchset
from scheduling.fhir.ids import number_id
from scheduling.fhir.responses import fhir_response
from scheduling.fhir.views import paging


def search_answer(request, queryset: QuerySet, build: Callable[[object], Resource], *,
                  patient_of: Callable[[object], int] | None = None) -> HttpResponse:
    """The searchset of ``queryset`` (ordered) at the page ``_offset``/``_count`` ask for.

    Two queries, whatever the page: the count and the page. ``patient_of``
    names each row's patient, whose read is then logged (Patient, CarePlan).
    """
    offset, count = paging(request)
    total = queryset.count()
    rows = list(queryset[offset:offset + count]) if count and offset < total else []
    if patient_of is not None:
        log_patient_reads(request, [patient_of(row) for row in rows])
    resources = [build(row) for row in rows]
    return fhir_response(searchset(request, resources=resources, total=total, offset=offset, count=count))


def numeric_ids(request) -> list[int] | None:
    """The ``_id`` values asked for (a comma is OR) as row ids, or None when ``_id`` is not asked.

    An id that is not one of ours matches nothing rather than failing the search.
    """
    asked = params.values(request, "_id")
    if not asked:
        return None
    wanted = None
    for value in asked:  # repeated: AND, so the ids in every one of them
        found = {pk for pk in (number_id(text.strip()) for text in value.split(",")) if pk is not None}
        wanted = found if wanted is None else wanted & found
    return sorted(wanted)
