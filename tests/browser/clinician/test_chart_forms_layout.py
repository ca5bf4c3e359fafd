"""The chart's forms read as a new clinician reads them, at the two widths (1440 and 1024 pixels).

A patient dosed 20 minutes ago: device 2 is still to give, and nothing has been measured since the
dose. Each of the device form's labels stands above its own field (side by side, a label read as
the next field's); the observation's table says it has no reading yet rather than showing bare
headings; the vital-signs fields sit on one line; the stepper's pills share a line.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import blocking_violations
from tests.browser.clinician.chart_steps import book_started, chart_before
from tests.browser.front_desk.conftest import WIDTHS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DEVICE_LABELS = ("Device 2 given at (optional, if not now)",
                 "Reason, if less than 5 minutes after the previous device",
                 "Reason, if entered more than 15 minutes after the fact")
VITALS = ("Systolic (mmHg)", "Diastolic (mmHg)", "Heart rate (/min)", "SpO2 (%)")


def _stands_above(label: dict, field: dict) -> bool:
    """The label ends above the field's top and starts within the field's width: it reads as that field's."""
    return (label["y"] + label["height"] <= field["y"] + 1
            and field["x"] - 1 <= label["x"] < field["x"] + field["width"])


@pytest.mark.parametrize("width", WIDTHS, ids=lambda width: f"{width}px")
def test_the_device_form_labels_its_fields_and_observation_says_none_yet(nurse, width, course_today, chair,
                                                                         desk_user, clinician_user):
    # given a patient whose first device was given 20 minutes ago
    session = book_started(course_today, chair, desk_user, minutes_ago=30)
    chart_before(session, clinician_user, dose_at=10)
    nurse.set_viewport_size({"width": width, "height": 900})

    # when the clinician opens the chart
    nurse.goto(f"/sessions/{session.pk}/chart/")

    # then each of the device form's labels is above its own field
    form = nurse.get_by_test_id("device-form")
    for name in DEVICE_LABELS:
        field = form.get_by_label(name, exact=True)
        label = form.locator(f'label[for="{field.get_attribute("id")}"]')
        assert _stands_above(label.bounding_box(), field.bounding_box()), (name, label.bounding_box(),
                                                                           field.bounding_box())
    # and the observation's table says there is no reading yet
    after = nurse.get_by_test_id("vitals-after")
    expect(after).to_contain_text("None yet.")
    expect(after.get_by_test_id("vitals-row")).to_have_count(0)
    # and the vital-signs fields, the time taken among them, line up
    vitals = nurse.get_by_test_id("obs-vitals-form")
    tops = [round(vitals.get_by_label(name, exact=True).bounding_box()["y"]) for name in VITALS]
    tops.append(round(vitals.get_by_label("Time taken (optional, if not now)").bounding_box()["y"]))
    assert max(tops) - min(tops) <= 1, tops
    # and the stepper's pills on its first line share their middle
    pills = [nurse.locator("[data-testid=chart-step] a").nth(i).bounding_box() for i in range(7)]
    first_line = [pill for pill in pills if abs(pill["y"] - pills[0]["y"]) < pills[0]["height"]]
    middles = {round(pill["y"] + pill["height"] / 2) for pill in first_line}
    assert max(middles) - min(middles) <= 1, first_line
    assert blocking_violations(nurse) == []
    nurse.screenshot(path=f"/tmp/h5-chart-device-form-{width}.png", full_page=True)
