"""The Protocols pages' words and forms: a protocol's phases and rules in the clinic's words, and its edits.

What a manager may change here is what the admin lets a manager change, with the same checks
(``protocols.services``, which run the models' ``full_clean`` and constraints), and no more:

- every protocol: its name, whether it is offered for new courses and whether its bookings need a prior
  authorisation (``EDITABLE_WHEN_IN_USE``);
- every protocol: a copy as a new version, inactive, to edit instead (the admin's action);
- a version the clinic made (a copy) that no course follows yet: its session settings,
  thresholds, dose rules and phases. The protocols installed by migration keep the label's
  and the clinic's published schedules (docs/DOMAIN.md): they change only through a copy.
"""

from __future__ import annotations

from django import forms

from protocols.models import Modality, Phase, Protocol

# The settings a manager edits on a draft version, in the page's order (the admin's fieldsets, less the
# slug and treatment: the copy keeps its original's treatment and its own version slug).
SETTINGS_FIELDS = ("chair_minutes", "observation_minutes", "first_session_latest_days", "bp_systolic_max",
                   "bp_diastolic_max", "spo2_min")
DOSE_FIELDS = {
    Modality.ESKETAMINE_NASAL: ("first_dose_mg", "allowed_doses_mg", "requires_prior_56_for_84"),
    Modality.KETAMINE_IV: ("iv_mg_per_kg",),
}
PHASE_FIELDS = ("name", "sessions", "earliest_days", "target_days", "target_alt_days", "latest_days",
                "weekly_earliest_days", "weekly_target_days", "weekly_latest_days")


def _days(value: int) -> str:
    return f"{value} day{'s' if value != 1 else ''}"


def spacing_words(earliest: int, target: int, latest: int, target_alt: int | None = None) -> str:
    """``2 to 5 days after the previous session, aiming for 3 or 4 (alternating)``."""
    aim = f"{target} or {target_alt}, alternating" if target_alt else _days(target)
    return f"{earliest} to {_days(latest)} after the previous session, aiming for {aim}"


def phase_words(phase: Phase) -> dict:
    """A phase in the clinic's words: how many sessions, the gap before each, the weekly option."""
    count = ("open-ended: runs until the course ends" if phase.sessions is None
             else f"{phase.sessions} session{'s' if phase.sessions != 1 else ''}")
    weekly = ""
    if phase.weekly_earliest_days is not None:
        weekly = ("When a clinician switches the course to weekly: "
                  + spacing_words(phase.weekly_earliest_days, phase.weekly_target_days, phase.weekly_latest_days))
    return {"phase": phase, "count": count,
            "spacing": spacing_words(phase.earliest_days, phase.target_days, phase.latest_days,
                                     phase.target_alt_days),
            "weekly": weekly}


def short_spacing(phase: Phase) -> str:
    """``2–5 d (3/4)``: the list's compact spacing."""
    aim = f"{phase.target_days}/{phase.target_alt_days}" if phase.target_alt_days else str(phase.target_days)
    return f"{phase.earliest_days}–{phase.latest_days} days, target {aim}"


def may_edit_settings(protocol: Protocol) -> bool:
    """A version the clinic made that no course follows: its settings and phases are still a draft."""
    return protocol.previous_version_id is not None and not protocol.is_in_use()


class NameForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name")
    active = forms.BooleanField(required=False, label="Offered for new courses",
                               help_text="Courses already on it go on either way.")
    requires_authorisation = forms.BooleanField(
        required=False, label="Bookings need a prior authorisation",
        help_text="Its courses' bookings are checked against their payers' approvals.")


class SettingsForm(forms.ModelForm):
    """A draft version's session settings, thresholds and dose rules (its treatment's only)."""

    class Meta:
        model = Protocol
        fields = (*SETTINGS_FIELDS, *DOSE_FIELDS[Modality.ESKETAMINE_NASAL], *DOSE_FIELDS[Modality.KETAMINE_IV])

    def __init__(self, *args, protocol: Protocol, **kwargs):
        super().__init__(*args, instance=protocol, **kwargs)
        for modality, names in DOSE_FIELDS.items():
            if modality != protocol.modality:
                for name in names:
                    del self.fields[name]

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data if name in self.cleaned_data}


class PhaseForm(forms.ModelForm):
    """One phase of a draft version; its own checks (earliest ≤ target ≤ latest...) are the model's."""

    class Meta:
        model = Phase
        fields = PHASE_FIELDS

    def values(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in PHASE_FIELDS}

    def clean(self):
        """The model's constraints (which still decide) said in words beside the field they concern."""
        data = super().clean()
        earliest, target, latest = (data.get(name) for name in ("earliest_days", "target_days", "latest_days"))
        if earliest is not None and earliest < 1:
            self.add_error("earliest_days", "At least 1 day: two sessions of a course are never on the same day.")
        if None not in (earliest, target, latest) and not earliest <= target <= latest:
            self.add_error("target_days", "The target must lie between the earliest and the latest day.")
        alt = data.get("target_alt_days")
        if alt is not None and None not in (target, latest) and not target < alt <= latest:
            self.add_error("target_alt_days", "The alternating target is above the target and at most the latest day.")
        weekly = [data.get(name) for name in ("weekly_earliest_days", "weekly_target_days", "weekly_latest_days")]
        if any(value is not None for value in weekly):
            if None in weekly:
                self.add_error("weekly_earliest_days", "Give the weekly earliest, target and latest days, or none.")
            elif not 1 <= weekly[0] <= weekly[1] <= weekly[2]:
                self.add_error("weekly_target_days", "Weekly days run earliest ≤ target ≤ latest, from 1 day.")
        return data


PhaseFormSet = forms.formset_factory(PhaseForm, extra=1, can_delete=True, max_num=12, validate_max=True)


def phase_initial(protocol: Protocol) -> list[dict]:
    return [{name: getattr(phase, name) for name in PHASE_FIELDS} for phase in protocol.phases.all()]
