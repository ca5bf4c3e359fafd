from django.db import migrations, models
from django.db.models import Case, Value, When

# The kinds in urgency order before and after "offer_taken" took its place after "reply_needs_attention".
# An open item's urgency is its kind's rank, stored when it opened: the open items of the kinds after the
# new one are ranked again so that old and new items sort together.
BEFORE = ["lapsed", "overdue", "no_show_rebook", "rems_form_due", "reschedule_request", "reply_needs_attention",
          "unconfirmed_tomorrow", "rems_enrolment_missing", "due_unbooked", "authorisation_ending",
          "authorisation_units_low", "authorisation_pending", "authorisation_denied", "stock_discrepancy"]
AFTER = BEFORE[:6] + ["offer_taken"] + BEFORE[6:]

KIND_CHOICES = [
    ("lapsed", "Lapsed course"), ("overdue", "Overdue visit"), ("no_show_rebook", "No-show to rebook"),
    ("rems_form_due", "REMS form due"), ("reschedule_request", "Asked for a new time"),
    ("reply_needs_attention", "Reply to read"), ("offer_taken", "Offer taken"),
    ("unconfirmed_tomorrow", "Unconfirmed for tomorrow"), ("rems_enrolment_missing", "REMS enrolment missing"),
    ("due_unbooked", "Due, not booked"), ("authorisation_ending", "Authorisation ending"),
    ("authorisation_units_low", "Authorisation units low"), ("authorisation_pending", "Authorisation pending"),
    ("authorisation_denied", "Authorisation denied"), ("stock_discrepancy", "Stock count to explain"),
]


def _rank_open_items(order):
    def rank(apps, schema_editor):
        WorkItem = apps.get_model("scheduling", "WorkItem")
        WorkItem.objects.filter(closed_at__isnull=True, kind__in=order).update(
            urgency=Case(*(When(kind=kind, then=Value(rank)) for rank, kind in enumerate(order)),
                         output_field=models.PositiveSmallIntegerField()))
    return rank


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0014_freed_chair_offers")]

    operations = [
        migrations.AlterField(
            model_name="workitem",
            name="kind",
            field=models.CharField(choices=KIND_CHOICES, max_length=24),
        ),
        migrations.AlterField(
            model_name="workitemevent",
            name="kind",
            field=models.CharField(choices=KIND_CHOICES, max_length=24),
        ),
        migrations.RunPython(_rank_open_items(AFTER), _rank_open_items(BEFORE)),
    ]
