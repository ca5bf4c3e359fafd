"""The clinic's own code systems and extensions in FHIR answers, one place for every resource.

Appointment (``appointments.py``) uses the same strings for the treatment and
the protocol, so a Schedule's, a Slot's, a CarePlan's and an Appointment's
treatment codes compare equal.
"""

from __future__ import annotations

from protocols.models import Modality
from scheduling.fhir.search_params import parse_token

STRUCTURE_BASE = "https://clinic.example/fhir/StructureDefinition/"
CODE_SYSTEM_BASE = "https://clinic.example/fhir/CodeSystem/"
TREATMENT_SYSTEM = CODE_SYSTEM_BASE + "treatment"
PROTOCOL_SYSTEM = CODE_SYSTEM_BASE + "protocol"
TREATMENTS = {
    Modality.ESKETAMINE_NASAL: ("esketamine", "Esketamine nasal spray (Spravato)"),
    Modality.KETAMINE_IV: ("ketamine-iv", "IV ketamine infusion"),
}
MODALITY_OF_TREATMENT = {code: modality for modality, (code, _) in TREATMENTS.items()}
# A CarePlan's current phase of its protocol (valueString), e.g. "Induction".
PHASE_EXTENSION = STRUCTURE_BASE + "treatment-phase"
# Sessions of the course completed so far (valueUnsignedInt).
SESSIONS_COMPLETED_EXTENSION = STRUCTURE_BASE + "sessions-completed"
# A site's IANA time zone (valueCode): FHIR's own extension for it.
TIME_ZONE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/timezone"
PHYSICAL_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/location-physical-type"


def treatment_concept(modality: str) -> dict:
    """The CodeableConcept of a treatment (a Schedule's or Slot's serviceType, a CarePlan's category)."""
    code, display = TREATMENTS[modality]
    return {"coding": [{"system": TREATMENT_SYSTEM, "code": code, "display": display}], "text": display}


def modalities_asked(value: str, name: str) -> set[str]:
    """The treatments a ``service-type``/``category`` token list names (``system|code`` or ``code``, a comma
    is OR); a code of another system matches nothing."""
    wanted = set()
    for token in value.split(","):
        system, code = parse_token(token.strip())
        if system in (None, "", TREATMENT_SYSTEM) and code in MODALITY_OF_TREATMENT:
            wanted.add(MODALITY_OF_TREATMENT[code])
    return wanted
