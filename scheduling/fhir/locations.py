"""FHIR Location and Schedule: sites, their chairs as Locations part of the site, and a Schedule per chair.

A site is ``Location/site-{id}`` (physicalType ``si``): its address, phone,
opening hours, and its IANA time zone in FHIR's ``timezone`` extension (and
in words in ``description``); ``status`` active or inactive. A chair is
``Location/chair-{id}`` (physicalType ``ro``, a room: the place a patient is
treated), ``partOf`` its site. Chairs are Locations rather than Devices
because a session is booked *at* a chair, and an Appointment's participants
and a Schedule's actor name places, not equipment.

A Schedule is ``Schedule/{chair id}``, one for each active chair of an active
site, its actor the chair's Location and its ``serviceType`` the treatments
the chair can give (esketamine; IV with an infusion pump). Its free time is
the Slot search (``slots.py``).
"""

from __future__ import annotations

from django.db.models import Q
from fhir.resources.R4B.location import Location as FhirLocation
from fhir.resources.R4B.schedule import Schedule

from protocols.models import Modality
from scheduling.fhir import ids
from scheduling.fhir import search_params as params
from scheduling.fhir.bundles import searchset
from scheduling.fhir.codes import PHYSICAL_TYPE_SYSTEM, TIME_ZONE_EXTENSION, modalities_asked, treatment_concept
from scheduling.fhir.errors import FhirError
from scheduling.fhir.ids import read_id
from scheduling.fhir.responses import fhir_response
from scheduling.fhir.searching import search_answer
from scheduling.fhir.views import FhirView, paging
from scheduling.models import Chair, Location

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SITE_TYPE = {"coding": [{"system": PHYSICAL_TYPE_SYSTEM, "code": "si", "display": "Site"}]}
CHAIR_TYPE = {"coding": [{"system": PHYSICAL_TYPE_SYSTEM, "code": "ro", "display": "Room"}], "text": "Treatment chair"}
LOCATION_PARAMS = ("_id", "partof", "type", "status", *params.string_names("name"))
SCHEDULE_PARAMS = ("_id", "actor", "service-type", "active")


def site_resource(site: Location) -> FhirLocation:
    """A site as a Location (``hours`` prefetched, or one query)."""
    hours = [{"daysOfWeek": [DAYS[row.weekday]], "openingTime": row.opens, "closingTime": row.closes}
             for row in site.hours.all()]
    return FhirLocation(
        id=ids.site_location_id(site.pk), status="active" if site.active else "inactive", name=site.name,
        mode="instance", physicalType=SITE_TYPE,
        description=f"Treatment site; times are local to {site.time_zone}"
                    + (" (REMS-certified for esketamine)" if site.rems_certified else ""),
        extension=[{"url": TIME_ZONE_EXTENSION, "valueCode": site.time_zone}],
        telecom=[{"system": "phone", "value": site.phone, "use": "work"}] if site.phone else None,
        address={"text": site.address} if site.address.strip() else None,
        hoursOfOperation=hours or None,
    )


def chair_resource(chair: Chair) -> FhirLocation:
    """A chair as a Location part of its site's (``location`` loaded with it)."""
    site = chair.location
    return FhirLocation(
        id=ids.chair_location_id(chair.pk), status="active" if chair.active and site.active else "inactive",
        name=chair.name, mode="instance", physicalType=CHAIR_TYPE,
        description=f"{chair.name} at {site.name}"
                    + "".join(f"; {Modality(modality).label}" for modality in chair_treatments(chair)),
        partOf={"reference": f"Location/{ids.site_location_id(site.pk)}", "display": site.name},
    )


def schedule_resource(chair: Chair) -> Schedule:
    """The Schedule of an active chair: its Location as actor, the treatments it gives as serviceType."""
    modalities = chair_treatments(chair)
    return Schedule(
        id=str(chair.pk), active=True,
        serviceType=[treatment_concept(modality) for modality in modalities] or None,
        actor=[{"reference": f"Location/{ids.chair_location_id(chair.pk)}", "display": str(chair)}],
        comment="The chair's free time: GET Slot?schedule=Schedule/" + str(chair.pk),
    )


def chair_treatments(chair: Chair) -> list[str]:
    """The treatments a booking may put in ``chair``: esketamine needs a REMS-certified site, IV a pump."""
    return [modality for modality in (Modality.ESKETAMINE_NASAL, Modality.KETAMINE_IV) if chair.serves(modality)
            and (modality != Modality.ESKETAMINE_NASAL or chair.location.rems_certified)]


def scheduled_chairs():
    """The chairs that have a Schedule: active, at an active site."""
    return Chair.objects.filter(active=True, location__active=True).select_related("location")


# --- Location -------------------------------------------------------------------------------------------------


