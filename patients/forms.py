"""The patient form of the web pages: it reads and types what was typed, nothing more.

The rules (required names, age, phone format, consent needs a phone and a
method, REMS needs both date and ID) live in ``Patient.clean()`` and run inside
``services.create_patient`` / ``update_patient``, exactly as for the API. The
form asks ``services.field_errors`` about every field it could read, so a
desk sees every error at once (a date it cannot read and a phone the rules
refuse, together), in the API's words.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import ValidationError

from clinic.phones import for_display, typing_hint
from patients import services
from patients.models import CONSENT_NOT_RECORDED, MEDICINE_FIELDS, SCREENING_FIELDS, MedicineAnswer, Patient

IDENTITY_FIELDS = ("first_name", "last_name", "preferred_name", "date_of_birth", "sex")
CONTACT_FIELDS = ("phone", "email", "sms_consent", "sms_consent_method")
REMS_FIELDS = ("rems_enrolled_on", "rems_patient_id")
EMERGENCY_FIELDS = ("emergency_contact_name", "emergency_contact_phone")
FORM_FIELDS = (*IDENTITY_FIELDS, *CONTACT_FIELDS, "diagnosis", *SCREENING_FIELDS, *MEDICINE_FIELDS, *REMS_FIELDS,
               *EMERGENCY_FIELDS, "notes")

# Clearer words than the model's field names where those read oddly on a form.
LABELS = {
    "phone": "Mobile phone",
    "sms_consent": "Consents to text messages (reminders)",
    "sms_consent_method": "How consent was given",
    "preferred_name": "Preferred name (optional)",
}

PHONE_FIELDS = ("phone", "emergency_contact_phone")
DATE_FIELDS = ("date_of_birth", "rems_enrolled_on")  # neither can be later than today at the patient's home

# Fields the model may leave blank in the form: their "required" message comes
# from Patient.clean(), the API's wording, not from the form.
_CHECKED_BY_THE_MODEL = ("first_name", "last_name")


class PatientForm(forms.Form):
    """Every field staff edit on a patient record, grouped for the page's fieldsets."""

    fieldsets = (
        ("Identity", IDENTITY_FIELDS),
        ("Contact and text messages", CONTACT_FIELDS),
        ("Diagnosis and screening", ("diagnosis", *SCREENING_FIELDS)),
        ("Medicines (for the REMS form)", MEDICINE_FIELDS),
        ("REMS enrolment", REMS_FIELDS),
        ("Emergency contact", EMERGENCY_FIELDS),
        ("Notes", ("notes",)),
    )

    def __init__(self, *args, patient: Patient | None = None, by=None, today: date | None = None, **kwargs):
        """``patient`` is the record being edited (None for a new one), ``by`` who edits, ``today`` the home date."""
        self.patient, self.by = patient, by
        super().__init__(*args, **kwargs)
        self.fields.update(forms.fields_for_model(
            Patient, fields=FORM_FIELDS,
            widgets={
                "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                "rems_enrolled_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
                "emergency_contact_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
                "notes": forms.Textarea(attrs={"rows": 3}),
            },
            labels=LABELS,
        ))
        for name in _CHECKED_BY_THE_MODEL:
            self.fields[name].required = False
        # Yes / no / not asked: a form that leaves one out has not asked it.
        for name in MEDICINE_FIELDS:
            self.fields[name].required = False
        for name, field in self.fields.items():
            field.label = (field.label or name)[:1].upper() + (field.label or name)[1:]
        for name in PHONE_FIELDS:
            self.fields[name].help_text = typing_hint()
            if self.initial.get(name):  # shown as the desk would type it, stored as E.164 again on save
                self.initial[name] = for_display(self.initial[name])
        if today is not None:
            for name in DATE_FIELDS:
                self.fields[name].widget.attrs["max"] = today.isoformat()
        method = self.fields["sms_consent_method"]
        method.help_text = "Required when the patient consents."
        if patient is None or patient.sms_consent_method != CONSENT_NOT_RECORDED:
            method.choices = [choice for choice in method.choices if choice[0] != CONSENT_NOT_RECORDED]

    def clean(self):
        cleaned = super().clean()
        for name in MEDICINE_FIELDS:
            if not cleaned.get(name):
                cleaned[name] = MedicineAnswer.NOT_ASKED
        return cleaned

    def _post_clean(self):
        # The service's rules for every field that could be read, beside the fields that could not:
        # one answer with every error, not one pass for the form and another for the rules.
        found = services.field_errors(values=self.cleaned_data, patient=self.patient, by=self.by,
                                      unreadable=set(self.errors))
        for name, messages in found.items():
            self.add_error(name if name in self.fields else None, messages)

    def groups(self):
        """The fieldsets as (legend, bound fields) for the template."""
        return [(legend, [self[name] for name in names]) for legend, names in self.fieldsets]

    def add_service_errors(self, error: ValidationError) -> None:
        """Put a service's ``ValidationError`` (from ``Patient.clean()``) on the fields it names."""
        details = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        for name, messages in details.items():
            self.add_error(name if name in self.fields else None, messages)
