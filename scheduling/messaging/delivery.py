"""The provider's delivery reports on the texts it sent."""

from __future__ import annotations

import logging

from django.db import transaction

from scheduling.models import (
    Direction,
    Outreach,
    Reminder,
    TextMessage,
)

logger = logging.getLogger(__name__)


# A provider may report these out of order; an earlier, non-final status never overwrites a final one.
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "read", "canceled"})
NOT_DELIVERED = frozenset({"failed", "undelivered"})


def record_delivery_status(*, provider_id: str, status: str, error_code: str = "") -> int:
    """Record the provider's delivery status on the text it sent; returns how many messages changed.

    A failed or undelivered reminder stays ``sent`` (it left; re-sending
    blindly could text twice) and its reason says what the carrier reported.
    """
    status = (status or "").strip().lower()[:20]
    if not provider_id or not status:
        return 0
    messages = TextMessage.objects.filter(provider_id=provider_id, direction=Direction.OUTBOUND)
    if status not in FINAL_STATUSES:
        messages = messages.exclude(delivery_status__in=FINAL_STATUSES)
    with transaction.atomic():
        changed = messages.update(delivery_status=status)
        if status in NOT_DELIVERED:
            reason = f"the carrier reported the text {status}" + (f" (error {error_code})" if error_code else "")
            Reminder.objects.filter(provider_id=provider_id).update(reason=reason[:300])
            Outreach.objects.filter(provider_id=provider_id).update(reason=reason[:300])
    if not changed:
        logger.info("delivery status %s for a message we do not know or already settled", status)
    return changed
