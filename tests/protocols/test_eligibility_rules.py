"""Tests of the eligibility rules in DOMAIN.md "Eligibility"."""

import pytest

from protocols.eligibility import Finding, check, hard_stops, needs_override

ESKETAMINE = "esketamine_nasal"
IV = "ketamine_iv"


def codes(findings):
    return [finding.code for finding in findings]


@pytest.mark.parametrize(
    "condition",
    [
        "aneurysmal_vascular_disease",
        "arteriovenous_malformation",
        "intracerebral_hemorrhage_history",
        "ketamine_hypersensitivity",
    ],
)
def test_it_stops_esketamine_with_no_override_for_each_contraindication(condition):
    # given
    screening = {condition: True}

    # when
    findings = check(ESKETAMINE, "mdd", screening)

    # then
    assert codes(findings) == [condition]
    assert findings[0].overridable is False


def test_it_asks_for_an_override_for_esketamine_in_pregnancy():
    # given / when
    findings = check(ESKETAMINE, "mdd", {"pregnant": True})

    # then
    assert [(f.code, f.overridable) for f in findings] == [("pregnant", True)]


@pytest.mark.parametrize("diagnosis", ["bipolar", "ptsd", "other"])
def test_it_asks_for_an_override_for_esketamine_outside_major_depression(diagnosis):
    # given / when
    findings = check(ESKETAMINE, diagnosis, {})

    # then
    assert [(f.code, f.overridable) for f in findings] == [("diagnosis_not_mdd", True)]


@pytest.mark.parametrize("diagnosis", ["mdd", "mdd_si"])
def test_it_accepts_major_depression_with_or_without_suicidal_ideation_for_esketamine(
    diagnosis,
):
    # given / when
    findings = check(ESKETAMINE, diagnosis, {})

    # then
    assert findings == ()


@pytest.mark.parametrize(
    "condition",
    [
        "uncontrolled_hypertension",
        "psychosis_or_mania_history",
        "active_substance_use",
        "pregnant",
        "breastfeeding",
        "raised_intracranial_pressure",
        "uncontrolled_seizures",
    ],
)
def test_it_asks_for_an_override_for_iv_ketamine_for_each_caution(condition):
    # given / when
    findings = check(IV, "mdd", {condition: True})

    # then
    assert [(f.code, f.overridable) for f in findings] == [(condition, True)]


def test_it_stops_iv_ketamine_for_a_ketamine_hypersensitivity():
    # given / when
    findings = check(IV, "mdd", {"ketamine_hypersensitivity": True})

    # then
    assert [(f.code, f.overridable) for f in findings] == [
        ("ketamine_hypersensitivity", False)
    ]


def test_iv_ketamine_has_no_diagnosis_rule():
    # given / when: IV ketamine is off-label for every diagnosis, so none is flagged
    findings = check(IV, "bipolar", {})

    # then
    assert findings == ()


@pytest.mark.parametrize("modality", [ESKETAMINE, IV])
def test_a_clean_patient_has_no_findings(modality):
    # given: every answer given, all no
    screening = {
        key: False
        for key in (
            "aneurysmal_vascular_disease",
            "arteriovenous_malformation",
            "intracerebral_hemorrhage_history",
            "ketamine_hypersensitivity",
            "pregnant",
            "breastfeeding",
            "uncontrolled_hypertension",
            "psychosis_or_mania_history",
            "active_substance_use",
            "raised_intracranial_pressure",
            "uncontrolled_seizures",
        )
    }

    # when
    findings = check(modality, "mdd", screening)

    # then
    assert findings == ()


def test_it_returns_every_finding_at_once_hard_stops_first():
    # given
    screening = {"pregnant": True, "arteriovenous_malformation": True}

    # when
    findings = check(ESKETAMINE, "bipolar", screening)

    # then
    assert codes(findings) == [
        "arteriovenous_malformation",
        "pregnant",
        "diagnosis_not_mdd",
    ]


def test_it_returns_every_iv_finding_at_once():
    # given
    screening = {"breastfeeding": True, "uncontrolled_seizures": True, "pregnant": True}

    # when
    findings = check(IV, "mdd", screening)

    # then
    assert sorted(codes(findings)) == [
        "breastfeeding",
        "pregnant",
        "uncontrolled_seizures",
    ]


def test_hard_stops_and_overrides_are_split_apart():
    # given
    findings = check(
        ESKETAMINE, "ptsd", {"ketamine_hypersensitivity": True, "pregnant": True}
    )

    # when
    stops = hard_stops(findings)
    overrides = needs_override(findings)

    # then
    assert codes(stops) == ["ketamine_hypersensitivity"]
    assert codes(overrides) == ["pregnant", "diagnosis_not_mdd"]
    assert all(isinstance(finding, Finding) for finding in findings)


def test_messages_tell_staff_the_condition_the_treatment_and_what_to_do():
    # given / when
    stop = check(ESKETAMINE, "mdd", {"aneurysmal_vascular_disease": True})[0]
    caution = check(IV, "mdd", {"breastfeeding": True})[0]

    # then
    assert stop.message.startswith("Aneurysmal vascular disease")
    assert stop.message.endswith("is a contraindication to esketamine.")
    assert caution.message == (
        "Breastfeeding: IV ketamine needs a clinician's override with a reason."
    )


def test_an_unknown_modality_is_refused_rather_than_passed():
    # given / when / then
    with pytest.raises(ValueError, match="modality"):
        check("ketamine_oral", "mdd", {})
