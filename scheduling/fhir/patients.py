"""FHIR Patient: read, and search by identifier (the MRN), name, birthdate, active.

Mapping (docs/FHIR.md): ``identifier`` the MRN (system ``urn:clinic:mrn``,
type MR); ``name`` the official name, and a ``usual`` one with the preferred
name; ``gender`` from the recorded sex (female, male, other; "not recorded"
is ``unknown``); ``birthDate``; ``telecom`` the mobile number (every staff
role may see it); ``active`` false once the record is archived.
"""

from __future__ import annotations

from django.db.models import Q
from django.db.models.functions import Lower, Upper
from fhir.resources.R4B.patient import Patient as FhirPatient

from patients.models import Patient, Sex
from scheduling.fhir import search_params as params
from scheduling.fhir.access import log_patient_reads
from scheduling.fhir.appointments import instant
from scheduling.fhir.errors import FhirError
from scheduling.fhir.ids import read_id
from scheduling.fhir.responses import fhir_response
from scheduling.fhir.searching import numeric_ids, search_answer
from scheduling.fhir.views import FhirView

MRN_SYSTEM = "urn:clinic:mrn"
MRN_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR",
                        "display": "Medical record number"}], "text": "MRN"}
GENDER = {Sex.FEMALE: "female", Sex.MALE: "male", Sex.OTHER: "other", Sex.UNKNOWN: "unknown"}
SEARCH_PARAMS = ("_id", "identifier", "birthdate", "active", *params.string_names("name", "family", "given"))
FOLDED = {"first_name": ("lower_first", str.lower), "last_name": ("lower_last", str.lower),
          "preferred_name": ("upper_preferred", str.upper)}
NAME_FIELDS = {"name": ("first_name", "last_name", "preferred_name"), "family": ("last_name",),
               "given": ("first_name", "preferred_name")}


def patient_json(patient: Patient) -> dict:
    """``patient`` as a Patient in FHIR JSON (see the module for the mapping); ``patient_resource`` validates it."""
    official = {"use": "official", "family": patient.last_name, "given": [patient.first_name],
                "text": f"{patient.first_name} {patient.last_name}".strip()}
    names = [official]
    if patient.preferred_name:
        names.append({"use": "usual", "family": patient.last_name, "given": [patient.preferred_name],
                      "text": patient.display_name})
    for name in names:  # an empty part is left out, as FHIR writes no empty element
        if not name["family"]:
            del name["family"]
        if not name["given"][0]:
            del name["given"]
    resource = {"resourceType": "Patient", "id": str(patient.pk)}
    if patient.updated_at:
        resource["meta"] = {"lastUpdated": instant(patient.updated_at)}
    resource["identifier"] = [{"use": "usual", "type": MRN_TYPE, "system": MRN_SYSTEM, "value": patient.mrn}]
    resource["active"] = patient.archived_at is None
    resource["name"] = names
    if patient.phone:
        resource["telecom"] = [{"system": "phone", "value": patient.phone, "use": "mobile"}]
    resource["gender"] = GENDER.get(patient.sex, "unknown")
    if patient.date_of_birth:
        resource["birthDate"] = patient.date_of_birth.isoformat()
    return resource


def patient_resource(patient: Patient) -> FhirPatient:
    """``patient`` as a FHIR Patient, built and validated by the library from ``patient_json``."""
    return FhirPatient.model_validate(patient_json(patient))


def checked_patient_json(patient: Patient) -> dict:
    """``patient_json(patient)``, validated by the library: what an Appointment search writes as it is.

    As with ``appointments.checked_json``, the library's serialiser cost more
    than building and checking the resource, and what it writes is this dict
    (tests/scheduling/fhir/test_appointment_json.py holds the two equal).
    """
    resource = patient_json(patient)
    FhirPatient.model_validate(resource)
    return resource


def patient_filter(request) -> Q:
    """The rows a Patient search asks for (each parameter narrows it)."""
    params.check_params(request, SEARCH_PARAMS)
    wanted = Q()
    pks = numeric_ids(request)
    if pks is not None:
        wanted &= Q(pk__in=pks)
    for value in params.values(request, "identifier"):
        wanted &= _identifier(value)
    for name, fields in NAME_FIELDS.items():
        wanted &= _name_filter(request, name, fields)
    since, until = params.as_dates(*params.date_range(request, "birthdate"))
    if since is not None:
        wanted &= Q(date_of_birth__gte=since)
    if until is not None:
        wanted &= Q(date_of_birth__lt=until)
    active = params.boolean(request, "active")
    if active is not None:
        wanted &= Q(archived_at__isnull=active)
    return wanted


def _name_filter(request, name: str, fields: tuple[str, ...]) -> Q:
    """``params.string_filter`` on the names as the patient indexes hold them (lower-case first and last,
    upper-case preferred), so "starts with" and ":contains" use the trigram indexes at any size."""
    wanted = Q()
    for modifier in params.STRING_MODIFIERS:
        for value in params.values(request, name + modifier):
            either = Q(pk__in=[])
            for text in (part.strip() for part in value.split(",")):
                for field in fields:
                    if modifier == ":exact":
                        either |= Q(**{field: text})
                    else:
                        column, fold = FOLDED[field]
                        either |= Q(**{f"{column}__{'contains' if modifier else 'startswith'}": fold(text)})
            wanted &= either
    return wanted


def _identifier(value: str) -> Q:
    """Any of a comma's values (OR); an MRN is matched whole, in any case, as the desk types it."""
    either = Q(pk__in=[])
    for token in value.split(","):
        system, code = params.parse_token(token)
        if system in (None, "", MRN_SYSTEM) and code:
            either |= Q(mrn__iexact=code)
    return either


class PatientReadView(FhirView):
    def get(self, request, resource_id: str):
        patient = Patient.objects.filter(pk=read_id(resource_id, "Patient")).first()
        if patient is None:
            raise FhirError.not_found(f"Patient/{resource_id} is not known here.")
        log_patient_reads(request, [patient.pk])
        return fhir_response(patient_resource(patient))


class PatientSearchView(FhirView):
    def get(self, request):
        patients = (Patient.objects.annotate(lower_first=Lower("first_name"), lower_last=Lower("last_name"),
                                             upper_preferred=Upper("preferred_name"))
                    .filter(patient_filter(request)).order_by("last_name", "first_name", "id"))
        return search_answer(request, patients, patient_resource, patient_of=lambda patient: patient.pk)
