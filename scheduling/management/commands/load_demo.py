"""Load the demo data set. Safe to run twice: every object is found by a natural key first."""

from django.core.management.base import BaseCommand
from django.db import transaction

from clinic.roles import CLINICIAN, FRONT_DESK
from scheduling.demo.charting import bring_reminders_forward, chart_recent_sessions, start_live_sessions
from scheduling.demo.courses import create_demo_courses
from scheduling.demo.measures import create_demo_measures
from scheduling.demo.patients import create_demo_patients
from scheduling.demo.sessions import EXTRA_CLINICIANS, create_demo_sessions, create_demo_sites
from scheduling.demo.users import DEMO_PASSWORD, DEMO_USERS, create_demo_users


class Command(BaseCommand):
    help = "Create demo staff, sites, chairs, patients, courses and sessions; prints the logins."

    @transaction.atomic
    def handle(self, *args, **options):
        users = create_demo_users()
        patients = create_demo_patients()
        sites = create_demo_sites(users)
        courses = create_demo_courses(patients, users)
        sessions = create_demo_sessions(list(courses), sites, booker=users[FRONT_DESK])
        charted = chart_recent_sessions(users[CLINICIAN])
        measures = create_demo_measures(list(courses), by=users[CLINICIAN])
        live = start_live_sessions(sites[0], users[CLINICIAN])
        texts_soon = bring_reminders_forward()
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready: {len(patients)} patients, {len(sites)} sites, {len(courses)} courses, "
            f"{sessions} new sessions, {charted} charts, {measures} PHQ-9s, {live} sessions under way now, "
            f"{texts_soon} reminders due in the next few minutes (see /outbox/)."
        ))
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD}):")
        for username, _first, _last, role in DEMO_USERS:
            self.stdout.write(f"  {username:<12} {role}")
        for username, _first, _last in EXTRA_CLINICIANS:
            self.stdout.write(f"  {username:<12} clinician")
