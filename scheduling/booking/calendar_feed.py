"""A clinician's sessions as an iCalendar feed, behind a secret token.

Calendar apps cannot sign in, so the address itself is the secret; it carries
no patient names, drugs or diagnoses (initials and MRN only), because
calendar contents end up on phones and in third-party sync services.
"""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from scheduling.models import CalendarFeed, Session

FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 120


def feed_for(user) -> CalendarFeed:
    """The user's feed, created on first use."""
    feed, _ = CalendarFeed.objects.get_or_create(user=user, defaults={"token": CalendarFeed.new_token()})
    return feed


def feed_url(request, feed: CalendarFeed) -> str:
    return request.build_absolute_uri(reverse("clinician-ical", args=[feed.token]))


def feed_sessions(user) -> list[Session]:
    """The clinician's standing sessions from 30 days ago to 120 days ahead: what the feed carries."""
    now = timezone.now()
    return list(Session.objects.standing().filter(clinician=user, start__gte=now - timedelta(days=FEED_PAST_DAYS),
                                                  start__lte=now + timedelta(days=FEED_FUTURE_DAYS))
                .select_related("patient", "chair", "location").order_by("start"))


def clinician_calendar(user, sessions: list[Session] | None = None) -> bytes:
    """The clinician's sessions (``feed_sessions`` unless given) as iCalendar bytes."""
    now = timezone.now()
    sessions = feed_sessions(user) if sessions is None else sessions
    calendar = Calendar()
    calendar.add("prodid", "-//Clinic scheduling//Clinician sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "My clinic sessions")
    for session in sessions:
        event = Event()
        event.add("uid", f"session-{session.pk}@clinic")
        event.add("dtstamp", now)
        event.add("dtstart", session.start)
        event.add("dtend", session.end)
        event.add("summary", f"Session: {session.patient.initials} {session.patient.mrn}")
        where = session.location.name if session.location else ""
        if session.chair:
            where = f"{where}, {session.chair.name}"
        event.add("location", where)
        event.add("status", "CONFIRMED" if session.status != "booked" else "TENTATIVE")
        calendar.add_component(event)
    return calendar.to_ical()
