"""The ids of the clinic's rows as FHIR resources, and reading them back from ids and references.

Patient/{patient id}, Practitioner/{user id}, CarePlan/{course id},
Appointment/{session id}, Schedule/{chair id}; a site is Location/site-{id}
and a chair Location/chair-{id} (part of its site's Location); a Slot is
Slot/{chair id}-{start in UTC as YYYYMMDDHHMM}, so a booking can read the
chair and the start back from the id alone.
"""

from __future__ import annotations

import re
from datetime import MAXYEAR, UTC, datetime

from scheduling.fhir.errors import FhirError

SITE, CHAIR = "site", "chair"
SLOT_TIME = "%Y%m%d%H%M"
_SLOT = re.compile(r"^(\d{1,18})-(\d{12})$")
_LOCATION = re.compile(r"^(site|chair)-(\d{1,18})$")
_NUMBER = re.compile(r"^\d{1,18}$")
# "Patient/12", "Patient/12/_history/3", or either after a base URL ("https://clinic.example/fhir/Patient/12").
_REFERENCE = re.compile(r"^(?:.*/)?(?P<kind>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
MAX_ID = 2**63 - 1  # a bigint primary key


def site_location_id(location_id: int) -> str:
    return f"{SITE}-{location_id}"


def chair_location_id(chair_id: int) -> str:
    return f"{CHAIR}-{chair_id}"


def slot_id(chair_id: int, start: datetime) -> str:
    """The Slot id of a start on a chair: the start in UTC, to the minute."""
    return f"{chair_id}-{start.astimezone(UTC).strftime(SLOT_TIME)}"


def number_id(text: str) -> int | None:
    """A numeric id (Patient, Practitioner, Schedule, Appointment, CarePlan), or None for any other text."""
    if not _NUMBER.match(text or ""):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def read_id(text: str, kind: str) -> int:
    """The row id of ``kind/text`` for a read: not a number we give out is simply not found (404)."""
    value = number_id(text)
    if value is None:
        raise FhirError.not_found(f"{kind}/{text} is not known here.")
    return value


def parse_location_id(text: str) -> tuple[str, int] | None:
    """``("site", id)`` or ``("chair", id)`` from a Location id, or None when it is not one of ours."""
    match = _LOCATION.match(text or "")
    if match is None or int(match.group(2)) > MAX_ID:
        return None
    return match.group(1), int(match.group(2))


def parse_slot_id(text: str) -> tuple[int, datetime]:
    """``(chair id, start in UTC)`` from a Slot id; a malformed one is a 400 naming the slot."""
    match = _SLOT.match(text or "")
    if match is not None and 0 < int(match.group(1)) <= MAX_ID:
        try:
            start = datetime.strptime(match.group(2), SLOT_TIME).replace(tzinfo=UTC)
        except ValueError:
            start = None  # a month 13, a minute 61: not a time, so not a slot
        # The last year a datetime holds is no slot's: its end (and the day read around it) would not fit.
        if start is not None and start.year < MAXYEAR:
            return int(match.group(1)), start
    raise FhirError.invalid(f"“{text}” is not a Slot id of this server (chair-YYYYMMDDHHMM, e.g. 7-202603021400).",
                            expression=["Slot"])


def parse_reference(text: str, kind: str, *, bare: bool = False) -> str:
    """The id in a reference to a ``kind`` ("Patient/12" or a full URL ending so); ``bare`` also takes "12".

    A reference to another kind of resource, or none at all, is a 400.
    """
    text = (text or "").strip()
    if bare and re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", text):
        return text
    match = _REFERENCE.match(text)
    if match is None or match.group("kind") != kind:
        raise FhirError.invalid(f"“{text}” is not a reference to a {kind} (e.g. {kind}/12).", expression=[kind])
    return match.group("id")
