"""Fictitious patients for the demo: varied diagnoses, screening and consent; deterministic.

Every patient has a name of their own, except one deliberate pair: DEMO0040 is a second
"Rowan Chen" (DEMO0007; born in another year, another MRN, a Los Angeles number), so the lists and
the search show how two patients of the same name are told apart by date of birth and MRN.

Phones are in the range the North American plan keeps for fiction (555-0100 to 555-0199),
with area codes of the patient's site: New York for Midtown's patients (odd MRNs: DEMO0001,
DEMO0003...), Los Angeles for Westside's (even MRNs). Every consent to texts says how it was given and when.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from patients.models import ConsentMethod, Diagnosis, MedicineAnswer, Patient, Sex

FIRST = ["Avery", "Jordan", "Morgan", "Riley", "Casey", "Quinn", "Rowan", "Harper", "Elliot", "Sage",
         "Maya", "Noah", "Lena", "Omar", "Priya", "Diego", "Hana", "Tomas", "Ines", "Kofi",
         "Amara", "Bruno", "Clara", "Dmitri", "Esme", "Farid", "Greta", "Hugo", "Isla", "Jonah",
         "Keiko", "Luca", "Mira", "Nils", "Olive", "Pablo", "Rosa", "Soren", "Talia", "Yusuf"]
LAST = ["Alvarez", "Brennan", "Chen", "Delgado", "Eriksen", "Fontaine", "Garcia", "Hughes", "Ibarra", "Jansen",
        "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quintero", "Rahman", "Silva", "Tanaka",
        "Abbott", "Bianchi", "Castillo", "Dubois", "Evans", "Fischer", "Gallagher", "Haddad", "Iverson", "Joshi",
        "Keller", "Lindqvist", "Mbeki", "Novak", "Oyelaran", "Park", "Reyes", "Sato", "Ulrich", "Vargas"]
# The deliberate namesakes: (index of the second patient, index of the first).
NAMESAKE = (39, 6)
# Area codes near each site: Midtown (New York) for even indexes (odd MRNs), Westside (Los Angeles) for odd ones.
AREA_CODES = (("212", "646", "718", "917"), ("310", "213", "323", "818"))
# The share of demo patients taking each concomitant medicine the REMS form asks about.
MEDICINE_SHARES = (("takes_benzodiazepines", 0.2), ("takes_sedative_hypnotics", 0.05), ("takes_psychostimulants", 0.1),
                   ("takes_maois", 0.01), ("takes_opioids", 0.05))
CONSENT_METHODS = (ConsentMethod.WRITTEN, ConsentMethod.ELECTRONIC, ConsentMethod.VERBAL)
# On every demo patient's record. A demo whose patients carry another note was made by an
# earlier version of this loader and is replaced (``scheduling.demo.reset``).
DEMO_NOTE = "Fictitious patient of the demo clinic (laid out against the clock when `make run` starts)."


def demo_phone(index: int, *, offset: int = 0) -> str:
    """A fictional number (555-01xx) with an area code of the patient's site."""
    codes = AREA_CODES[index % 2]
    return f"+1{codes[(index // 2) % len(codes)]}555{100 + (index + offset) % 100:04d}"


def demo_name(index: int) -> tuple[str, str]:
    """(first, last): ``7`` is prime to 40, so every index gets a last name no other index has."""
    if index == NAMESAKE[0]:
        index = NAMESAKE[1]
    return FIRST[index % len(FIRST)], LAST[(index * 7) % len(LAST)]


def create_demo_patients(count: int = 40, *, seed: int = 7) -> list[Patient]:
    """Create (or find, on a second run) ``count`` demo patients keyed by their MRN."""
    rng = random.Random(seed)
    today = timezone.localdate()
    patients = []
    for index in range(count):
        mrn = f"DEMO{index + 1:04d}"
        diagnosis = rng.choices(
            [Diagnosis.MDD, Diagnosis.MDD_SI, Diagnosis.BIPOLAR, Diagnosis.PTSD, Diagnosis.OTHER],
            weights=[60, 10, 10, 12, 8],
        )[0]
        consent = rng.random() < 0.85
        enrolled = rng.random() < 0.8
        first, last = demo_name(index)
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 52))
        if index == NAMESAKE[0]:
            born = born.replace(year=1991 if born.year != 1991 else 1979)
        # Registered some weeks before their course starts (courses start up to 75 days ago).
        registered = today - timedelta(days=90 + index)
        values = {
            "first_name": first,
            "last_name": last,
            "date_of_birth": born,
            "sex": rng.choice([Sex.FEMALE, Sex.MALE, Sex.FEMALE, Sex.OTHER]),
            "phone": demo_phone(index),
            "email": f"{first.lower()}.{last.lower()}{index + 1}@example.org",
            "sms_consent": consent,
            "sms_consent_method": CONSENT_METHODS[index % len(CONSENT_METHODS)] if consent else "",
            "sms_consent_at": (datetime.combine(registered, time(15, 5), tzinfo=timezone.get_current_timezone())
                               if consent else None),
            "diagnosis": diagnosis,
            "rems_enrolled_on": registered + timedelta(days=7) if enrolled else None,
            "rems_patient_id": f"REMS-{700000 + index}" if enrolled else "",
            # Asked at intake (yes or no), except every tenth patient, whose REMS forms wait for the answers.
            **{name: MedicineAnswer.NOT_ASKED if index % 10 == 9 else
               (MedicineAnswer.YES if rng.random() < share else MedicineAnswer.NO)
               for name, share in MEDICINE_SHARES},
            "uncontrolled_hypertension": rng.random() < 0.05,
            "pregnant": index == 13,
            "arteriovenous_malformation": index == 29,
            # A family member: another first name, the same last name, their own number.
            "emergency_contact_name": f"{FIRST[(index + 3) % len(FIRST)]} {last}",
            "emergency_contact_phone": demo_phone(index, offset=50),
            "notes": DEMO_NOTE,
        }
        patient, created = Patient.objects.get_or_create(mrn=mrn, defaults=values)
        if created:
            patient.full_clean()
            patient.save()
            # Registered at intake, before the consent and the course.
            Patient.objects.filter(pk=patient.pk).update(created_at=datetime.combine(
                registered, time(15, 0), tzinfo=timezone.get_current_timezone()))
        patients.append(patient)
    return patients
