"""Consent to texts needs its method: existing consents without one are marked "not recorded", then a check.

A consent recorded before the method was required is kept (reminders go on as
the patient agreed) but says plainly that nobody wrote down how it was given;
the desk records the real method the next time the record is edited.
"""

from django.db import migrations, models

CHOICES = [
    ("verbal", "Verbal, recorded by staff"),
    ("written", "Signed form"),
    ("electronic", "Electronic form"),
    ("text_reply", "Replied START by text"),
    ("not_recorded", "Not recorded: consent given before the method was asked"),
]


def mark_consents_without_a_method(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    Patient.objects.filter(sms_consent=True, sms_consent_method="").update(sms_consent_method="not_recorded")


class Migration(migrations.Migration):

    dependencies = [
        ("patients", "0006_concomitant_medicines_yes_no_not_asked"),
    ]

    operations = [
        migrations.AlterField(
            model_name="patient",
            name="sms_consent_method",
            field=models.CharField(blank=True, choices=CHOICES, max_length=20),
        ),
        migrations.AlterField(
            model_name="patientevent",
            name="sms_consent_method",
            field=models.CharField(blank=True, choices=CHOICES, max_length=20),
        ),
        migrations.RunPython(mark_consents_without_a_method, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="patient",
            constraint=models.CheckConstraint(
                condition=models.Q(("sms_consent", False), models.Q(("sms_consent_method", ""), _negated=True),
                                   _connector="OR"),
                name="patient_consent_has_method",
            ),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(fields=["date_of_birth"], name="patient_date_of_birth"),
        ),
    ]
