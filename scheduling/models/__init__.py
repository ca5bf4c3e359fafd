"""Scheduling models, one module per concept; imported here so Django finds them."""

from scheduling.models.charting import (
    VITAL_LIMITS,
    Assessment,
    DeviceGiven,
    Dose,
    Respiratory,
    Severity,
    VitalSigns,
    VitalsKind,
)
from scheduling.models.messaging import (
    FORBIDDEN_WORDS,
    KIND_PRIORITY,
    OPEN_REMINDER_STATES,
    OUTREACH_PRIORITY,
    Direction,
    MessagePurpose,
    Outreach,
    Reminder,
    ReminderKind,
    ReminderPolicy,
    ReminderState,
    SmsSendSlot,
    TextMessage,
    forbidden_words_in,
    validate_template,
)
from scheduling.models.offers import OPEN_OFFER_STATES, Offer, OfferState, OfferText
from scheduling.models.outcomes import SessionMeasure
from scheduling.models.rems import RemsForm, RemsFormQuerySet, RemsFormStatus
from scheduling.models.sessions import (
    RELEASED_STATUSES,
    STANDING,
    UPCOMING_STATUSES,
    CalendarFeed,
    LeftBeforeDischarge,
    Session,
    SessionNumber,
    SessionQuerySet,
    SessionStatus,
    TsTzRange,
)
from scheduling.models.sites import Chair, Closure, Location, LocationQuerySet, OpeningHours
from scheduling.models.stock import (
    KIT_SIZES,
    PRODUCT_KIND_FOR_MODALITY,
    Discrepancy,
    EntryKind,
    LedgerEntry,
    Lot,
    Product,
    ProductKind,
    StockUnit,
)
from scheduling.models.worklist import (
    COMPUTED_KINDS,
    URGENCY,
    WorkItem,
    WorkItemQuerySet,
    WorkKind,
    WorklistRefresh,
)

__all__ = [
    "FORBIDDEN_WORDS", "KIND_PRIORITY", "OPEN_REMINDER_STATES", "OUTREACH_PRIORITY", "Direction", "MessagePurpose",
    "Outreach", "Reminder", "ReminderKind", "ReminderPolicy", "ReminderState", "SmsSendSlot", "TextMessage",
    "forbidden_words_in", "validate_template", "COMPUTED_KINDS", "URGENCY", "WorkItem", "WorkItemQuerySet",
    "WorkKind", "WorklistRefresh",
    "VITAL_LIMITS", "Assessment", "DeviceGiven", "Dose", "LeftBeforeDischarge", "Respiratory", "Severity",
    "VitalSigns", "VitalsKind",
    "RemsForm", "RemsFormQuerySet", "RemsFormStatus", "SessionMeasure",
    "RELEASED_STATUSES", "STANDING", "UPCOMING_STATUSES", "CalendarFeed", "Chair", "Closure", "Location",
    "LocationQuerySet", "OpeningHours", "Session", "SessionNumber", "SessionQuerySet", "SessionStatus", "TsTzRange",
    "KIT_SIZES", "PRODUCT_KIND_FOR_MODALITY", "Discrepancy", "EntryKind", "LedgerEntry", "Lot", "Product",
    "ProductKind", "StockUnit",
    "OPEN_OFFER_STATES", "Offer", "OfferState", "OfferText",
]
