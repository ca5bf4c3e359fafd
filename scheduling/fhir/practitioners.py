"""FHIR Practitioner: the clinicians (users with the clinician role), read and search by name."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q
from fhir.resources.R4B.practitioner import Practitioner

from clinic.roles import CLINICIAN
from scheduling.fhir import search_params as params
from scheduling.fhir.errors import FhirError
from scheduling.fhir.ids import read_id
from scheduling.fhir.responses import fhir_response
from scheduling.fhir.searching import numeric_ids, search_answer
from scheduling.fhir.views import FhirView

SEARCH_PARAMS = ("_id", "active", *params.string_names("name", "family", "given"))


def clinicians():
    """Every user who holds the clinician role (a user who lost it is no Practitioner here any more)."""
    return get_user_model().objects.filter(groups__name=CLINICIAN).distinct()


def practitioner_resource(user) -> Practitioner:
    """A clinician as a Practitioner: name, and active while the account is."""
    full = f"{user.first_name} {user.last_name}".strip() or user.username
    return Practitioner(id=str(user.pk), active=user.is_active,
                        name=[{"use": "official", "text": full, "family": user.last_name or None,
                               "given": [user.first_name] if user.first_name else None}])


class PractitionerReadView(FhirView):
    def get(self, request, resource_id: str):
        user = clinicians().filter(pk=read_id(resource_id, "Practitioner")).first()
        if user is None:
            raise FhirError.not_found(f"Practitioner/{resource_id} is not a clinician here.")
        return fhir_response(practitioner_resource(user))


class PractitionerSearchView(FhirView):
    def get(self, request):
        params.check_params(request, SEARCH_PARAMS)
        wanted = (params.string_filter(request, "name", ("first_name", "last_name"))
                  & params.string_filter(request, "family", ("last_name",))
                  & params.string_filter(request, "given", ("first_name",)))
        pks = numeric_ids(request)
        if pks is not None:
            wanted &= Q(pk__in=pks)
        active = params.boolean(request, "active")
        if active is not None:
            wanted &= Q(is_active=active)
        users = clinicians().filter(wanted).order_by("last_name", "first_name", "id")
        return search_answer(request, users, practitioner_resource)
