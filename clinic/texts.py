"""What a text to a patient must never say, and the start-up check of the clinic's name.

Whoever sees a patient's phone must not learn their treatment or diagnosis from it, so
the words below never appear in a text, of any kind (docs/DOMAIN.md "Reminder texts").
Every send path checks the final text (``scheduling.messaging.jobs.checked_text``); the
names that go into texts are refused when saved: a location's name, a site's templates
and, here, ``CLINIC_NAME``, which fails the system checks at start-up.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks

# Matched as parts of words, any case: "Esketamine" and "psychiatric" are caught too.
FORBIDDEN_WORDS = (
    "ketamine", "esketamine", "spravato", "infusion", "depression", "depressive", "suicid", "psychiatr",
    "bipolar", "ptsd", "nasal spray", "antidepressant", "mental health", "dissociat",
)


def forbidden_words_in(text: str) -> list[str]:
    """The forbidden words ``text`` contains (any case), in the order of ``FORBIDDEN_WORDS``; [] when none."""
    lowered = (text or "").lower()
    return [word for word in FORBIDDEN_WORDS if word in lowered]


def refusal(what: str, text: str) -> str | None:
    """Why ``text`` may not go into a text as ``what`` ("A location's name"), or None when it may."""
    found = forbidden_words_in(text)
    if not found:
        return None
    return (f"{what} goes into texts to patients and must never name a treatment or diagnosis; "
            f"remove: {', '.join(found)}.")


@checks.register(checks.Tags.compatibility)
def clinic_name_names_no_treatment(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """``CLINIC_NAME`` is in every text: one that names a treatment or diagnosis stops the start."""
    reason = refusal("CLINIC_NAME", settings.CLINIC_NAME)
    if reason is None:
        return []
    return [checks.Error(reason, hint="Set CLINIC_NAME to the name patients know, without the treatment "
                                      "(e.g. \"Riverside Wellness Clinic\").", id="clinic.E001")]
