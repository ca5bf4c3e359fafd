"""Eligibility rules for starting (and continuing) a treatment course.

Pure Python, like the due engine: the same rules run when a course is created
and again at check-in, so they take plain answers and return findings, and the
caller decides what to do with them (refuse, or ask for a clinician's override).
See docs/DOMAIN.md "Eligibility".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ESKETAMINE_NASAL = "esketamine_nasal"
KETAMINE_IV = "ketamine_iv"

# Esketamine is approved for unipolar major depression only (with or without
# acute suicidal ideation); anything else is off-label and needs a clinician.
_ESKETAMINE_DIAGNOSES = frozenset({"mdd", "mdd_si"})


@dataclass(frozen=True)
class Finding:
    """One reason a patient may not be treated: a hard stop or an override case."""

    code: str  # e.g. "aneurysmal_vascular_disease"
    message: str  # plain words for staff
    overridable: bool  # False = a hard stop: no override is possible


# (screening key, what staff read, overridable), hard stops first: staff read
# them first because one of them ends the conversation.
_ESKETAMINE_SCREENING = (
    (
        "aneurysmal_vascular_disease",
        "Aneurysmal vascular disease (aorta, intracranial or peripheral arteries)",
        False,
    ),
    ("arteriovenous_malformation", "An arteriovenous malformation", False),
    (
        "intracerebral_hemorrhage_history",
        "A history of intracerebral haemorrhage",
        False,
    ),
    ("ketamine_hypersensitivity", "Hypersensitivity to esketamine or ketamine", False),
    ("pregnant", "Pregnancy", True),
)

# IV ketamine is off-label, so no label gives it hard stops; a known
# hypersensitivity is treated as one anyway because no reason could justify it.
_KETAMINE_IV_SCREENING = (
    ("ketamine_hypersensitivity", "Hypersensitivity to ketamine", False),
    ("uncontrolled_hypertension", "Uncontrolled hypertension", True),
    ("psychosis_or_mania_history", "A history of psychosis or mania", True),
    ("active_substance_use", "Active substance use", True),
    ("pregnant", "Pregnancy", True),
    ("breastfeeding", "Breastfeeding", True),
    ("raised_intracranial_pressure", "Raised intracranial pressure", True),
    ("uncontrolled_seizures", "Uncontrolled seizures", True),
)

_TREATMENT_NAMES = {ESKETAMINE_NASAL: "esketamine", KETAMINE_IV: "IV ketamine"}


def _finding(code: str, condition: str, overridable: bool, treatment: str) -> Finding:
    if overridable:
        message = (
            f"{condition}: {treatment} needs a clinician's override with a reason."
        )
    else:
        message = f"{condition} is a contraindication to {treatment}."
    return Finding(code, message, overridable)


def check(
    modality: str, diagnosis: str, screening: Mapping[str, bool]
) -> tuple[Finding, ...]:
    """Return every finding for a patient and modality, hard stops first.

    All findings are returned at once, so staff see the whole picture rather
    than fixing one answer at a time. A screening key that is missing counts as
    False. Raises ValueError for an unknown modality: silently finding nothing
    would read as "eligible".
    """
    if modality == ESKETAMINE_NASAL:
        rules = _ESKETAMINE_SCREENING
    elif modality == KETAMINE_IV:
        rules = _KETAMINE_IV_SCREENING
    else:
        raise ValueError(f"unknown modality: {modality!r}")
    treatment = _TREATMENT_NAMES[modality]
    findings = [
        _finding(code, condition, overridable, treatment)
        for code, condition, overridable in rules
        if screening.get(code, False)
    ]
    if modality == ESKETAMINE_NASAL and diagnosis not in _ESKETAMINE_DIAGNOSES:
        findings.append(
            _finding(
                "diagnosis_not_mdd",
                "A diagnosis other than major depressive disorder",
                True,
                treatment,
            )
        )
    # Stable sort: hard stops first, each group in table order.
    return tuple(sorted(findings, key=lambda finding: finding.overridable))


def hard_stops(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """Return the findings no override can clear."""
    return tuple(finding for finding in findings if not finding.overridable)


def needs_override(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """Return the findings a clinician may override with a written reason."""
    return tuple(finding for finding in findings if finding.overridable)
