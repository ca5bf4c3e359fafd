"""The outbox page: the texts the ``outbox`` backend kept, and a box to answer each as the patient.

A simulated reply goes through ``inbound.handle_inbound``, the same code a
real text from the provider's webhook runs, so the demo shows what a patient's
C, R, STOP or HELP really does.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from clinic.models import OutboxMessage
from clinic.phones import InvalidPhone, to_e164
from clinic.roles import role_required
from scheduling.messaging import inbound
from scheduling.messaging import outbox as outbox_texts

PAGE_SIZE = 50


def _outbox_context(request, *, result: inbound.InboundResult | None = None, error: str = "",
                    replied: str = "") -> dict:
    page = Paginator(OutboxMessage.objects.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return {"page": page, "entries": outbox_texts.outbox_entries(list(page)), "result": result, "error": error,
            "replied": replied, "outbox_on": True}


@role_required()
def outbox(request):
    """Texts "sent" by the outbox backend, newest first; htmx swaps in just the list."""
    if settings.SMS_BACKEND != "outbox":
        return render(request, "scheduling/outbox.html", {"outbox_on": False, "backend": settings.SMS_BACKEND})
    template = "scheduling/_outbox_list.html" if request.htmx else "scheduling/outbox.html"
    return render(request, template, _outbox_context(request))


@require_POST
@role_required()
def outbox_reply(request):
    """Answer a text as the patient; htmx gets the refreshed list with what the reply did."""
    if settings.SMS_BACKEND != "outbox":
        raise Http404("There is no outbox: texts go to the SMS provider.")
    body = request.POST.get("body", "").strip()
    error, result = "", None
    try:
        phone = to_e164(request.POST.get("to", ""))
    except InvalidPhone as exc:
        phone, error = "", str(exc)
    if not error and not phone:
        error = "Choose the text to answer."
    if not error and not body:
        error = "Type the patient's reply, e.g. C, R, STOP or HELP."
    if not error:
        result = outbox_texts.simulate_reply(phone=phone, body=body)
    if request.htmx:
        return render(request, "scheduling/_outbox_list.html", _outbox_context(request, result=result, error=error,
                                                                                  replied=body))
    # A plain form post redirects, so reloading the page cannot send the reply twice.
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Simulated reply “{body}”: {result.label.lower()}.")
    return redirect("outbox")