class LocationReadView(FhirView):
    def get(self, request, resource_id: str):
        kind, pk = ids.parse_location_id(resource_id) or (None, None)
        if kind == ids.SITE:
            site = Location.objects.prefetch_related("hours").filter(pk=pk).first()
            if site is not None:
                return fhir_response(site_resource(site))
        elif kind == ids.CHAIR:
            chair = Chair.objects.select_related("location").filter(pk=pk).first()
            if chair is not None:
                return fhir_response(chair_resource(chair))
        raise FhirError.not_found(f"Location/{resource_id} is not known here (site-{{id}} or chair-{{id}}).")


class LocationSearchView(FhirView):
    """Sites first (by name), then chairs (by site and name), paged as one list."""

    def get(self, request):
        params.check_params(request, LOCATION_PARAMS)
        sites = Location.objects.prefetch_related("hours").filter(params.string_filter(request, "name", ("name",)))
        chairs = Chair.objects.select_related("location").filter(params.string_filter(request, "name", ("name",)))
        sites, chairs = _narrowed(request, sites, chairs)
        offset, count = paging(request)
        site_total, chair_total = sites.count(), chairs.count()
        page_sites = list(sites.order_by("name", "id")[offset:offset + count]) if offset < site_total else []
        chair_from = max(0, offset - site_total)
        chair_count = count - len(page_sites)
        page_chairs = list(chairs.order_by("location__name", "name", "id")[chair_from:chair_from + chair_count]
                           ) if chair_count > 0 and chair_from < chair_total else []
        resources = [site_resource(site) for site in page_sites] + [chair_resource(chair) for chair in page_chairs]
        return fhir_response(searchset(request, resources=resources, total=site_total + chair_total, offset=offset,
                                       count=count))


def _narrowed(request, sites, chairs):
    """``sites`` and ``chairs`` narrowed by ``_id``, ``partof``, ``type`` and ``status``."""
    for value in params.values(request, "_id"):
        parsed = [ids.parse_location_id(text.strip()) for text in value.split(",")]
        sites = sites.filter(pk__in=[pk for kind, pk in filter(None, parsed) if kind == ids.SITE])
        chairs = chairs.filter(pk__in=[pk for kind, pk in filter(None, parsed) if kind == ids.CHAIR])
    for value in params.values(request, "partof"):
        parsed = ids.parse_location_id(ids.parse_reference(value, "Location", bare=True))
        sites = sites.none()  # a site is part of nothing
        chairs = chairs.filter(location_id=parsed[1]) if parsed and parsed[0] == ids.SITE else chairs.none()
    for value in params.values(request, "type"):
        codes = {params.parse_token(token.strip()) for token in value.split(",")}
        codes = {code for system, code in codes if system in (None, "", PHYSICAL_TYPE_SYSTEM)}
        sites = sites if "si" in codes else sites.none()
        chairs = chairs if "ro" in codes else chairs.none()
    for value in params.values(request, "status"):
        statuses = {text.strip() for text in value.split(",")}
        if not statuses <= {"active", "inactive", "suspended"}:
            raise FhirError.invalid("status is active, inactive or suspended.", expression=["status"])
        site_either, chair_either = Q(pk__in=[]), Q(pk__in=[])
        if "active" in statuses:
            site_either |= Q(active=True)
            chair_either |= Q(active=True, location__active=True)
        if "inactive" in statuses:
            site_either |= Q(active=False)
            chair_either |= Q(active=False) | Q(location__active=False)
        sites, chairs = sites.filter(site_either), chairs.filter(chair_either)
    return sites, chairs


# --- Schedule -------------------------------------------------------------------------------------------------


class ScheduleReadView(FhirView):
    def get(self, request, resource_id: str):
        chair = scheduled_chairs().filter(pk=read_id(resource_id, "Schedule")).first()
        if chair is None:
            raise FhirError.not_found(f"Schedule/{resource_id} is not the schedule of an active chair.")
        return fhir_response(schedule_resource(chair))


class ScheduleSearchView(FhirView):
    def get(self, request):
        params.check_params(request, SCHEDULE_PARAMS)
        chairs = scheduled_chairs()
        for value in params.values(request, "_id"):
            chairs = chairs.filter(pk__in=[pk for pk in (ids.number_id(t.strip()) for t in value.split(",")) if pk])
        for value in params.values(request, "actor"):
            either = Q(pk__in=[])
            for text in value.split(","):
                if text.strip().startswith("Practitioner/"):
                    continue  # a Schedule's actor may be a Practitioner in FHIR; here only chairs have one
                parsed = ids.parse_location_id(ids.parse_reference(text.strip(), "Location", bare=True))
                if parsed is not None:
                    either |= Q(pk=parsed[1]) if parsed[0] == ids.CHAIR else Q(location_id=parsed[1])
            chairs = chairs.filter(either)
        for value in params.values(request, "service-type"):
            either = Q(pk__in=[])
            for modality in modalities_asked(value, "service-type"):
                either |= Chair.serving(modality) & (Q(location__rems_certified=True)
                                                     if modality == Modality.ESKETAMINE_NASAL else Q())
            chairs = chairs.filter(either)
        if params.boolean(request, "active") is False:
            chairs = chairs.none()  # only active chairs have a Schedule
        return search_answer(request, chairs.order_by("location__name", "name", "id"), schedule_resource)
