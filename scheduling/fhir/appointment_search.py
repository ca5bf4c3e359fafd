"""Appointment search: the FHIR parameters read into one filter over sessions.

- ``date``: a day (or month, year) is the session's day at its own site
  (``local_date``, as the board shows it), so ``date=2026-03-02`` is that day in
  New York at a New York site; a value with a time compares the start instant
  (without an offset it is UTC). Prefixes eq, ge, gt, le, lt (sa, eb); two
  values make a range.
- ``patient``, ``practitioner``, ``location`` (a site or a chair), ``actor`` (any
  of them): references, relative, absolute or bare ids; a comma is an OR.
- ``status``: FHIR's codes (see ``appointments.STATUS``); ``service-type``:
  esketamine or ketamine-iv (``codes.TREATMENT_SYSTEM``); ``_id``.

An id that is not one this server gives out matches nothing, as FHIR asks;
a value that cannot be read at all is a 400.
"""

from __future__ import annotations

from django.db.models import Q

from scheduling.fhir import ids
from scheduling.fhir import search_params as params
from scheduling.fhir.appointments import OTHER_STATUSES, SESSION_STATUSES
from scheduling.fhir.codes import modalities_asked
from scheduling.fhir.errors import FhirError

SEARCH_PARAMS = ("_id", "date", "patient", "practitioner", "location", "actor", "status", "service-type", "_include")
# Each _include this search answers -> the kinds of participant it adds.
INCLUDES = {
    "Appointment:patient": ("Patient",),
    "Appointment:practitioner": ("Practitioner",),
    "Appointment:location": ("Location",),
    "Appointment:actor": ("Patient", "Practitioner", "Location"),
}
NOTHING = Q(pk__in=[])


def _any_of(request, name: str) -> list[list[str]]:
    """Each value of ``name`` (an AND) split at its commas (an OR)."""
    return [[part.strip() for part in value.split(",") if part.strip()] for value in params.values(request, name)]


def _numbers(texts: list[str], kind: str) -> list[int]:
    """The row ids referenced (``Kind/12``, a full URL or ``12``); ids we never give out are dropped.

    A reference to another kind of resource, or text that is no reference, is a 400."""
    return [pk for pk in (ids.number_id(ids.parse_reference(text, kind, bare=True)) for text in texts)
            if pk is not None]


def _location_filter(texts: list[str]) -> Q:
    found = NOTHING
    for text in texts:
        parsed = ids.parse_location_id(ids.parse_reference(text, "Location", bare=True))
        if parsed is not None:
            kind, pk = parsed
            found |= Q(location_id=pk) if kind == ids.SITE else Q(chair_id=pk)
    return found


def _actor_filter(texts: list[str]) -> Q:
    found = NOTHING
    for text in texts:
        kind = text.split("/")[-2] if "/" in text else ""
        if kind == "Patient":
            found |= Q(patient_id__in=_numbers([text], "Patient"))
        elif kind == "Practitioner":
            found |= Q(clinician_id__in=_numbers([text], "Practitioner"))
        elif kind == "Location":
            found |= _location_filter([text])
        else:
            raise FhirError.invalid(f"actor: “{text}” is not a reference to a Patient, Practitioner or Location.",
                                    expression=["actor"])
    return found


def _status_filter(codes: list[str]) -> Q:
    statuses = []
    for code in codes:
        _, code = params.parse_token(code)
        if code not in SESSION_STATUSES and code not in OTHER_STATUSES:
            raise FhirError.invalid(f"status: “{code}” is not an Appointment status.", expression=["status"])
        statuses += SESSION_STATUSES.get(code, [])
    return Q(status__in=statuses)


def _date_filter(request) -> Q:
    found = Q()
    for text in params.values(request, "date"):
        if "," in text:
            raise FhirError.not_supported("date: a list of dates (OR) is not supported; send a range with ge and "
                                          "le.", expression=["date"])
        since, until = params.parse_date(text, "date").bounds("date")
        if "T" in text:
            found &= (Q(start__gte=since) if since else Q()) & (Q(start__lt=until) if until else Q())
            continue
        first, after = params.as_dates(since, until)
        found &= (Q(local_date__gte=first) if first else Q()) & (Q(local_date__lt=after) if after else Q())
    return found


def search_filter(request) -> Q:
    """The sessions a search asks for, as one filter (every parameter ANDed)."""
    params.check_params(request, SEARCH_PARAMS)
    found = _date_filter(request)
    for texts in _any_of(request, "_id"):
        found &= Q(pk__in=[pk for pk in map(ids.number_id, texts) if pk is not None])
    for texts in _any_of(request, "patient"):
        found &= Q(patient_id__in=_numbers(texts, "Patient"))
    for texts in _any_of(request, "practitioner"):
        found &= Q(clinician_id__in=_numbers(texts, "Practitioner"))
    for texts in _any_of(request, "location"):
        found &= _location_filter(texts)
    for texts in _any_of(request, "actor"):
        found &= _actor_filter(texts)
    for texts in _any_of(request, "status"):
        found &= _status_filter(texts)
    for value in params.values(request, "service-type"):
        found &= Q(course__modality__in=modalities_asked(value, "service-type"))
    return found


def includes(request) -> set[str]:
    """The kinds of participant ``_include`` asks to add (``Appointment:actor:Patient`` narrows to one kind)."""
    kinds = set()
    for value in params.values(request, "_include"):
        name, _, target = value.partition(":")[2].partition(":")
        name = f"Appointment:{name}" if value.startswith("Appointment:") else value
        if name not in INCLUDES:
            if params.is_lenient(request):
                continue
            raise FhirError.not_supported(f"_include “{value}” is not offered; these are: "
                                          f"{', '.join(INCLUDES)}.", expression=["_include"])
        wanted = INCLUDES[name]
        if target and target not in wanted:
            raise FhirError.invalid(f"_include “{value}”: {target} is not a target of {name}.",
                                    expression=["_include"])
        kinds.update([target] if target else wanted)
    return kinds
