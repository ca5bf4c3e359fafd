"""Dose rules of docs/DOMAIN.md as pure functions: a dose outside them needs a clinician's override.

Returned problems are plain sentences for the clinician; an empty tuple means
the dose follows the protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

MG_PER_DEVICE = 28


def esketamine_dose_problems(*, dose_mg: Decimal, first_dose_mg: int, allowed_doses_mg: Sequence[int],
                             requires_prior_56_for_84: bool, previous_doses_mg: Sequence[Decimal]) -> tuple[str, ...]:
    """Why ``dose_mg`` breaks the protocol's esketamine rules, given the course's earlier doses."""
    problems = []
    if dose_mg not in {Decimal(dose) for dose in allowed_doses_mg}:
        allowed = " or ".join(f"{dose} mg" for dose in allowed_doses_mg)
        problems.append(f"{dose_mg:g} mg is not a protocol dose ({allowed}).")
    elif not previous_doses_mg and dose_mg != first_dose_mg:
        problems.append(f"The first dose of this course is {first_dose_mg} mg.")
    elif requires_prior_56_for_84 and dose_mg == 84 and Decimal(56) not in set(previous_doses_mg):
        problems.append("84 mg may be given only after a 56 mg dose in this course.")
    return tuple(problems)


def iv_dose_problems(*, mg_per_kg: Decimal, protocol_mg_per_kg: Decimal) -> tuple[str, ...]:
    """Why ``mg_per_kg`` differs from the protocol's IV dose."""
    if mg_per_kg != protocol_mg_per_kg:
        return (f"{mg_per_kg:g} mg/kg differs from the protocol's {protocol_mg_per_kg:g} mg/kg.",)
    return ()


def devices_for(dose_mg: Decimal) -> int | None:
    """Devices that deliver ``dose_mg``, or None when it is not a whole number of 28 mg devices."""
    devices, remainder = divmod(dose_mg, MG_PER_DEVICE)
    return int(devices) if remainder == 0 and devices > 0 else None
