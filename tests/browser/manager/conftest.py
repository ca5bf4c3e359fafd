"""The manager's browser tests: a manager on the site's staff, her browser at 1440 and 1024 pixels."""

from __future__ import annotations

import re

import pytest

from clinic.roles import MANAGER
from tests.factories import UserFactory

MANAGER_PASSWORD = "manager-browser-2026"
LANDS_ON_MANAGE = re.compile(r"/manage/$")
WIDTHS = (1440, 1024)


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def width(request) -> int:
    return request.param


@pytest.fixture
def manager_user(site):
    """Mia Moreno, manager, on ``site``'s staff; signs in with ``MANAGER_PASSWORD``."""
    user = UserFactory(username="mia.moreno", first_name="Mia", last_name="Moreno", roles=[MANAGER])
    user.set_password(MANAGER_PASSWORD)
    user.save()
    site.staff.add(user)
    return user


@pytest.fixture
def boss(new_browser, manager_user, width):
    """A browser at ``width`` pixels, signed in as the manager, on the manager's home she lands on."""
    from tests.browser.conftest import sign_in

    page = new_browser()
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, manager_user.username, MANAGER_PASSWORD, lands_on=LANDS_ON_MANAGE)
    return page
