"""The manager's home: the clinic's sites, staff, protocols, texts and audit, as pages of the system.

Each section says what stands now in a few figures, each a cheap query (six in all,
whatever the number of sites), and links to the page that changes it. A site's
facts are on its own clock: today's hours are today's where the site is. The
Django admin is linked for superusers only; a manager runs the clinic from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import reduce
from operator import or_

from django.contrib.auth.models import Group
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.roles import ALL_ROLES, MANAGER, ROLE_LABELS, role_required
from patients.selectors import UNUSUAL_ACCESS_LOOKBACK, unusual_access
from patients.services import home_zone
from protocols.models import Protocol
from scheduling.booking.selectors import site_calendar, with_calendar
from scheduling.models import Chair, Closure, Location, ReminderPolicy

# A policy's settings a manager may change, as the home names the ones that differ from the defaults.
POLICY_SETTINGS = {
    "day_before_enabled": "day-before reminder", "day_before_at": "day-before time",
    "same_day_enabled": "same-day reminder", "same_day_hours_before": "same-day hours before",
    "quiet_from": "quiet hours", "quiet_until": "quiet hours", "daily_cap": "daily cap", "weekly_cap": "weekly cap",
    "min_lead_minutes": "shortest notice", "day_before_template": "day-before text",
    "same_day_template": "same-day text", "outreach_template": "due-visit text",
}


@dataclass(frozen=True)
class SiteFacts:
    location: Location
    chairs_in_service: int
    today: date
    opens: datetime | None  # today's opening, local; None when closed today
    closes: datetime | None
    closed_today_reason: str | None  # a closure today ("" when it gives none); None when not closed by one
    next_closure: Closure | None  # after today
    policy_changes: list[str]  # the policy's settings that differ from the defaults; [] for the defaults


def policy_changes(policy: ReminderPolicy | None) -> list[str]:
    """What a site's texting policy changes from the defaults (DOMAIN's), in words; [] for none or no policy."""
    if policy is None:
        return []
    defaults = ReminderPolicy()
    return list(dict.fromkeys(words for name, words in POLICY_SETTINGS.items()
                              if getattr(policy, name) != getattr(defaults, name)))


def site_facts(now: datetime) -> list[SiteFacts]:
    """Every site, active first, with its facts for the home (three queries)."""
    in_service = (Chair.objects.filter(location=OuterRef("pk"), active=True).order_by()
                  .values("location").annotate(count=Count("pk")).values("count"))
    sites = list(with_calendar(Location.objects.all())
                 .annotate(in_service=Coalesce(Subquery(in_service, output_field=IntegerField()), Value(0)))
                 .order_by("-active", "name"))
    rows = []
    for site in sites:
        calendar = site_calendar(site)
        today = site.local_date(now)
        upcoming = sorted(day for day in calendar.closures if day >= today)
        rows.append((site, calendar, today, upcoming[:2]))
    wanted = [Q(location=site, date__in=days) for site, _, _, days in rows if days]
    closures = ({(c.location_id, c.date): c for c in Closure.objects.filter(reduce(or_, wanted))}
                if wanted else {})
    policies = {p.location_id: p for p in ReminderPolicy.objects.filter(location__in=sites)}
    facts = []
    for site, calendar, today, days in rows:
        opening = calendar.opening(today)
        closed_today = closures.get((site.pk, today))
        later = next((closures[(site.pk, day)] for day in days if day > today), None)
        facts.append(SiteFacts(
            location=site, chairs_in_service=site.in_service, today=today,
            opens=opening[0] if opening else None, closes=opening[1] if opening else None,
            closed_today_reason=closed_today.reason if closed_today else None, next_closure=later,
            policy_changes=policy_changes(policies.get(site.pk)),
        ))
    return facts


def staff_counts() -> list[tuple[str, int]]:
    """Active users per clinic role, in the roles' order (one query)."""
    counts = dict(Group.objects.filter(name__in=ALL_ROLES)
                  .annotate(people=Count("user", filter=Q(user__is_active=True)))
                  .values_list("name", "people"))
    return [(ROLE_LABELS[role], counts.get(role, 0)) for role in ALL_ROLES]


@require_GET
@role_required(MANAGER)
def manager_home(request):
    """Sites, staff, protocols, texts and the access log (with anyone flagged), each with its figures and page."""
    protocols = Protocol.objects.aggregate(active=Count("pk", filter=Q(active=True)), total=Count("pk"))
    return render(request, "scheduling/pages/manager_home.html", {
        "sites": site_facts(timezone.now()),
        "staff": staff_counts(),
        "protocols": protocols,
        # Shown here too: a manager should not have to open the access log to learn someone is browsing charts.
        "unusual_access": unusual_access(),
        "lookback_days": UNUSUAL_ACCESS_LOOKBACK.days,
        "zone": home_zone(patient_id=None, user=request.user),
    })


urlpatterns = [
    path("manage/", manager_home, name="manager-home"),
]
