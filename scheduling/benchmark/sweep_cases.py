"""The sweeps' hot paths: the due-visit sweep over every active course, and a day's reminders claimed."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from scheduling.benchmark.hot_path import Case, fetch
from scheduling.messaging import reminders
from scheduling.models import Reminder, ReminderState
from scheduling.worklist import course_views, sweep


class DueVisitSweep(Case):
    name = "due_visit_sweep"
    description = ("scheduling.refresh_worklist over every active course, in the steady state the hourly sweep "
                   "keeps (the generator ran the first one)")
    sweep = True

    def call(self, index):
        self.last = sweep.refresh_worklist()

    def floor(self, index):
        # What the sweep reads, as SQL with nothing built from it. Every active course with its patient's
        # texting and REMS facts and its sessions' dates, latest and next session: the sweep's own
        # statement, which is SQL already (it was an ORM query, two and a half times this floor's first
        # version, which read only the dates). Then each protocol's phases, the sites, the sessions
        # booked for the coming days, the REMS forms past day 5, and the open items.
        now = timezone.now()
        fetch(course_views.swept_sql(some=False), {"now": now})
        fetch("SELECT p.id, p.slug, ph.* FROM protocols_protocol p JOIN protocols_phase ph ON ph.protocol_id = p.id")
        fetch("SELECT l.id, l.time_zone, rp.* FROM scheduling_location l "
               "LEFT JOIN scheduling_reminderpolicy rp ON rp.location_id = l.id")
        fetch("SELECT s.id, s.patient_id, s.course_id, s.location_id, s.local_date, s.start FROM scheduling_session s "
               "WHERE s.status = 'booked' AND s.start >= %s AND s.start < %s AND s.location_id IS NOT NULL",
               [now, now + timedelta(days=3)])
        fetch("SELECT f.id, f.session_id, s.patient_id, s.course_id, s.location_id, s.local_date "
               "FROM scheduling_remsform f JOIN scheduling_session s ON s.id = f.session_id "
               "WHERE f.status <> 'submitted' AND s.local_date <= %s", [now.date() - timedelta(days=5)])
        fetch("SELECT w.id, w.kind, w.subject, w.course_id, c.status, w.session_id, s.status, w.location_id, "
               "w.due_on, w.detail, w.assigned_to_id FROM scheduling_workitem w "
               "LEFT JOIN protocols_treatmentcourse c ON c.id = w.course_id "
               "LEFT JOIN scheduling_session s ON s.id = w.session_id WHERE w.closed_at IS NULL")

    def extra(self):
        return {"active_courses": self.network.counts["active_courses"], "last_run": getattr(self, "last", None)}


class ReminderSweep(Case):
    name = "reminder_sweep"
    description = ("claim every reminder of the next day's sending (24 h from the next one due), in the "
                   "sweep's batches, and enqueue the sends")
    sweep = True

    def setup(self, count):
        # From the next reminder due rather than from now: on a Saturday afternoon nothing is due for a day.
        pending = Reminder.objects.filter(state=ReminderState.PENDING)
        first = pending.order_by("send_at").values_list("send_at", flat=True).first() or timezone.now()
        self.claimed: list[int] = []
        self.until = max(first, timezone.now()) + timedelta(hours=24)
        self.due = pending.filter(send_at__lte=self.until).count()

    def prepare(self, index):
        if self.claimed:
            Reminder.objects.filter(pk__in=self.claimed).update(state=ReminderState.PENDING, claimed_at=None)
            self.claimed = []

    def call(self, index):
        while True:
            batch = reminders.claim_due_reminders(now=self.until)
            self.claimed += batch
            if len(batch) < reminders.SWEEP_BATCH:
                break

    def floor(self, index):
        with transaction.atomic():
            fetch("""
                UPDATE scheduling_reminder SET state = 'queued', claimed_at = now()
                WHERE id IN (SELECT id FROM scheduling_reminder WHERE state = 'pending' AND send_at <= %s
                             ORDER BY priority DESC, send_at, id FOR UPDATE SKIP LOCKED)
                RETURNING id
            """, [self.until])
            transaction.set_rollback(True)

    def extra(self):
        return {"reminders_due_in_24h": self.due}
