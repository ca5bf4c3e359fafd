"""The manager's Protocols pages: each protocol's phases and rules in the clinic's words, and its edits.

What may change, and why, is in ``protocol_forms``: a name and whether new courses are offered it,
a copy as a new version, and a draft version's settings and phases. Every edit goes through
``protocols.services`` (the admin's own checks); a refusal re-draws the page with the reason
beside what was sent: 400 for a value, 409 when the protocol is followed by a course (or was, by
the time the form came back).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from clinic.errors import ClinicError, Conflict
from clinic.roles import MANAGER, role_required
from protocols import services
from protocols.models import Protocol
from protocols.models.schedules import ESKETAMINE_MIN_OBSERVATION_MINUTES
from scheduling.pages.protocol_forms import (
    NameForm,
    PhaseFormSet,
    SettingsForm,
    may_edit_settings,
    phase_initial,
    phase_words,
    short_spacing,
)

DONE = {
    "renamed": "Saved.",
    "copied": "This is the new version, not offered for new courses yet: change what it needs, then offer it "
              "and stop offering the version it replaces.",
    "settings": "Settings saved.",
    "phases": "Phases saved.",
}


def _protocols():
    return Protocol.objects.with_phases().select_related("previous_version").annotate(course_count=Count("courses"))


@require_GET
@role_required(MANAGER)
def protocol_list(request):
    """Every protocol, by treatment and slug: its phases with their spacing, whether it is offered."""
    protocols = list(_protocols().order_by("modality", "slug"))
    rows = [{"protocol": protocol, "phases": [(phase, short_spacing(phase)) for phase in protocol.phases.all()]}
            for protocol in protocols]
    return render(request, "scheduling/pages/protocol_list.html", {"rows": rows})


def _protocol(protocol_id: int) -> Protocol:
    return get_object_or_404(_protocols(), pk=protocol_id)


def _detail(request, protocol: Protocol, *, acted: str = "", error: ClinicError | None = None, name_form=None,
            settings_form=None, phase_forms=None, status: int = 200):
    editable = may_edit_settings(protocol)
    context = {
        "protocol": protocol,
        "phases": [phase_words(phase) for phase in protocol.phases.all()],
        "in_use": protocol.course_count > 0,
        "editable": editable,
        "next_versions": list(protocol.next_versions.order_by("version")),
        "name_form": name_form or NameForm(initial={"name": protocol.name, "active": protocol.active,
                                                    "requires_authorisation": protocol.requires_authorisation}),
        "settings_form": settings_form or (SettingsForm(protocol=protocol) if editable else None),
        "phase_forms": phase_forms or (PhaseFormSet(initial=phase_initial(protocol), prefix="phases")
                                       if editable else None),
        "esketamine_floor": ESKETAMINE_MIN_OBSERVATION_MINUTES,
        "acted": acted,
        "error": error,
        "done": DONE.get(request.GET.get("done", ""), ""),
    }
    return render(request, "scheduling/pages/protocol_detail.html", context, status=status)


@require_GET
@role_required(MANAGER)
def protocol_detail(request, protocol_id: int):
    """A protocol: its phases and rules in words, and the edits a manager may make to it."""
    return _detail(request, _protocol(protocol_id))


def _done(protocol: Protocol, what: str):
    return redirect(f"{reverse('protocol-detail', args=[protocol.pk])}?done={what}")


def _add_errors(form, error: ValidationError) -> None:
    """The model's refusal (``full_clean`` in the service) beside the fields it names."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


@require_POST
@role_required(MANAGER)
def protocol_rename(request, protocol_id: int):
    """Change the name, whether new courses are offered the protocol and whether its bookings need a prior
    authorisation (allowed even once in use)."""
    protocol = _protocol(protocol_id)
    form = NameForm(request.POST)
    if not form.is_valid():
        return _detail(request, protocol, acted="name", name_form=form, status=400)
    try:
        services.update_protocol(by=request.user, protocol=protocol,
                                 changes={"name": form.cleaned_data["name"].strip(),
                                          "active": form.cleaned_data["active"],
                                          "requires_authorisation": form.cleaned_data["requires_authorisation"]})
    except ValidationError as error:
        _add_errors(form, error)
        return _detail(request, protocol, acted="name", name_form=form, status=400)
    except ClinicError as error:
        return _detail(request, protocol, acted="name", name_form=form, error=error, status=error.status)
    return _done(protocol, "renamed")


@require_POST
@role_required(MANAGER)
def protocol_copy(request, protocol_id: int):
    """Copy the protocol and its phases as its next version, inactive, and open the copy."""
    copy = services.copy_protocol_as_new_version(by=request.user, protocol=_protocol(protocol_id))
    return _done(copy, "copied")


def _still_draft(protocol: Protocol) -> None:
    if protocol.previous_version_id is None:
        raise Conflict("The protocols installed with the system change only through a copy: copy it as a new "
                       "version and edit the copy.", code="protocol_installed")


@require_POST
@role_required(MANAGER)
def protocol_settings(request, protocol_id: int):
    """A draft version's session settings, thresholds and dose rules."""
    protocol = _protocol(protocol_id)
    form = SettingsForm(request.POST, protocol=protocol)
    try:
        _still_draft(protocol)
        if not form.is_valid():
            return _detail(request, _protocol(protocol_id), acted="settings", settings_form=form, status=400)
        services.update_protocol(by=request.user, protocol=protocol, changes=form.changes())
    except ValidationError as error:
        _add_errors(form, error)
        return _detail(request, _protocol(protocol_id), acted="settings", settings_form=form, status=400)
    except ClinicError as error:
        return _detail(request, _protocol(protocol_id), acted="settings", error=error, status=error.status)
    return _done(protocol, "settings")


@require_POST
@role_required(MANAGER)
def protocol_phases(request, protocol_id: int):
    """Replace a draft version's phases with those sent, in their order (blank and deleted rows left out)."""
    protocol = _protocol(protocol_id)
    forms = PhaseFormSet(request.POST, prefix="phases")
    try:
        _still_draft(protocol)
        if not forms.is_valid():
            return _detail(request, protocol, acted="phases", phase_forms=forms, status=400)
        kept = [form.values() for form in forms.forms
                if form.has_changed() and form.cleaned_data and not form.cleaned_data.get("DELETE")]
        services.update_protocol_phases(by=request.user, protocol=protocol, phases=kept)
    except ValidationError as error:
        forms.non_form_errors().extend(error.messages)
        return _detail(request, protocol, acted="phases", phase_forms=forms, status=400)
    except ClinicError as error:
        return _detail(request, _protocol(protocol_id), acted="phases", phase_forms=forms, error=error,
                       status=error.status)
    return _done(protocol, "phases")


urlpatterns = [
    path("manage/protocols/", protocol_list, name="protocol-list"),
    path("manage/protocols/<int:protocol_id>/", protocol_detail, name="protocol-detail"),
    path("manage/protocols/<int:protocol_id>/name/", protocol_rename, name="protocol-rename"),
    path("manage/protocols/<int:protocol_id>/copy/", protocol_copy, name="protocol-copy"),
    path("manage/protocols/<int:protocol_id>/settings/", protocol_settings, name="protocol-settings"),
    path("manage/protocols/<int:protocol_id>/phases/", protocol_phases, name="protocol-phases"),
]
