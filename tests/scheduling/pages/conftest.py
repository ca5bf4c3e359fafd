"""The web pages' signed-in browsers: the front desk and the clinician who works at Midtown.

Both are pytest-django's ``client``, signed in with ``force_login``; ``client.signed_in_as``
says as whom, so a step can sign in again after the clock moves past the idle limit.
"""

from __future__ import annotations

import pytest


def _signed_in(client, user):
    client.force_login(user)
    client.signed_in_as = user
    return client


@pytest.fixture
def desk(client, front_desk):
    """The front desk's browser."""
    return _signed_in(client, front_desk)


@pytest.fixture
def nurse(client, staff_clinician):
    """The browser of Dr Ortiz, the clinician who works at ``site``."""
    return _signed_in(client, staff_clinician)


@pytest.fixture
def esk_session(esk_session):
    """The clinic day's ``esk_session``, its patient's sex recorded: the REMS form asks for it."""
    esk_session.patient.sex = "female"
    esk_session.patient.save()
    return esk_session
