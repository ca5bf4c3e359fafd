from django.http import Http404, HttpResponse

from patients.services import record_exports_daily
from scheduling.booking.calendar_feed import clinician_calendar, feed_sessions
from scheduling.models import CalendarFeed

# The access log names the feed without its token: the token is the feed's only credential.
FEED_LOG_PATH = "/ical/clinician/<token>.ics"


def clinician_ical(request, token: str):
    """The iCalendar feed; the token is the only credential, so a wrong one is a plain 404."""
    feed = CalendarFeed.objects.select_related("user").filter(token=token, user__is_active=True).first()
    if feed is None:
        raise Http404("No such calendar.")
    sessions = feed_sessions(feed.user)
    # The feed leaves the system (phones, sync services) with initials and MRNs: an export, logged
    # once a day per patient, because calendar apps fetch it every few minutes.
    record_exports_daily(patient_ids=[session.patient_id for session in sessions], user=feed.user,
                         path=FEED_LOG_PATH)
    response = HttpResponse(clinician_calendar(feed.user, sessions), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
