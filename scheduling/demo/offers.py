"""Demo patients a freed chair can be offered to: at each site, one due and unbooked course of each treatment.

The demo's stories book most courses ahead, so a cancel of tomorrow's visit would
find nobody to offer it to (docs/OFFERS.md, "Candidates"). These courses make the
freed-chair flow visible in ``make run``: session 1 was given two days ago at the
site, so session 2's window is open today and tomorrow and nothing is booked. The
patients have SMS consent (as every demo patient does) and, for esketamine, REMS
enrolment and an approval, so their YES books through the same checks as the desk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from clinic.roles import CLINICIAN, FRONT_DESK
from patients.models import Patient
from protocols import eligibility, services
from protocols.models import Modality, Protocol, TreatmentCourse
from scheduling.booking.services import record_past_session
from scheduling.demo.authorisations import create_demo_authorisations
from scheduling.demo.courses import eligibility_override_reason, fits_protocol
from scheduling.models import Location

# One course of each treatment per site; the IV series is the one whose second visit follows soonest.
SLUGS = ("esketamine-trd", "ketamine-iv-series")
SESSION_ONE_DAYS_AGO = 2


def create_offer_candidates(patients: Sequence[Patient], sites: Sequence[Location], users: Mapping[str, object], *,
                            now: datetime) -> list[TreatmentCourse]:
    """Start the courses (for patients with no course yet, on their own site: MRN parity) and record session 1."""
    with_course = set(TreatmentCourse.objects.filter(patient__in=patients).values_list("patient_id", flat=True))
    free = [(index, p) for index, p in enumerate(patients) if p.pk not in with_course and p.can_receive_texts]
    protocols = {p.slug: p for p in Protocol.objects.filter(version=1, slug__in=SLUGS)}
    made = []
    for site_index, site in enumerate(sites):
        today = site.local_date(now)
        for slug in SLUGS:
            protocol = protocols[slug]
            found = next(((i, p) for i, p in free if i % 2 == site_index and fits_protocol(p, protocol)), None)
            if found is None:
                continue
            free.remove(found)
            patient, start = found[1], today - timedelta(days=SESSION_ONE_DAYS_AGO)
            if protocol.modality == Modality.ESKETAMINE_NASAL:
                patient.rems_enrolled_on = start - timedelta(days=7)
                patient.rems_patient_id = f"REMS-{700000 + patient.pk}"
                patient.save(update_fields=["rems_enrolled_on", "rems_patient_id", "updated_at"])
            findings = eligibility.needs_override(eligibility.check(protocol.modality, patient.diagnosis,
                                                                    patient.screening()))
            reason = eligibility_override_reason(patient, findings)
            course = services.start_course(by=users[CLINICIAN] if reason else users[FRONT_DESK], patient=patient,
                                           protocol=protocol, start_date=start, override_reason=reason)
            record_past_session(by=users[CLINICIAN], course=course, day=start, location=site)
            made.append(course)
    create_demo_authorisations([c for c in made if c.modality == Modality.ESKETAMINE_NASAL],
                               by=users[FRONT_DESK], today=sites[0].local_date(now))
    return made
