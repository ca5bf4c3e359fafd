"""Fictitious patients for the demo: varied diagnoses, screening and consent; deterministic."""

from __future__ import annotations

import random
from datetime import date, timedelta

from patients.models import ConsentMethod, Diagnosis, MedicineAnswer, Patient, Sex

FIRST = ["Avery", "Jordan", "Morgan", "Riley", "Casey", "Quinn", "Harper", "Rowan", "Elliot", "Sage",
         "Maya", "Noah", "Lena", "Omar", "Priya", "Diego", "Hana", "Tomas", "Ines", "Kofi"]
LAST = ["Alvarez", "Brennan", "Chen", "Delgado", "Eriksen", "Fontaine", "Garcia", "Hughes", "Ibarra", "Jansen",
        "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quintero", "Rahman", "Silva", "Tanaka"]
AREA_CODES = ["415", "212", "312", "617", "206"]
# The share of demo patients taking each concomitant medicine the REMS form asks about.
MEDICINE_SHARES = (("takes_benzodiazepines", 0.2), ("takes_sedative_hypnotics", 0.05), ("takes_psychostimulants", 0.1),
                   ("takes_maois", 0.01), ("takes_opioids", 0.05))


def create_demo_patients(count: int = 40, *, seed: int = 7) -> list[Patient]:
    """Create (or find, on a second run) ``count`` demo patients keyed by their MRN."""
    rng = random.Random(seed)
    patients = []
    for index in range(count):
        mrn = f"DEMO{index + 1:04d}"
        diagnosis = rng.choices(
            [Diagnosis.MDD, Diagnosis.MDD_SI, Diagnosis.BIPOLAR, Diagnosis.PTSD, Diagnosis.OTHER],
            weights=[60, 10, 10, 12, 8],
        )[0]
        consent = rng.random() < 0.85
        enrolled = rng.random() < 0.8
        values = {
            "first_name": FIRST[index % len(FIRST)],
            "last_name": LAST[(index * 7) % len(LAST)],
            "date_of_birth": date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 52)),
            "sex": rng.choice([Sex.FEMALE, Sex.MALE, Sex.FEMALE, Sex.OTHER]),
            "phone": f"+1{rng.choice(AREA_CODES)}555{2000 + index:04d}",
            "email": f"patient{index + 1}@example.org",
            "sms_consent": consent,
            "sms_consent_method": rng.choice(list(ConsentMethod.values)) if consent else "",
            "diagnosis": diagnosis,
            "rems_enrolled_on": date(2026, 1, 5) + timedelta(days=index * 3) if enrolled else None,
            "rems_patient_id": f"REMS-{700000 + index}" if enrolled else "",
            # Asked at intake (yes or no), except every tenth patient, whose REMS forms wait for the answers.
            **{name: MedicineAnswer.NOT_ASKED if index % 10 == 9 else
               (MedicineAnswer.YES if rng.random() < share else MedicineAnswer.NO)
               for name, share in MEDICINE_SHARES},
            "uncontrolled_hypertension": rng.random() < 0.05,
            "pregnant": index == 13,
            "arteriovenous_malformation": index == 29,
            "emergency_contact_name": f"{FIRST[(index + 3) % len(FIRST)]} {LAST[(index * 7) % len(LAST)]}",
        }
        patient, created = Patient.objects.get_or_create(mrn=mrn, defaults=values)
        if created:
            patient.full_clean()
            patient.save()
        patients.append(patient)
    return patients
