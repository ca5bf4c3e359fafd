from django.http import Http404, HttpResponse

from scheduling.calendar_feed import clinician_calendar
from scheduling.models import CalendarFeed


def clinician_ical(request, token: str):
    """The iCalendar feed; the token is the only credential, so a wrong one is a plain 404."""
    feed = CalendarFeed.objects.select_related("user").filter(token=token, user__is_active=True).first()
    if feed is None:
        raise Http404("No such calendar.")
    response = HttpResponse(clinician_calendar(feed.user), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
