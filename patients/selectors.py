"""Reads of patient records that need some thought: search and history."""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from patients.models import Patient, PatientAccess

_DIGITS = re.compile(r"\D")


def search_patients(query: str, *, include_archived: bool = False) -> QuerySet[Patient]:
    """Patients whose name, MRN or phone matches ``query``.

    Each word must match the start or inside of the first, last or preferred
    name (so "ann sm" finds Anna Smith); a query of digits also matches MRNs
    and phone numbers by their digits.
    """
    patients = Patient.objects.all() if include_archived else Patient.objects.current()
    text = (query or "").strip()
    if not text:
        return patients
    if "\x00" in text:  # stored text never holds a NUL (PostgreSQL refuses it), so nothing matches
        return patients.none()
    condition = Q()
    words = text.split()
    name_match = Q()
    for word in words:
        name_match &= (
            Q(lower_first__contains=word.lower())
            | Q(lower_last__contains=word.lower())
            | Q(preferred_name__icontains=word)
        )
    condition |= name_match
    condition |= Q(mrn__iexact=text) | Q(mrn__istartswith=text)
    digits = _DIGITS.sub("", text)
    if len(digits) >= 4:
        condition |= Q(phone__contains=digits)
    return patients.annotate(lower_first=Lower("first_name"), lower_last=Lower("last_name")).filter(condition)


def patient_history(patient: Patient) -> dict:
    """Every change (who, when, what changed) and every read of ``patient``'s record, newest first."""
    import pghistory.models

    events = (
        pghistory.models.Events.objects.tracks(patient)
        .order_by("-pgh_created_at", "-pgh_id")
        .values("pgh_label", "pgh_created_at", "pgh_diff", "pgh_context")
    )
    changes = [
        {
            "event": event["pgh_label"],
            "at": event["pgh_created_at"],
            "user": (event["pgh_context"] or {}).get("user"),
            "url": (event["pgh_context"] or {}).get("url"),
            "changes": {
                field: {"from": values[0], "to": values[1]}
                for field, values in (event["pgh_diff"] or {}).items()
                if field not in {"updated_at"}
            },
        }
        for event in events
    ]
    from django.contrib.auth import get_user_model

    user_ids = {change["user"] for change in changes if change["user"]}
    names = dict(get_user_model().objects.filter(id__in=user_ids).values_list("id", "username"))
    for change in changes:
        change["username"] = names.get(change["user"])
    accesses = [
        {"user": access.user_id, "username": access.user.get_username(), "at": access.at,
         "channel": access.channel, "path": access.path}
        for access in PatientAccess.objects.filter(patient=patient).select_related("user")[:500]
    ]
    return {"changes": changes, "reads": accesses}


def access_log(*, patient_id: int | None = None, user_id: int | None = None, since=None, before=None
               ) -> QuerySet[PatientAccess]:
    """Openings of patients' records, newest first, narrowed by patient, user and ``since <= at < before``."""
    rows = PatientAccess.objects.select_related("user", "patient").order_by("-at", "-id")
    if patient_id is not None:
        rows = rows.filter(patient_id=patient_id)
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    if since is not None:
        rows = rows.filter(at__gte=since)
    if before is not None:
        rows = rows.filter(at__lt=before)
    return rows
