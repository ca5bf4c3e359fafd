"""The desk's list of freed-chair offers (`/offers/`): a site's day or week, grouped by freed time.

Each freed time (a chair and a start) shows what freed it, every patient it was
offered to with the offer's state and times, and what became of it: booked by a
patient's YES, booked by the desk meanwhile, still being offered, or not refilled.
Times a patient took come first, so the desk can call them if needed. Above
the list, the week's freed chair hours, the hours offers refilled and the
median time to take (the dashboard's figure, ``scheduling.reports.offers``).
The rules that made these offers are in docs/OFFERS.md; this page only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET

from clinic.roles import MANAGER, has_role, role_required
from scheduling.models import Location, Offer, OfferState, Session, SessionStatus
from scheduling.pages import day_words
from scheduling.reports import offers as offer_numbers

PAGE_SIZE = 20
SPANS = (("day", "Day"), ("week", "Week"))
FREED_BY = {SessionStatus.CANCELLED: "A cancel"}


@dataclass
class FreedTime:
    """One freed chair time and the offers made of it."""

    chair: object
    start: datetime
    end: datetime
    freed_from: Session | None
    offers: list[Offer] = field(default_factory=list)
    rebooked: Session | None = None  # a session that holds the chair now, booked other than by an offer

    @property
    def taken(self) -> Offer | None:
        return next((offer for offer in self.offers if offer.state == OfferState.TAKEN), None)

    @property
    def open(self) -> bool:
        return any(offer.is_open for offer in self.offers)

    @property
    def freed_by(self) -> str:
        if self.freed_from is None:
            return "Not recorded"
        return FREED_BY.get(self.freed_from.status, "A move")

    @property
    def result(self) -> str:
        if self.taken is not None:
            return f"Refilled: booked by {self.taken.patient.display_name} (replied YES)"
        if self.rebooked is not None:
            return f"Booked by the desk for {self.rebooked.patient.display_name}"
        if self.open:
            return "Still being offered"
        return "Not refilled"


def _span(request, location: Location) -> tuple[str, date, date, date]:
    """The span asked for (day or week), the day it holds, and its first and last days; bad input means today."""
    span = request.GET.get("span") if request.GET.get("span") in dict(SPANS) else "day"
    try:
        day = parse_date(request.GET.get("day") or "")
    except ValueError:
        day = None
    day = day or location.local_date(timezone.now())
    first = day - timedelta(days=day.weekday()) if span == "week" else day
    last = first + timedelta(days=6) if span == "week" else day
    return span, day, first, last


def freed_times(location: Location, first: date, last: date) -> list[FreedTime]:
    """The site's freed times from ``first`` to ``last`` (its own days): taken ones first, then by time."""
    since, until = location.at(first, time()), location.at(last + timedelta(days=1), time())
    offers = (Offer.objects.filter(location=location, start__gte=since, start__lt=until)
              .select_related("chair", "patient", "freed_from", "session").order_by("start", "chair__name", "id"))
    groups: dict[tuple[int, datetime], FreedTime] = {}
    for offer in offers:
        group = groups.setdefault((offer.chair_id, offer.start),
                                  FreedTime(offer.chair, offer.start, offer.end, offer.freed_from))
        group.offers.append(offer)
    # One query for what now holds each chair at its freed time, booked by the desk rather than an offer.
    taken_sessions = {offer.session_id for group in groups.values() for offer in group.offers if offer.session_id}
    holding = (Session.objects.filter(chair_id__in={chair for chair, _ in groups}, start__in={s for _, s in groups})
               .exclude(status=SessionStatus.CANCELLED).exclude(pk__in=taken_sessions).select_related("patient"))
    for session in holding:
        group = groups.get((session.chair_id, session.start))
        if group is not None:
            group.rebooked = session
    return sorted(groups.values(), key=lambda group: (group.taken is None, group.start, group.chair.name))


def next_offered_day(location: Location, after: date) -> date | None:
    """The site's first day after ``after`` with a freed time offered, if any (its own day)."""
    start = (Offer.objects.filter(location=location, start__gte=location.at(after + timedelta(days=1), time()))
             .order_by("start").values_list("start", flat=True).first())
    return location.local_date(start) if start is not None else None


@dataclass(frozen=True)
class BoardMarker:
    """What the board shows of one freed time's offers: when, which chair, how many and in which states."""

    start: datetime
    chair_name: str
    count: int
    states: str


def board_markers(location: Location, day: date) -> list[BoardMarker]:
    """The day's freed times that have offers, for the board (one grouped query)."""
    since, until = location.day_bounds(day)
    rows = (Offer.objects.filter(location=location, start__gte=since, start__lt=until)
            .values("start", "chair__name", "state").annotate(count=Count("id")).order_by("start", "chair__name"))
    grouped: dict[tuple[datetime, str], dict[str, int]] = {}
    for row in rows:
        grouped.setdefault((row["start"], row["chair__name"]), {})[row["state"]] = row["count"]
    labels = dict(OfferState.choices)
    return [BoardMarker(start, chair_name, sum(states.values()),
                        ", ".join(f"{count} {labels[state].lower()}" for state, count in sorted(states.items())))
            for (start, chair_name), states in grouped.items()]


def week_numbers(request, location: Location, day: date) -> dict:
    """The site's freed-chair numbers for the week holding ``day`` (the dashboard's figure, one statement), with
    a link to that week on the dashboard for those who may open it."""
    monday = day - timedelta(days=day.weekday())
    numbers = offer_numbers.week_at_site(location.pk, day, now=timezone.now())
    numbers["first"], numbers["last"] = monday, monday + timedelta(days=6)
    numbers["dashboard_href"] = (
        f"{reverse('numbers')}?{urlencode({'location': location.pk, 'period': 'week', 'anchor': monday})}"
        if has_role(request.user, MANAGER) else None)
    return numbers


@require_GET
@role_required()
def offers_list(request):
    """Today's or this week's offers at one site."""
    locations = list(Location.objects.filter(active=True).order_by("name"))
    if request.GET.get("location", "").isdigit():
        location = get_object_or_404(Location, pk=int(request.GET["location"]))
    elif locations:
        location = locations[0]
    else:
        return render(request, "scheduling/offers/offers.html", {"locations": [], "location": None})
    span, day, first, last = _span(request, location)
    step = timedelta(days=7 if span == "week" else 1)
    page = Paginator(freed_times(location, first, last), PAGE_SIZE).get_page(request.GET.get("page"))
    # Offers are for times ahead, so today's list is often empty just after a cancel: say where the next ones are.
    next_offered = None if page.object_list else next_offered_day(location, last)
    return render(request, "scheduling/offers/offers.html", {
        "locations": locations, "location": location, "span": span, "spans": SPANS, "day": day,
        "first": first, "last": last, "span_words": day_words(first) if span == "day" else
        f"{day_words(first)} – {day_words(last)}", "page": page, "earlier": day - step, "later": day + step,
        "zone": location.time_zone, "numbers": week_numbers(request, location, day), "next_offered": next_offered,
    })


urlpatterns = [
    path("offers/", offers_list, name="offers"),
]
