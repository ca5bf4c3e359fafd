"""A web session ends after SESSION_IDLE_MINUTES without a person using it; the boards' polling does not count."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clinic.idle_sessions import POLL_HEADER

pytestmark = pytest.mark.django_db

POLL = {"HTTP_HX_REQUEST": "true", f"HTTP_{POLL_HEADER.upper().replace('-', '_')}": "1",
        "HTTP_HX_CURRENT_URL": "http://testserver/board/"}


@pytest.fixture
def board(site):
    return f"/board/{site.pk}/2026-03-02/"


@pytest.fixture
def signed_in(client, front_desk, board, clock):
    """The front desk opens the day board at 09:00 (``clock``, which it returns) and walks away."""
    client.force_login(front_desk)
    assert client.get(board).status_code == 200
    return clock


def poll(client, board):
    return client.get(board + "body/", **POLL)


def test_the_idle_time_is_fifteen_minutes_by_default(settings):
    assert settings.SESSION_COOKIE_AGE == 15 * 60


def test_polling_alone_does_not_keep_the_session_alive(client, board, signed_in):
    # given the board polls every 20 seconds for almost 15 minutes, each poll answered
    for _ in range(44):
        signed_in.shift(timedelta(seconds=20))
        assert poll(client, board).status_code == 200
    # when anyone touches the screen just after the 15 minutes
    signed_in.shift(timedelta(seconds=22))
    response = client.get(board)
    # then they must sign in again
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_poll_after_the_session_ended_takes_the_whole_screen_to_the_login_page(client, board, signed_in):
    # given
    signed_in.shift(timedelta(minutes=15, seconds=1))
    # when the board polls
    response = poll(client, board)
    # then htmx is told to leave the page (and the patients on it), not to swap a login form into it
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/login/?next=")


def test_a_poll_does_not_refresh_the_session_cookie(client, board, signed_in, settings):
    signed_in.shift(timedelta(minutes=5))
    response = poll(client, board)
    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_a_real_navigation_keeps_the_session_alive(client, board, signed_in, settings):
    # given ten minutes of polling
    for _ in range(30):
        signed_in.shift(timedelta(seconds=20))
        poll(client, board)
    # when the desk opens the worklist
    response = client.get("/worklist/")
    assert response.status_code == 200
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 15 * 60
    # then the idle clock starts again from there: 14 minutes later the board still opens
    signed_in.shift(timedelta(minutes=14))
    assert client.get(board).status_code == 200


def test_an_htmx_request_a_person_makes_counts_as_activity(client, board, signed_in):
    # given
    signed_in.shift(timedelta(minutes=10))
    # when the desk searches (htmx, but no polling marker)
    assert client.get("/patients/?q=ri", HTTP_HX_REQUEST="true").status_code == 200
    # then
    signed_in.shift(timedelta(minutes=10))
    assert client.get(board).status_code == 200


def test_the_boards_poll_with_the_marker(client, board, signed_in, clinician, site):
    # the templates' polling elements send the marker header, or the rule above would be moot
    assert f'hx-headers=\'{{"{POLL_HEADER}": "1"}}\'' in client.get(board).content.decode()
    client.force_login(clinician)
    assert f'hx-headers=\'{{"{POLL_HEADER}": "1"}}\'' in client.get(f"/observation/{site.pk}/").content.decode()
