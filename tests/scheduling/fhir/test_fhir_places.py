"""FHIR Location, Schedule and Slot: sites and chairs, a Schedule per chair, and a chair's free time as Slots."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot

from scheduling.fhir.ids import parse_slot_id, slot_id
from tests.conftest import NOW
from tests.scheduling.fhir.fhir_world import TUESDAY, every_page, ids_of, read

TIME_ZONE = "http://hl7.org/fhir/StructureDefinition/timezone"


def _bundle(client, url: str) -> Bundle:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return read(response, Bundle)


def _refused(client, url: str, status: int = 400) -> OperationOutcome:
    response = client.get(url)
    assert response.status_code == status, response.content
    return read(response, OperationOutcome)


# --- Location -------------------------------------------------------------------------------------------------


def test_a_site_reads_as_a_location_with_its_time_zone_hours_and_address(desk, fhir_world):
    site = read(desk.get(f"/fhir/Location/site-{fhir_world.sites['midtown'].pk}"), Location)
    assert (site.name, site.status, site.physicalType.coding[0].code) == ("Midtown", "active", "si")
    assert [(e.url, e.valueCode) for e in site.extension] == [(TIME_ZONE, "America/New_York")]
    assert [hours.daysOfWeek for hours in site.hoursOfOperation] == [["mon"], ["tue"], ["wed"], ["thu"], ["fri"],
                                                                     ["sat"]]
    assert site.hoursOfOperation[0].openingTime == time(8) and site.address.text.startswith("1 Main St")


def test_a_chair_reads_as_a_location_part_of_its_site(desk, fhir_world):
    chair = read(desk.get(f"/fhir/Location/chair-{fhir_world.chairs['chair1'].pk}"), Location)
    assert (chair.name, chair.physicalType.coding[0].code) == ("Chair 1", "ro")
    assert chair.partOf.reference == f"Location/site-{fhir_world.sites['midtown'].pk}"


@pytest.mark.parametrize("resource_id", ["12", "site-999999", "chair-x", "room-1"])
def test_an_unknown_location_is_a_404_outcome(desk, resource_id):
    assert _refused(desk, f"/fhir/Location/{resource_id}", 404).issue[0].code == "not-found"


@pytest.mark.parametrize(("query", "expected"), [
    ("partof=Location/site-{midtown}", ["Chair 1", "Infusion 1", "Old chair"]),
    ("type=si", ["Midtown", "Westside"]),
    ("type=ro&status=inactive", ["Old chair"]),
    ("name=west", ["Westside", "West 1"]),
    ("_id=site-{midtown},chair-{west}", ["Midtown", "West 1"]),
])
def test_locations_are_found_by_site_type_status_and_name(desk, fhir_world, query, expected):
    url = "/fhir/Location?" + query.format(midtown=fhir_world.sites["midtown"].pk, west=fhir_world.chairs["west"].pk)
    assert [entry.resource.name for entry in _bundle(desk, url).entry or []] == expected


def test_locations_page_through_sites_then_chairs(desk):
    found, bundles = every_page(desk, "/fhir/Location?_count=4", Bundle)
    names = [entry.resource.name for bundle in bundles for entry in bundle.entry]
    assert names == ["Midtown", "Westside", "Chair 1", "Infusion 1", "Old chair", "West 1"]
    assert len(bundles) == 2 and len(set(found)) == 6


# --- Schedule -------------------------------------------------------------------------------------------------


def test_a_chair_has_a_schedule_naming_it_and_the_treatments_it_gives(desk, fhir_world):
    chair = fhir_world.chairs["chair1"]
    schedule = read(desk.get(f"/fhir/Schedule/{chair.pk}"), Schedule)
    assert schedule.actor[0].reference == f"Location/chair-{chair.pk}"
    assert [concept.coding[0].code for concept in schedule.serviceType] == ["esketamine"]


def test_a_chair_at_a_site_without_rems_certification_offers_iv_only(desk, fhir_world):
    schedule = read(desk.get(f"/fhir/Schedule/{fhir_world.chairs['west'].pk}"), Schedule)
    assert [concept.coding[0].code for concept in schedule.serviceType] == ["ketamine-iv"]


def test_a_chair_out_of_service_has_no_schedule(desk, fhir_world):
    _refused(desk, f"/fhir/Schedule/{fhir_world.chairs['retired'].pk}", 404)


@pytest.mark.parametrize(("query", "expected"), [
    ("actor=Location/site-{midtown}", ["chair1", "infusion"]),
    ("actor=Location/chair-{infusion}", ["infusion"]),
    ("service-type=esketamine", ["chair1"]),
    ("actor=Practitioner/1", []),
    ("service-type=ketamine-iv", ["infusion", "west"]),
    ("", ["chair1", "infusion", "west"]),
])
def test_schedules_are_found_by_actor_and_service_type(desk, fhir_world, query, expected):
    url = "/fhir/Schedule?" + query.format(midtown=fhir_world.sites["midtown"].pk,
                                           infusion=fhir_world.chairs["infusion"].pk)
    by_id = {str(chair.pk): name for name, chair in fhir_world.chairs.items()}
    assert [by_id[pk] for pk in ids_of(_bundle(desk, url))] == expected


# --- Slot -----------------------------------------------------------------------------------------------------


def _slots(client, chair, query: str = "") -> list[Slot]:
    found, bundles = every_page(client, f"/fhir/Slot?schedule=Schedule/{chair.pk}&_count=100{query}", Bundle)
    return [entry.resource for bundle in bundles for entry in bundle.entry or []]


def test_a_chairs_slots_are_its_free_starts_around_the_booked_session(desk, fhir_world):
    # given: Chair 1 is booked on Tuesday 09:00-11:30, turnover until 11:45; esketamine holds it 150 minutes
    chair = fhir_world.chairs["chair1"]
    # when
    slots = _slots(desk, chair, "&start=ge2026-03-03&start=lt2026-03-04")
    # then: 11:45 to 15:30 (the last start that ends by 18:00), every 15 minutes, New York time
    first = fhir_world.sites["midtown"].at(TUESDAY, time(11, 45))
    assert [slot.start for slot in slots] == [first + timedelta(minutes=15 * n) for n in range(16)]
    assert all(slot.end - slot.start == timedelta(minutes=150) and slot.status == "free" for slot in slots)
    assert {slot.schedule.reference for slot in slots} == {f"Schedule/{chair.pk}"}
    assert parse_slot_id(slots[0].id) == (chair.pk, first.astimezone(UTC))


def test_without_start_the_slots_run_from_now_for_seven_days_on_open_days(desk, fhir_world):
    slots = _slots(desk, fhir_world.chairs["infusion"])
    zone = fhir_world.sites["midtown"].zone
    days = sorted({slot.start.astimezone(zone).date() for slot in slots})
    assert slots[0].start == NOW and len(days) == 6  # Monday to Saturday; closed on Sunday
    assert max(slot.start for slot in slots) < fhir_world.sites["midtown"].at(TUESDAY + timedelta(days=6), time(0))
    assert all(slot.serviceType[0].coding[0].code == "ketamine-iv" for slot in slots)


def test_a_free_slot_reads_by_its_id_and_a_booked_time_is_no_slot(desk, fhir_world):
    chair = fhir_world.chairs["chair1"]
    free = slot_id(chair.pk, fhir_world.sites["midtown"].at(TUESDAY, time(12)))
    booked = slot_id(chair.pk, fhir_world.sites["midtown"].at(TUESDAY, time(9)))
    assert read(desk.get(f"/fhir/Slot/{free}"), Slot).id == free
    _refused(desk, f"/fhir/Slot/{booked}", 404)
    _refused(desk, "/fhir/Slot/not-a-slot", 404)


def test_a_treatment_the_chair_does_not_give_has_no_slots(desk, fhir_world):
    assert _slots(desk, fhir_world.chairs["chair1"], "&service-type=ketamine-iv") == []
    assert _slots(desk, fhir_world.chairs["infusion"], "&status=free&start=2026-03-03")[0].start == datetime(
        2026, 3, 3, 13, tzinfo=UTC)


def test_an_unknown_schedule_has_no_slots(desk):
    assert _bundle(desk, "/fhir/Slot?schedule=Schedule/999999").total == 0


@pytest.mark.parametrize(("query", "code"), [
    ("", "invalid"),  # no schedule
    ("schedule=Schedule/{chair}&status=busy", "not-supported"),
    ("schedule=Schedule/{chair}&status=maybe", "invalid"),
    ("schedule=Schedule/{chair}&start=ge2026-03-03&start=le2026-04-30", "invalid"),
    ("schedule=Patient/{chair}", "invalid"),
    ("schedule=Schedule/{chair}&start=soon", "invalid"),
])
def test_a_slot_search_it_cannot_answer_is_a_400_outcome(desk, fhir_world, query, code):
    outcome = _refused(desk, "/fhir/Slot?" + query.format(chair=fhir_world.chairs["chair1"].pk))
    assert outcome.issue[0].code == code


def test_a_slot_search_reads_in_a_fixed_number_of_queries(desk, fhir_world, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        _bundle(desk, f"/fhir/Slot?schedule=Schedule/{fhir_world.chairs['chair1'].pk}"
                      f",{fhir_world.chairs['infusion'].pk}&start=ge2026-03-02&start=lt2026-04-01")
