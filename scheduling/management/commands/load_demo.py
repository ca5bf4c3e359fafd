"""Load the demo data set. Safe to run twice: every object is found by a natural key first."""

from django.core.management.base import BaseCommand
from django.db import transaction

from clinic.demo_users import DEMO_PASSWORD, DEMO_USERS, create_demo_users
from patients.demo import create_demo_patients


class Command(BaseCommand):
    help = "Create demo staff (one per role) and fictitious patients; prints the logins."

    @transaction.atomic
    def handle(self, *args, **options):
        create_demo_users()
        patients = create_demo_patients()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {len(patients)} patients."))
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD}):")
        for username, _first, _last, role in DEMO_USERS:
            self.stdout.write(f"  {username:<10} {role}")
