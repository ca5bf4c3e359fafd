"""How the reminder pipeline stands: counts by state, the oldest pending, stuck sends, unknowns."""

from django.core.management.base import BaseCommand
from django.db.models import Count, Min
from django.utils import timezone

from scheduling.messaging import jobs
from scheduling.models import Reminder, ReminderState
from scheduling.tasks import reap_reminders_task


class Command(BaseCommand):
    help = ("Reminders by state, the oldest pending, sends stuck in `sending`, and unknowns a person must check; "
            "--reap returns stuck sends to the queue (or to `unknown` when the provider may have been called).")

    def add_arguments(self, parser):
        parser.add_argument("--reap", action="store_true", help="Run the reaper for stuck reminders first.")

    def handle(self, *args, reap: bool = False, **options):
        now = timezone.now()
        if reap:
            # The reap task, not the bare reaper: it also publishes the sends it recovered.
            reaped = reap_reminders_task()["reminders"]
            self.stdout.write(f"Reaped: {reaped['requeued']} back to queued, {reaped['unknown']} to unknown, "
                              f"{reaped['re_enqueued']} queued again.")
        counts = dict(Reminder.objects.order_by().values_list("state").annotate(n=Count("id")))
        self.stdout.write("Reminders by state:")
        for state in ReminderState:
            self.stdout.write(f"  {state.value:<8} {counts.get(state.value, 0)}")
        oldest = Reminder.objects.filter(state=ReminderState.PENDING).aggregate(at=Min("send_at"))["at"]
        if oldest is None:
            self.stdout.write("Oldest pending: none")
        else:
            late = " (overdue: is beat running?)" if oldest < now - jobs.lease() else ""
            self.stdout.write(f"Oldest pending: send at {oldest:%Y-%m-%d %H:%M} UTC{late}")
        lease = jobs.lease()
        stuck = Reminder.objects.filter(state=ReminderState.SENDING, claimed_at__lt=now - lease).count()
        self.stdout.write(f"Stuck sending (claimed over {int(lease.total_seconds())} seconds ago): {stuck}")
        unknown = counts.get(ReminderState.UNKNOWN.value, 0)
        style = self.style.WARNING if unknown else str
        self.stdout.write(style(f"Unknown (check the provider, then settle each): {unknown}"))
