"""The Staff page's forms: a staff member's details, roles, prescriber mark and sites; a new account's password;
a new password for someone who forgot theirs.

Passwords are checked by the project's password validators (``AUTH_PASSWORD_VALIDATORS``: at
least 12 characters, not common, not all digits, not like the username, names or email), the
same rules as anywhere else in the system.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError

from clinic.roles import ALL_ROLES, MANAGER, PRESCRIBER, ROLE_LABELS
from scheduling.models import Location
from scheduling.pages.staff_changes import StaffValues

User = get_user_model()

ROLE_HELP = {
    "front_desk": "books, moves and cancels sessions, works the worklist",
    "clinician": "records sessions, doses and REMS forms",
    MANAGER: "runs the clinic: sites, staff, protocols, texts, audit",
}


class SiteChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, location: Location) -> str:
        return location.name if location.active else f"{location.name} (inactive site)"


class StaffForm(forms.Form):
    first_name = forms.CharField(max_length=150, label="First name")
    last_name = forms.CharField(max_length=150, label="Last name")
    email = forms.EmailField(required=False, label="Email", help_text="Optional.")
    roles = forms.MultipleChoiceField(
        choices=[(role, f"{ROLE_LABELS[role]}: {ROLE_HELP[role]}") for role in ALL_ROLES],
        widget=forms.CheckboxSelectMultiple, label="Roles",
        error_messages={"required": "Choose at least one role."},
    )
    prescriber = forms.BooleanField(
        required=False, label="Prescriber",
        help_text="Clinicians only: may be named as the prescriber on site when an esketamine dose is recorded "
                  "(REMS).",
    )
    sites = SiteChoice(queryset=Location.objects.order_by("-active", "name"), required=False,
                       widget=forms.CheckboxSelectMultiple, label="Sites",
                       help_text="Where this person works: clinicians here are offered for that site's bookings.")

    def values(self) -> StaffValues:
        data = self.cleaned_data
        return StaffValues(first_name=data["first_name"].strip(), last_name=data["last_name"].strip(),
                           email=data.get("email") or "", roles=frozenset(data["roles"]),
                           prescriber=bool(data.get("prescriber")),
                           sites=frozenset(site.pk for site in data.get("sites") or ()))

    @classmethod
    def initial_for(cls, user) -> dict:
        groups = set(user.groups.values_list("name", flat=True))
        return {"first_name": user.first_name, "last_name": user.last_name, "email": user.email,
                "roles": sorted(groups & set(ALL_ROLES)),
                "prescriber": PRESCRIBER in groups, "sites": list(user.clinic_locations.all())}

    def clean(self):
        data = super().clean()
        if data.get("prescriber") and "roles" in data and "clinician" not in data["roles"]:
            self.add_error("prescriber", "Only a clinician can be marked as a prescriber.")
        return data


class NewStaffForm(StaffForm):
    username = forms.CharField(max_length=150, label="Username", validators=[User.username_validator],
                               help_text="What they type to sign in: letters, digits and @ . + - _ only.")
    password1 = forms.CharField(label="Initial password", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=" ".join(password_validation.password_validators_help_texts()))
    password2 = forms.CharField(label="Initial password again", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    field_order = ["username", "first_name", "last_name", "email", "password1", "password2", "roles",
                   "prescriber", "sites"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(f"“{username}” is already a username here.")
        return username

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            candidate = User(username=data.get("username", ""), first_name=data.get("first_name", ""),
                             last_name=data.get("last_name", ""), email=data.get("email", ""))
            try:
                password_validation.validate_password(first, candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return data


class NewPasswordForm(forms.Form):
    """A new password for an existing staff member, checked against that user's username, names and email."""

    new_password1 = forms.CharField(label="New password", strip=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                    help_text=" ".join(password_validation.password_validators_help_texts()))
    new_password2 = forms.CharField(label="New password again", strip=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        first, second = data.get("new_password1"), data.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", "The two passwords differ.")
        elif first:
            try:
                password_validation.validate_password(first, self.user)
            except ValidationError as error:
                self.add_error("new_password1", error)
        return data


class StaffFilter(forms.Form):
    """The list's filters; an unknown value is ignored rather than refused (a bookmarked address stays usable)."""

    role = forms.ChoiceField(required=False, label="Role",
                             choices=[("", "Any role"), *[(role, ROLE_LABELS[role]) for role in ALL_ROLES],
                                      (PRESCRIBER, "Prescribers")])
    site = forms.ModelChoiceField(queryset=Location.objects.order_by("-active", "name"), required=False,
                                  label="Site", empty_label="Any site")
    active = forms.ChoiceField(required=False, label="Accounts", initial="yes",
                               choices=[("yes", "Active"), ("no", "Deactivated"), ("all", "All")])

    def filters(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"role": data.get("role") or "", "site": data.get("site"),
                "active": data.get("active") or "yes"}
