"""What beat's sweeps and the workers do, run in the test's own process: claim what is due, then send it."""

from __future__ import annotations

from datetime import datetime

import time_machine

from scheduling.messaging import outreach, reminders
from scheduling.models import Reminder
from scheduling.tasks import send_reminder_task


def reminder(session, kind) -> Reminder:
    """The session's reminder of ``kind`` for its current time (a moved session has new ones)."""
    return Reminder.objects.get(session=session, kind=kind, revision=session.revision)


def due_and_send(at: datetime) -> list[str]:
    """Move the clock to ``at``, sweep the reminders, and run each send task as a worker would; their states."""
    with time_machine.travel(at, tick=False):
        return [send_reminder_task(reminder_id) for reminder_id in reminders.claim_due_reminders()]


def send_due_outreach() -> list[str | None]:
    """Claim the due-visit texts that are due now and send each; their states."""
    return [outreach.send_claimed(outreach_id) for outreach_id in outreach.claim_due_outreach()]
