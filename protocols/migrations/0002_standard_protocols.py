"""Install the four protocols of docs/DOMAIN.md "Protocols".

The phase spacing comes from ``due.STANDARD_PROTOCOLS`` so the engine's tests
and the installed data describe the same schedules; the session settings
(chair time, observation, doses) come from docs/DOMAIN.md "Treatments". Managers
change a protocol later by copying it as a new version, never by editing
this migration.
"""

from decimal import Decimal

from django.db import migrations

from protocols.due import STANDARD_PROTOCOLS

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


def install(apps, schema_editor):
    Protocol = apps.get_model("protocols", "Protocol")
    Phase = apps.get_model("protocols", "Phase")
    for slug, rule in STANDARD_PROTOCOLS.items():
        protocol, created = Protocol.objects.get_or_create(
            slug=slug, defaults={**SETTINGS[slug], "first_session_latest_days": rule.first_session_latest_days}
        )
        if not created:
            continue
        for order, phase in enumerate(rule.phases, start=1):
            weekly = phase.weekly_spacing
            Phase.objects.create(
                protocol=protocol,
                order=order,
                name=phase.name,
                sessions=phase.sessions,
                earliest_days=phase.spacing.earliest,
                target_days=phase.spacing.target,
                target_alt_days=phase.spacing.target_alt,
                latest_days=phase.spacing.latest,
                weekly_earliest_days=weekly.earliest if weekly else None,
                weekly_target_days=weekly.target if weekly else None,
                weekly_latest_days=weekly.latest if weekly else None,
            )


def uninstall(apps, schema_editor):
    apps.get_model("protocols", "Protocol").objects.filter(slug__in=list(SETTINGS), version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("protocols", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
