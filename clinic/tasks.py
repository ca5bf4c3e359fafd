"""Housekeeping tasks that belong to no one app."""

from celery import shared_task
from django.core.management import call_command


@shared_task(name="clinic.clear_expired_sessions")
def clear_expired_sessions_task() -> None:
    """Drop expired web sessions so the session table stays small."""
    call_command("clearsessions")
