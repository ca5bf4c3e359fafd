"""Load the demo clinic, laid out against the clock: coherent whatever the hour it is loaded.

Run twice, it keeps a demo that still agrees with the clock and replaces one that does
not (``scheduling.demo.reset``): a database kept from yesterday's `make run` gets today's.
"""

import time

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from clinic.roles import CLINICIAN, FRONT_DESK
from scheduling.demo.access import write_access_log
from scheduling.demo.authorisations import create_demo_authorisations, settle_demo_authorisations
from scheduling.demo.charting import bring_reminders_forward, chart_recent_sessions, settle_rems_forms
from scheduling.demo.courses import Story, create_demo_courses, end_stories
from scheduling.demo.measures import create_demo_measures
from scheduling.demo.offers import create_offer_candidates
from scheduling.demo.patients import create_demo_patients
from scheduling.demo.reset import demo_is_loaded, demo_is_stale, remove_demo
from scheduling.demo.sessions import EXTRA_CLINICIANS, create_demo_sessions, create_demo_sites
from scheduling.demo.stock import create_demo_stock
from scheduling.demo.texts import write_text_history
from scheduling.demo.users import DEMO_PASSWORD, DEMO_USERS, create_demo_users
from scheduling.worklist.sweep import refresh_worklist


class Command(BaseCommand):
    help = "Create demo staff, sites, chairs, patients, courses, sessions, charts and texts; prints the logins."

    @transaction.atomic
    def handle(self, *args, **options):
        began = time.monotonic()
        now = timezone.now()
        users = create_demo_users()
        sites = create_demo_sites(users)
        if demo_is_loaded() and not demo_is_stale(now):
            self.stdout.write(self.style.SUCCESS("Demo data is already loaded and agrees with the clock: kept."))
        else:
            replaced = remove_demo() if demo_is_loaded() else 0
            self._load(users, sites, now, replaced, began)
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD}):")
        for username, _first, _last, role in DEMO_USERS:
            self.stdout.write(f"  {username:<12} {role}")
        for username, _first, _last in EXTRA_CLINICIANS:
            self.stdout.write(f"  {username:<12} clinician")

    def _load(self, users, sites, now, replaced, began):
        patients = create_demo_patients()
        demos = create_demo_courses(patients, users, today={index: site.local_date(now)
                                                            for index, site in enumerate(sites)})
        # Esketamine bookings need an approval: the demo's are entered first, shaped into the desk's cases after.
        create_demo_authorisations([demo.course for demo in demos], by=users[FRONT_DESK],
                                   today=sites[0].local_date(now))
        sessions = create_demo_sessions(demos, sites, booker=users[FRONT_DESK], now=now)
        # Each site's controlled-substance stock, so the charted doses below draw from real lots.
        lots = create_demo_stock(sites, users, now)
        charted = chart_recent_sessions(now=now)
        end_stories(demos, users, now=now)
        settle_demo_authorisations([demo.course for demo in demos], by=users[FRONT_DESK],
                                   today=sites[0].local_date(now))
        forms = settle_rems_forms(now)
        # At each site, patients of both treatments a freed chair can be offered to (booked later and wanting
        # earlier, or due from tomorrow), so a cancel in the demo is offered by text.
        create_offer_candidates(patients, sites, users, now=now)
        measures = create_demo_measures([demo.course for demo in demos], by=users[CLINICIAN])
        asking = next((demo.course for demo in demos if demo.story == Story.RESCHEDULE), None)
        texts = write_text_history(now, asking_for_new_time=asking)
        opened = write_access_log(users, now=now)
        items = refresh_worklist(now=now)
        texts_soon = bring_reminders_forward(now=now)
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready in {time.monotonic() - began:.1f} s"
            + (f" (replaced {replaced} patients laid out at an earlier time)" if replaced else "") + ": "
            f"{len(patients)} patients, {len(sites)} sites, {len(demos)} courses, {sessions} sessions, "
            f"{lots} stock lots, {charted} charts (doses drawn from them), "
            f"{forms} REMS forms submitted, {measures} PHQ-9s, {texts} reminder texts sent, "
            f"{opened} openings of records in the access log, "
            f"{items['opened']} worklist items, {texts_soon} reminders due in the next few minutes (see /outbox/)."
        ))
