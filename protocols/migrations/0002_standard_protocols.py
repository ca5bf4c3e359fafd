"""Install the four protocols of docs/DOMAIN.md "Protocols".

The numbers are written here, frozen as they were when this migration was
made: a migration must install the same data whenever it runs, so it reads
nothing from live code that a later change could edit (a fresh install would
silently differ from every existing one). ``tests/protocols/test_protocol_data.py``
proves the installed schedules equal ``protocols.due.STANDARD_PROTOCOLS``, so
the engine's tests and the data still describe the same schedules. The session
settings (chair time, observation, doses) come from docs/DOMAIN.md
"Treatments". Managers change a protocol later by copying it as a new
version, never by editing this migration.
"""

from decimal import Decimal

from django.db import migrations


ESKETAMINE = {"modality": "esketamine_nasal", "chair_minutes": 150, "observation_minutes": 120}
IV = {"modality": "ketamine_iv", "chair_minutes": 90, "observation_minutes": 30, "iv_mg_per_kg": Decimal("0.50")}

SETTINGS = {
    "esketamine-trd": {
        "name": "Esketamine for treatment-resistant depression",
        **ESKETAMINE,
        "first_dose_mg": 56,
        "allowed_doses_mg": [56, 84],
        "requires_prior_56_for_84": True,
    },
    "esketamine-mdsi": {
        "name": "Esketamine for MDD with acute suicidal ideation",
        **ESKETAMINE,
        # 84 mg; 56 mg allowed when 84 is not tolerated.
        "first_dose_mg": 84,
        "allowed_doses_mg": [56, 84],
        "requires_prior_56_for_84": False,
    },
    "ketamine-iv-series": {"name": "IV ketamine: six infusions over 2-3 weeks, then monthly boosters", **IV},
    "ketamine-iv-weekly": {"name": "IV ketamine: six weekly infusions, then monthly boosters", **IV},
}


# (name, sessions or None for open-ended, (earliest, target, target_alt, latest), weekly (earliest, target, latest))
PHASES = {
    "esketamine-trd": [
        ("Induction", 8, (2, 3, 4, 5), None),
        ("Maintenance weeks 5-8", 4, (5, 7, None, 10), None),
        ("Maintenance every 2 weeks", None, (10, 14, None, 18), (5, 7, 10)),
    ],
    "esketamine-mdsi": [
        ("Induction", 8, (2, 3, 4, 5), None),
    ],
    "ketamine-iv-series": [
        ("Induction", 6, (2, 2, 3, 5), None),
        ("Monthly boosters", None, (21, 28, None, 42), None),
    ],
    "ketamine-iv-weekly": [
        ("Induction", 6, (5, 7, None, 10), None),
        ("Monthly boosters", None, (21, 28, None, 42), None),
    ],
}
FIRST_SESSION_LATEST_DAYS = 7


def install(apps, schema_editor):
    Protocol = apps.get_model("protocols", "Protocol")
    Phase = apps.get_model("protocols", "Phase")
    for slug, phases in PHASES.items():
        protocol, created = Protocol.objects.get_or_create(
            slug=slug, defaults={**SETTINGS[slug], "first_session_latest_days": FIRST_SESSION_LATEST_DAYS}
        )
        if not created:
            continue
        for order, (name, sessions, (earliest, target, target_alt, latest), weekly) in enumerate(phases, start=1):
            Phase.objects.create(
                protocol=protocol,
                order=order,
                name=name,
                sessions=sessions,
                earliest_days=earliest,
                target_days=target,
                target_alt_days=target_alt,
                latest_days=latest,
                weekly_earliest_days=weekly[0] if weekly else None,
                weekly_target_days=weekly[1] if weekly else None,
                weekly_latest_days=weekly[2] if weekly else None,
            )


def uninstall(apps, schema_editor):
    apps.get_model("protocols", "Protocol").objects.filter(slug__in=list(SETTINGS), version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("protocols", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
