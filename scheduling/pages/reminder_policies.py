"""The manager's reminder policies: the policy in force at each site, and a page to change one.

A site without a saved policy texts on the clinic's defaults (``ReminderPolicy.for_location``);
the list says so for each site, and names what a changed policy changed. The form page edits
one site's policy under the rules of ``reminder_policy_form`` (400 with each refusal beside its
field), previews each text as a patient at the site would read it while the manager types (an
htmx post to ``reminder-policy-preview``), and restores the clinic's defaults. Managers only.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.roles import MANAGER, role_required
from scheduling.models import OPEN_REMINDER_STATES, Location, Reminder, ReminderPolicy
from scheduling.pages.reminder_policy_changes import policy_history, restore_defaults, save_policy
from scheduling.pages.reminder_policy_form import (
    TEXT_KINDS,
    TEXTS,
    ReminderPolicyForm,
    changed_fields,
    preview,
    sample_words,
)

PAGE_SIZE = 25
DONE = {
    "saved": "Saved: the reminders not yet on their way at this site follow this policy now, and so does every "
             "visit booked from now on.",
    "restored": "Restored: this site texts on the clinic's defaults again.",
}


def _site_row(location: Location, now) -> dict:
    policy = ReminderPolicy.for_location(location)
    return {
        "location": location,
        "policy": policy,
        "changed": changed_fields(policy),
        "previews": [preview(kind, getattr(policy, kind.field), location, now) for kind in TEXTS],
    }


@require_GET
@role_required(MANAGER)
def reminder_policies(request):
    """Every site with the policy in force: the clinic's defaults, or what its manager changed."""
    sites = Location.objects.select_related("reminder_policy").order_by("-active", "name")
    page = Paginator(sites, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    return render(request, "scheduling/pages/reminder_policies.html",
                  {"page": page, "rows": [_site_row(location, now) for location in page]})


def _described(form: ReminderPolicyForm, location: Location) -> ReminderPolicyForm:
    """Tie each field to its error and hint (screen readers read them with the field), and each text to its
    preview, refreshed as the manager types."""
    for name, field in form.fields.items():
        described = [f"id_{name}_helptext"] if field.help_text else []
        if name in form.errors:
            field.widget.attrs["aria-invalid"] = "true"
            described.append(f"id_{name}-error")
        if name in {kind.field for kind in TEXTS}:
            described.append("placeholders-hint")
        if described:
            field.widget.attrs["aria-describedby"] = " ".join(described)
    for kind in TEXTS:
        form.fields[kind.field].widget.attrs.update({
            "hx-post": reverse("reminder-policy-preview", args=[location.pk]),
            "hx-trigger": "input changed delay:300ms",
            "hx-vals": f'{{"kind": "{kind.name}"}}',
            "hx-target": f"#preview-{kind.name}",
            "hx-swap": "outerHTML",
            "hx-sync": "this:replace",
            "data-testid": f"template-{kind.name}",
        })
    return form


def _render_form(request, location: Location, form: ReminderPolicyForm, *, status: int = 200, done: str = ""):
    now = timezone.now()
    policy = ReminderPolicy.for_location(location)
    values = form.data if form.is_bound else {kind.field: getattr(policy, kind.field) for kind in TEXTS}
    context = {
        "location": location,
        "form": _described(form, location),
        "changed": changed_fields(policy),
        "texts": [{"kind": kind, "field": form[kind.field],
                   "preview": preview(kind, values.get(kind.field, ""), location, now)} for kind in TEXTS],
        "sample_words": sample_words(location, now),
        # Reminders are planned at booking; a saved change plans those still waiting again
        # (``messaging.policy_changes``), and each takes the words, quiet hours and caps in force when it goes.
        "planned": Reminder.objects.filter(session__location=location, state__in=OPEN_REMINDER_STATES).count(),
        "history": policy_history(location),
        "done": done,
    }
    return render(request, "scheduling/pages/reminder_policy.html", context, status=status)


@require_http_methods(["GET", "POST"])
@role_required(MANAGER)
def reminder_policy(request, location_id: int):
    """One site's policy: GET the form (with previews), POST to save it (400 with the refusals beside fields)."""
    location = get_object_or_404(Location.objects.select_related("reminder_policy"), pk=location_id)
    if request.method == "GET":
        form = ReminderPolicyForm(instance=ReminderPolicy.for_location(location))
        return _render_form(request, location, form, done=DONE.get(request.GET.get("done", ""), ""))
    # A fresh row for the form to check: the policy in force is changed only by ``save_policy``, under its lock.
    form = ReminderPolicyForm(request.POST, instance=ReminderPolicy(location=location))
    if not form.is_valid():
        return _render_form(request, location, form, status=400)
    save_policy(by=request.user, location=location, values=form.cleaned_data)
    return redirect(f"{reverse('reminder-policy', args=[location.pk])}?done=saved")


@require_POST
@role_required(MANAGER)
def reminder_policy_preview(request, location_id: int):
    """One text (``kind``) as a patient at the site would read it; 400 with the reason when it could not be sent."""
    location = get_object_or_404(Location, pk=location_id)
    kind = TEXT_KINDS.get(request.POST.get("kind", ""))
    if kind is None:
        return render(request, "scheduling/pages/_reminder_policy_unknown.html",
                      {"kinds": ", ".join(TEXT_KINDS)}, status=400)
    shown = preview(kind, request.POST.get(kind.field, ""), location, timezone.now())
    return render(request, "scheduling/pages/_reminder_policy_preview.html", {"preview": shown, "announce": True},
                  status=400 if shown.problem else 200)


@require_POST
@role_required(MANAGER)
def reminder_policy_restore(request, location_id: int):
    """Put the site's policy back to the clinic's defaults."""
    location = get_object_or_404(Location, pk=location_id)
    restore_defaults(by=request.user, location=location)
    return redirect(f"{reverse('reminder-policy', args=[location.pk])}?done=restored")


urlpatterns = [
    path("manage/texts/", reminder_policies, name="reminder-policies"),
    path("manage/texts/<int:location_id>/", reminder_policy, name="reminder-policy"),
    path("manage/texts/<int:location_id>/preview/", reminder_policy_preview, name="reminder-policy-preview"),
    path("manage/texts/<int:location_id>/restore/", reminder_policy_restore, name="reminder-policy-restore"),
]
