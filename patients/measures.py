"""Outcome measures scored by hand-checked rules: PHQ-9, GAD-7 and MADRS (docs/DOMAIN.md "Outcome measures").

Pure Python on purpose (item scores in, total and band out, no ORM), so every
boundary can be tested without a database and the API, the web pages and the
demo data all score a form the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clinic.errors import Invalid

PHQ9 = "phq9"
GAD7 = "gad7"
MADRS = "madrs"


@dataclass(frozen=True)
class Band:
    """A severity band: totals from ``low`` to ``high`` inclusive."""

    low: int
    high: int
    slug: str
    label: str


@dataclass(frozen=True)
class InstrumentSpec:
    """One questionnaire: how many items, the highest score of an item, its bands and its remission cut-off."""

    slug: str
    label: str
    item_count: int
    item_max: int
    bands: tuple[Band, ...]
    # Remission is a total at or below this (PHQ-9 "below 5" is 4 or below).
    remission_max: int
    rated_by: str  # "patient" or "clinician"

    @property
    def total_max(self) -> int:
        return self.item_count * self.item_max


INSTRUMENTS: dict[str, InstrumentSpec] = {
    spec.slug: spec
    for spec in (
        InstrumentSpec(
            slug=PHQ9, label="PHQ-9", item_count=9, item_max=3, remission_max=4, rated_by="patient",
            bands=(
                Band(0, 4, "minimal", "Minimal"),
                Band(5, 9, "mild", "Mild"),
                Band(10, 14, "moderate", "Moderate"),
                Band(15, 19, "moderately_severe", "Moderately severe"),
                Band(20, 27, "severe", "Severe"),
            ),
        ),
        InstrumentSpec(
            slug=GAD7, label="GAD-7", item_count=7, item_max=3, remission_max=4, rated_by="patient",
            bands=(
                Band(0, 4, "minimal", "Minimal"),
                Band(5, 9, "mild", "Mild"),
                Band(10, 14, "moderate", "Moderate"),
                Band(15, 21, "severe", "Severe"),
            ),
        ),
        InstrumentSpec(
            slug=MADRS, label="MADRS", item_count=10, item_max=6, remission_max=10, rated_by="clinician",
            bands=(
                Band(0, 6, "normal", "Normal"),
                Band(7, 19, "mild", "Mild"),
                Band(20, 34, "moderate", "Moderate"),
                Band(35, 60, "severe", "Severe"),
            ),
        ),
    )
}

# Every band slug with its label, for the model's choices and the API.
BAND_LABELS: dict[str, str] = {band.slug: band.label for spec in INSTRUMENTS.values() for band in spec.bands}

# PHQ-9 item 9 asks about thoughts of death or self-harm (1-based, as on the form).
PHQ9_SELF_HARM_ITEM = 9


class MeasureInputError(Invalid):
    """The answers cannot be scored as sent; ``fields`` says which and why (400 ``invalid``, like any bad input)."""


@dataclass(frozen=True)
class Score:
    total: int
    band: str  # a Band.slug
    item9_positive: bool  # PHQ-9 only: item 9 above 0 needs a clinician's suicide-risk assessment


def spec_for(instrument: str) -> InstrumentSpec:
    """The instrument's spec; raises MeasureInputError naming ``instrument`` when unknown."""
    try:
        return INSTRUMENTS[instrument]
    except (KeyError, TypeError):
        known = ", ".join(INSTRUMENTS)
        raise MeasureInputError(
            f"Unknown instrument “{instrument}”.",
            fields={"instrument": [f"Unknown instrument “{instrument}”; use one of {known}."]},
        ) from None


def band_for(instrument: str, total: int) -> Band:
    """The band ``total`` falls in; raises MeasureInputError for a total outside the instrument's range."""
    spec = spec_for(instrument)
    for band in spec.bands:
        if band.low <= total <= band.high:
            return band
    raise MeasureInputError(
        f"A {spec.label} total is 0 to {spec.total_max}.",
        fields={"total": [f"A {spec.label} total is 0 to {spec.total_max}."]},
    )


def score(instrument: str, items: Sequence[int]) -> Score:
    """Score one completed form: total, band and the PHQ-9 item-9 flag.

    ``items`` are the answers in form order. Refuses (MeasureInputError, with
    every problem listed under ``items``) a wrong number of answers, an answer
    that is not a whole number (``True`` and ``2.0`` included) or one outside
    0 to the item maximum. A form is never scored with a blank answer: a
    partial PHQ-9 would understate the total and could hide item 9.
    """
    spec = spec_for(instrument)
    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        raise MeasureInputError(
            f"Send the {spec.label} answers as a list of {spec.item_count} whole numbers.",
            fields={"items": [f"Send the answers as a list of {spec.item_count} whole numbers."]},
        )
    messages = []
    if len(items) != spec.item_count:
        messages.append(f"{spec.label} has {spec.item_count} items; {len(items)} were given.")
    for number, value in enumerate(items, start=1):
        if isinstance(value, bool) or not isinstance(value, int):
            messages.append(f"Item {number} must be a whole number from 0 to {spec.item_max}.")
        elif not 0 <= value <= spec.item_max:
            messages.append(f"Item {number} must be 0 to {spec.item_max}.")
    if messages:
        raise MeasureInputError(f"The {spec.label} answers cannot be scored.", fields={"items": messages})
    total = sum(items)
    item9_positive = spec.slug == PHQ9 and items[PHQ9_SELF_HARM_ITEM - 1] > 0
    return Score(total=total, band=band_for(spec.slug, total).slug, item9_positive=item9_positive)


def is_response(baseline_total: int, latest_total: int) -> bool:
    """True when the total fell by 50% or more from the course's baseline.

    Exactly half counts as a response. A baseline of 0 has nothing to fall
    from, so it is never a response. Integer arithmetic, so 20 -> 10 is a
    response however floats would round.
    """
    if baseline_total <= 0:
        return False
    return (baseline_total - latest_total) * 2 >= baseline_total


def is_remission(instrument: str, total: int) -> bool:
    """True when ``total`` is in remission: PHQ-9 and GAD-7 below 5, MADRS 10 or below."""
    return total <= spec_for(instrument).remission_max
