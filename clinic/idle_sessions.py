"""Web sessions end after ``SESSION_IDLE_MINUTES`` without a person using them.

Treatment-room and front-desk screens are shared and left open. The day
board polls every 20 seconds and the observation board every 5; if those
background requests kept the session alive, a screen walked away from would
stay signed in for ever. So only requests a person makes count: each one
moves the session's expiry on (what Django's ``SESSION_SAVE_EVERY_REQUEST``
would do for every request), and a polling request, marked by the
``X-Clinic-Poll`` header its element sends, leaves the session untouched.

Two locks, each enough on its own: the session row's expiry in the database
is only moved by real requests, and the session carries the time of the last
real request, checked here on every request (so a session saved for another
reason during a poll still ends on time).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout

# Sent by the elements that refresh themselves on a timer (hx-headers in the templates).
POLL_HEADER = "X-Clinic-Poll"
LAST_ACTIVITY_KEY = "clinic_last_activity"


def is_background_poll(request) -> bool:
    """An htmx request from an element refreshing itself on a timer, not from a person."""
    return request.headers.get("HX-Request") == "true" and bool(request.headers.get(POLL_HEADER))


class IdleSessionMiddleware:
    """Ends sessions idle for longer than ``SESSION_COOKIE_AGE``; only real requests keep one alive."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if request.user.is_authenticated:
            last = session.get(LAST_ACTIVITY_KEY)
            now = int(time.time())
            if last is not None and now - last > settings.SESSION_COOKIE_AGE:
                logout(request)
            elif not is_background_poll(request):
                # Saving moves the session row's expiry and the cookie's on by the full idle time.
                session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)
